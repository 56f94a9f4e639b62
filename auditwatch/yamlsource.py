"""Load YAML safely while remembering the line of every key, so errors can name file and line.

Only the safe subset of YAML is accepted (no tags that construct objects). Duplicate keys are an
error rather than silently overriding each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from auditwatch.errors import ConfigError

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlDocument:
    """Plain Python data from a YAML file plus where each part of it was written."""

    file: str
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)  # 1-based line of each key / item

    def line_of(self, path: PathKey) -> int | None:
        """Line of `path`, or of its nearest ancestor that has one."""
        probe = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), None)

    def error(self, path: PathKey, message: str) -> ConfigError:
        return ConfigError.single(self.file, self.line_of(path), dotted(path), message)


def dotted(path: PathKey) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def load_yaml_file(path: str | Path) -> YamlDocument:
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError.single(file, None, "", f"cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError.single(file, None, "", f"not UTF-8 text: {exc.reason}") from exc
    return load_yaml_text(text, file)


def load_yaml_text(text: str, file: str = "<string>") -> YamlDocument:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError.single(file, line, "", f"YAML syntax: {exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError.single(file, None, "", f"YAML syntax: {exc}") from exc
    lines: dict[PathKey, int] = {}
    if node is None:
        return YamlDocument(file, None, lines)
    lines[()] = node.start_mark.line + 1
    data = _build(node, (), lines, file)
    return YamlDocument(file, data, lines)


_scalar_loader = yaml.SafeLoader("")


def _build(node: yaml.Node, path: PathKey, lines: dict[PathKey, int], file: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in _merged_pairs(node):
            key = _scalar_loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool):
                raise ConfigError.single(
                    file, key_node.start_mark.line + 1, dotted(path), "mapping keys must be plain scalars"
                )
            skey = str(key)
            if skey in out:
                raise ConfigError.single(
                    file, key_node.start_mark.line + 1, dotted((*path, skey)), "duplicate key"
                )
            lines[(*path, skey)] = key_node.start_mark.line + 1
            out[skey] = _build(value_node, (*path, skey), lines, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            items.append(_build(item, (*path, index), lines, file))
        return items
    try:
        return _scalar_loader.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        raise ConfigError.single(file, node.start_mark.line + 1, dotted(path), str(exc)) from exc


def _merged_pairs(node: yaml.MappingNode) -> Iterator[tuple[yaml.Node, yaml.Node]]:
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            merged = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in merged:
                if isinstance(source, yaml.MappingNode):
                    yield from _merged_pairs(source)
            continue
        yield key_node, value_node
