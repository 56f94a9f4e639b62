"""Load YAML safely while remembering the line of every key, so errors can name file and line.

Only the safe subset of YAML is accepted (no tags that construct objects). Duplicate keys are an
error rather than silently overriding each other.

Hostile documents are refused with the line that caused it, before they can exhaust memory or the
stack: a document larger than `MAX_DOCUMENT_BYTES`, nesting deeper than `MAX_DEPTH` (counted after
aliases are expanded), aliases that would expand to more than `MAX_ALIAS_NODES` nodes (the
"billion laughs" bomb), and an alias used inside its own anchor (a recursive structure). Each
document gets its own loader, dropped once the document is built, so nothing is retained between
loads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, cast

import yaml

from auditwatch.errors import (
    CANNOT_READ,
    DUPLICATE_KEY,
    INVALID_VALUE,
    KEY_NOT_SCALAR,
    YAML_REFUSED,
    YAML_SYNTAX,
    AuditwatchError,
    Code,
    ConfigError,
)

MAX_DOCUMENT_BYTES: Final = 8 << 20  # rule, parser, list and config files are far smaller
MAX_DEPTH: Final = 64  # nested mappings/sequences, aliases expanded
MAX_ALIAS_NODES: Final = 100_000  # nodes added by expanding aliases, over the whole document

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlDocument:
    """Plain Python data from a YAML file plus where each part of it was written.

    Lines are recorded while loading; columns are found on demand (only a document with a problem
    needs them) by composing `text` again, once.
    """

    file: str
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)  # 1-based line of each key / item
    text: str | None = field(default=None, repr=False, compare=False)  # the source, for columns
    _composed: list[yaml.Node | None] = field(default_factory=list, repr=False, compare=False)

    def _anchor(self, path: PathKey) -> PathKey | None:
        """`path`, or its nearest ancestor, that has a line."""
        probe = tuple(path)
        while probe:
            if probe in self.lines:
                return probe
            probe = probe[:-1]
        return () if () in self.lines else None

    def line_of(self, path: PathKey) -> int | None:
        """Line of `path`, or of its nearest ancestor that has one."""
        anchor = self._anchor(path)
        return None if anchor is None else self.lines[anchor]

    def column_of(self, path: PathKey) -> int | None:
        """1-based column of the key (or list item) whose line `line_of` gives; None if not known."""
        anchor = self._anchor(path)
        found = None if anchor is None else self._node_at(anchor)
        if found is None:
            return None
        key, value = found
        return (key or value).start_mark.column + 1

    def position_in(self, path: PathKey, lineno: int, column: int) -> tuple[int, int] | None:
        """(line, column) in the file of the character at 1-based (`lineno`, `column`) of the string at
        `path`; None when the string is not written as it reads (escapes, folded lines)."""
        found = self._node_at(tuple(path))
        node = None if found is None else found[1]
        if not isinstance(node, yaml.ScalarNode) or self.text is None:
            return None
        start, end, value = node.start_mark, node.end_mark, node.value
        if node.style in (None, "", "'", '"'):
            quoted = 1 if node.style else 0
            written = self.text[start.index + quoted : end.index - quoted]
            if lineno != 1 or start.line != end.line or written != value:
                return None
            return start.line + 1, start.column + quoted + column
        if node.style != "|":
            return None
        lines = value.split("\n")
        source = self.text[start.index :].split("\n")[1 : len(lines) + 1]  # the lines after the `|`
        indent = next((len(s) - len(s.lstrip(" ")) for s in source if s.strip()), 0)
        pairs = zip(source, lines, strict=False)
        verbatim = all(s[:indent].strip() == "" and s[indent:] == w for s, w in pairs if w)
        if not verbatim or not 1 <= lineno <= len(lines):
            return None
        return start.line + 1 + lineno, indent + column

    def _node_at(self, path: PathKey) -> tuple[yaml.Node | None, yaml.Node] | None:
        """(key node or None, value node) at `path` in the document composed again from `text`."""
        if not self._composed:
            self._composed.append(_compose(self.text) if self.text is not None else None)
        node = self._composed[0]
        if node is None:
            return None
        key: yaml.Node | None = None
        for part in path:
            if isinstance(node, yaml.MappingNode):
                pair = next((kv for kv in _merged_pairs(node) if _key_text(kv[0]) == str(part)), None)
                if pair is None:
                    return None
                key, node = pair
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                key, node = None, node.value[part]
            else:
                return None
        return key, node

    def error(self, path: PathKey, message: str, code: Code = INVALID_VALUE) -> ConfigError:
        line, column = self.line_of(path), self.column_of(path)
        return ConfigError.single(self.file, line, dotted(path), message, code=code, column=column)


def _compose(text: str) -> yaml.Node | None:
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_node()
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()


def _key_text(node: yaml.Node) -> str | None:
    """A mapping key as the loaded data spells it (`yes` is `True`, `1` is `1`)."""
    if not isinstance(node, yaml.ScalarNode):
        return None
    try:
        return str(yaml.constructor.SafeConstructor().construct_object(node))
    except Exception:  # a key the loader refused never names a path
        return None


def dotted(path: PathKey) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def load_yaml_file(path: str | Path) -> YamlDocument:
    file = str(path)
    try:
        size = Path(path).stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise ConfigError.single(file, None, "", _too_large(size), code=CANNOT_READ)
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        message = f"cannot read: {exc.strerror or exc}"
        raise ConfigError.single(file, None, "", message, code=CANNOT_READ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError.single(file, None, "", f"not UTF-8 text: {exc.reason}", code=CANNOT_READ) from exc
    return load_yaml_text(text, file)


def load_yaml_text(text: str, file: str = "<string>") -> YamlDocument:
    if len(text) > MAX_DOCUMENT_BYTES:
        raise ConfigError.single(file, None, "", _too_large(len(text)), code=CANNOT_READ)
    try:
        loader = _BoundedLoader(text)
    except yaml.reader.ReaderError as exc:  # a control character anywhere in the text
        at = max(0, exc.position)
        line, column = text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1
        message = f"YAML syntax: {exc.reason} (#x{exc.character:04x})"
        raise ConfigError.single(file, line, "", message, code=YAML_SYNTAX, column=column) from exc
    try:
        try:
            node = loader.get_single_node()
        except _Refused as exc:
            where, column = _where(exc.problem_mark)
            message = f"YAML refused: {exc.problem}"
            raise ConfigError.single(file, where, "", message, code=YAML_REFUSED, column=column) from exc
        except yaml.MarkedYAMLError as exc:
            where, column = _where(exc.problem_mark or exc.context_mark)
            message = f"YAML syntax: {exc.problem or exc}"
            raise ConfigError.single(file, where, "", message, code=YAML_SYNTAX, column=column) from exc
        except yaml.YAMLError as exc:
            raise ConfigError.single(file, None, "", f"YAML syntax: {exc}", code=YAML_SYNTAX) from exc
        lines: dict[PathKey, int] = {}
        if node is None:
            return YamlDocument(file, None, lines, text)
        lines[()] = node.start_mark.line + 1
        data = _Builder(loader, lines, file).build(node, ())
        return YamlDocument(file, data, lines, text)
    finally:
        loader.dispose()


_NOT_SCALAR: Final = "mapping keys must be plain scalars"


def _where(mark: yaml.Mark | None) -> tuple[int | None, int | None]:
    """1-based (line, column) of a PyYAML mark (0-based)."""
    return (mark.line + 1, mark.column + 1) if mark is not None else (None, None)


def _too_large(size: int) -> str:
    return f"document is {size} bytes, more than the {MAX_DOCUMENT_BYTES} a YAML file may have"


class _Refused(AuditwatchError, yaml.MarkedYAMLError):
    """A well-formed document this loader will not build (too deep, an alias bomb, recursive)."""


class _BoundedLoader(yaml.SafeLoader):
    """A SafeLoader whose composer refuses deep nesting, alias bombs and recursive aliases.

    Every node's expanded size and height are measured as it is composed, so the check costs one
    dict entry per node and an alias bomb is refused at the first alias that crosses the budget.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0
        self._expanded = 0
        self._measure: dict[int, tuple[int, int]] = {}  # id(node) -> (nodes, height), aliases expanded

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:  # PyYAML's name
        """Refuse deep `[[[[...` in the scanner, before it reads ahead up to 1,024 characters per key."""
        if self.flow_level >= MAX_DEPTH:
            mark = cast("yaml.Mark | None", self.get_mark())
            raise _Refused(None, None, f"nested more than {MAX_DEPTH} levels deep", mark)
        super().fetch_flow_collection_start(TokenClass)

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in the stubs
        mark = cast("yaml.Mark | None", event.start_mark)
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            measured = self._measure.get(id(node)) if node is not None else None
            if measured is None:
                raise _Refused(None, None, f"alias *{event.anchor} is used inside its own anchor", mark)
            self._expanded += measured[0]
            if self._expanded > MAX_ALIAS_NODES:
                raise _Refused(
                    None,
                    None,
                    f"aliases expand to more than {MAX_ALIAS_NODES} nodes (an alias bomb?)",
                    mark,
                )
            return node
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(None, None, f"nested more than {MAX_DEPTH} levels deep", mark)
        node = super().compose_node(parent, index)
        self._depth -= 1
        if node is None:
            return None
        size, height = 1, 0
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            children = []
        for child in children:
            child_size, child_height = self._measure[id(child)]
            size += child_size
            height = max(height, child_height)
        if height + 1 > MAX_DEPTH:
            raise _Refused(None, None, f"aliases nest more than {MAX_DEPTH} levels deep", mark)
        self._measure[id(node)] = (size, height + 1)
        return node


class _Builder:
    """Turns one composed document into plain data, recording the line of every key and item."""

    def __init__(self, loader: _BoundedLoader, lines: dict[PathKey, int], file: str) -> None:
        self._loader = loader
        self._lines = lines
        self._file = file

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        lines, file = self._lines, self._file
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in _merged_pairs(node):
                line, column = _where(key_node.start_mark)
                if not isinstance(key_node, yaml.ScalarNode):
                    raise ConfigError.single(
                        file, line, dotted(path), _NOT_SCALAR, code=KEY_NOT_SCALAR, column=column
                    )
                key = self._scalar(key_node, path)
                if not isinstance(key, str | int | float | bool):
                    raise ConfigError.single(
                        file, line, dotted(path), _NOT_SCALAR, code=KEY_NOT_SCALAR, column=column
                    )
                skey = str(key)
                if skey in out:
                    raise ConfigError.single(
                        file, line, dotted((*path, skey)), "duplicate key", code=DUPLICATE_KEY, column=column
                    )
                lines[(*path, skey)] = key_node.start_mark.line + 1
                out[skey] = self.build(value_node, (*path, skey))
            return out
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                lines[(*path, index)] = item.start_mark.line + 1
                items.append(self.build(item, (*path, index)))
            return items
        return self._scalar(node, path)

    def _scalar(self, node: yaml.Node, path: PathKey) -> Any:
        try:
            return self._loader.construct_object(node, deep=True)
        except Exception as exc:  # e.g. an int of 5,000 digits (ValueError), an empty `!!int` (IndexError)
            message = exc.problem if isinstance(exc, yaml.MarkedYAMLError) and exc.problem else str(exc)
            if not isinstance(exc, yaml.YAMLError | ValueError):
                message = f"cannot build this value ({type(exc).__name__}: {exc})"
            line, column = _where(node.start_mark)
            raise ConfigError.single(self._file, line, dotted(path), message, column=column) from exc


def _merged_pairs(node: yaml.MappingNode) -> Iterator[tuple[yaml.Node, yaml.Node]]:
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            merged = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in merged:
                if isinstance(source, yaml.MappingNode):
                    yield from _merged_pairs(source)
            continue
        yield key_node, value_node
