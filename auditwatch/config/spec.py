"""A small reader for validating YAML documents into frozen config values.

Usage: wrap a YamlDocument in a `Reader`, pull keys with `required` / `optional`, descend with
`section` / `sections`, then call `done()` to reject keys nobody asked for. Problems are collected
(not raised one by one) so a user sees every mistake in a file at once; `raise_if_any` raises a
single ConfigError naming file, line and field for each.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from auditwatch.config.yamlsource import PathKey, YamlDocument, dotted
from auditwatch.errors import (
    INVALID_VALUE,
    MISSING_KEY,
    UNKNOWN_KEY,
    WRONG_TYPE,
    AuditwatchError,
    Code,
    ConfigError,
    Problem,
)

T = TypeVar("T")
Number = TypeVar("Number", int, float)

_TYPE_NAMES: dict[type, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "a mapping",
}

_MISSING = object()


class Reader:
    """Reads one mapping of a YAML document, remembering which keys were consumed."""

    def __init__(self, doc: YamlDocument, path: PathKey = (), problems: list[Problem] | None = None) -> None:
        self.doc = doc
        self.path = path
        self.problems: list[Problem] = [] if problems is None else problems
        value = self._value_at(path)
        if value is None and path == ():
            value = {}
        if not isinstance(value, dict):
            self.problem(path, f"must be a mapping, not {type(value).__name__}", WRONG_TYPE)
            value = {}
        self.data: dict[str, Any] = value
        self._seen: set[str] = set()

    def _value_at(self, path: PathKey) -> Any:
        value: Any = self.doc.data
        for part in path:
            value = value[part]
        return value

    def problem(self, path: PathKey, message: str, code: Code = INVALID_VALUE) -> None:
        doc = self.doc
        self.problems.append(
            Problem(doc.file, doc.line_of(path), dotted(path), message, code=code, column=doc.column_of(path))
        )

    def problem_in(self, path: PathKey, position: tuple[int, int], message: str, code: Code) -> None:
        """A problem at 1-based (line, column) `position` inside the string at `path` (a pattern, a
        condition): at its place in the file when the string is written as it reads; else at the key
        (on the line inside a block) with the column in the string in the message."""
        doc = self.doc
        lineno, column = position
        at = doc.position_in(path, lineno, column)
        if at is not None:
            self.problems.append(Problem(doc.file, at[0], dotted(path), message, code=code, column=at[1]))
            return
        line = doc.line_of(path) or 1
        try:
            value = self._value_at(path)
        except (KeyError, IndexError, TypeError):
            value = None
        if isinstance(value, str) and "\n" in value.strip("\n"):
            line += lineno
        text = f"{message} (column {column})"
        self.problems.append(
            Problem(doc.file, line, dotted(path), text, code=code, column=doc.column_of(path))
        )

    def has(self, key: str) -> bool:
        return key in self.data

    @overload
    def required(self, key: str, kind: type[T]) -> T: ...
    @overload
    def required(self, key: str, kind: type[T], convert: Callable[[T], Any]) -> Any: ...
    def required(self, key: str, kind: type[T], convert: Callable[[T], Any] | None = None) -> Any:
        self._seen.add(key)
        if key not in self.data:
            self.problem(self.path, f"missing required key '{key}'", MISSING_KEY)
            return None
        return self._check(key, kind, convert)

    def optional(
        self, key: str, kind: type[T], default: Any, convert: Callable[[T], Any] | None = None
    ) -> Any:
        self._seen.add(key)
        if key not in self.data or self.data[key] is None:
            return default
        return self._check(key, kind, convert)

    def _check(self, key: str, kind: type[Any], convert: Callable[[Any], Any] | None) -> Any:
        value = self.data[key]
        ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            self.problem((*self.path, key), f"must be {_TYPE_NAMES.get(kind, kind.__name__)}", WRONG_TYPE)
            return None
        if convert is None:
            return value
        try:
            return convert(value)
        except (ValueError, TypeError, KeyError) as exc:
            code = exc.code if isinstance(exc, AuditwatchError) and exc.code else INVALID_VALUE
            self.problem((*self.path, key), str(exc) or f"invalid value {value!r}", code)
            return None

    def section(self, key: str, required: bool = False) -> Reader:
        self._seen.add(key)
        if key not in self.data or self.data[key] is None:
            if required:
                self.problem(self.path, f"missing required section '{key}'", MISSING_KEY)
            return Reader(_empty_doc_like(self.doc), (), self.problems)
        return Reader(self.doc, (*self.path, key), self.problems)

    def sections(self, key: str, required: bool = False) -> list[Reader]:
        """Each mapping in the list under `key`."""
        self._seen.add(key)
        value = self.data.get(key)
        if value is None:
            if required:
                self.problem(self.path, f"missing required list '{key}'", MISSING_KEY)
            return []
        if not isinstance(value, list):
            self.problem((*self.path, key), "must be a list", WRONG_TYPE)
            return []
        return [Reader(self.doc, (*self.path, key, i), self.problems) for i in range(len(value))]

    def string_list(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        """A string or a list of strings under `key`, as a tuple."""
        self._seen.add(key)
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        self.problem((*self.path, key), "must be a string or a list of strings", WRONG_TYPE)
        return default

    def done(self) -> None:
        """Report keys that were present but never asked for."""
        for key in self.data:
            if key not in self._seen:
                self.problem((*self.path, key), f"unknown key '{key}'", UNKNOWN_KEY)

    def raise_if_any(self) -> None:
        if self.problems:
            raise ConfigError(self.problems)


def _empty_doc_like(doc: YamlDocument) -> YamlDocument:
    return YamlDocument(doc.file, {}, {})


# -- validators for `Reader.required` / `Reader.optional` (a ValueError becomes a located problem) --


def positive(value: Number) -> Number:
    """Greater than zero (a count, a size or a duration that must not be zero)."""
    if value <= 0:
        raise ValueError("must be greater than zero")
    return value


def not_negative(value: Number) -> Number:
    """Zero or more."""
    if value < 0:
        raise ValueError("must be zero or more")
    return value


_UTC_NAMES = frozenset({"UTC", "Z", "GMT", "ETC/UTC"})


def known_zone(value: str) -> str:
    """A tz database zone name (``Europe/London``); other spellings of UTC (``utc``, ``Z``) become ``UTC``."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        if value.upper() in _UTC_NAMES:
            return "UTC"
        raise ValueError(f"unknown time zone '{value}' (use e.g. Europe/London)") from None
    return value


_DURATION = re.compile(r"(\d+)\s*(s|m|h|d|w)\Z")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> float:
    """`"10m"` -> 600.0; units s, m, h, d, w."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"invalid duration '{text}': write e.g. 30s, 10m, 2h, 7d, 2w")
    return float(int(match.group(1)) * _UNITS[match.group(2)])
