"""Which files the inputs' globs match now, and which directories to watch for changes."""

from __future__ import annotations

import fnmatch
import glob
import os
from collections.abc import Sequence

import structlog

from auditwatch.sources.config import InputConfig

_log = structlog.get_logger(__name__)


def _excluded(path: str, patterns: tuple[str, ...]) -> bool:
    name = os.path.basename(path)
    return any(fnmatch.fnmatchcase(path, p) or fnmatch.fnmatchcase(name, p) for p in patterns)


def expand(inputs: Sequence[InputConfig], warned: set[str]) -> list[tuple[str, InputConfig]]:
    """Matching paths in input order; a path claimed by two inputs goes to the first (warned once)."""
    owner: dict[str, InputConfig] = {}
    for cfg in inputs:
        for pattern in cfg.paths:
            for path in sorted(glob.glob(pattern)):
                if path.endswith(".gz") and not cfg.read_gz:
                    continue
                if _excluded(path, cfg.exclude):
                    continue
                first = owner.setdefault(path, cfg)
                if first is not cfg and path not in warned:
                    warned.add(path)
                    _log.warning("path_matched_by_two_inputs", path=path, used=first.name, ignored=cfg.name)
    return list(owner.items())


def watch_dirs(inputs: Sequence[InputConfig]) -> set[str]:
    """Existing parent directories of every glob (watched non-recursively)."""
    dirs: set[str] = set()
    for cfg in inputs:
        for pattern in cfg.paths:
            parent = os.path.dirname(os.path.abspath(pattern))
            candidates = glob.glob(parent) if glob.has_magic(parent) else [parent]
            dirs.update(d for d in candidates if os.path.isdir(d))
    return dirs
