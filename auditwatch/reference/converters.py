"""Export rows -> canonical values: one converter per column (by the column's type in `KINDS`, and
the source's `normalise:` and `identifiers:` settings), and the per-row problems of one export."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Iterator
from operator import call
from typing import Any, Final

from auditwatch.errors import AuditwatchError, Problem
from auditwatch.normalise import build_normaliser, compile_date
from auditwatch.reference.config import (
    DATE,
    ID,
    KINDS,
    LIST,
    NAMES,
    NUMBER,
    POSTCODE,
    TEXT,
    TIMESTAMP,
    TOKEN,
    ReferenceConfig,
    SourceConfig,
)
from auditwatch.reference.keys import token
from auditwatch.reference.readers import BadRow, unusable_row

_LIST_SPLIT: Final = re.compile(r"[,;|]")
_NAMES_SPLIT: Final = re.compile(r"[;|]")


class _Bad(AuditwatchError):
    pass


_MISSING: Final = object()


Converter = Callable[[object], object]


def _text(value: object) -> str:
    return value if isinstance(value, str) else ", ".join(map(str, value)) if isinstance(value, list) else ""


_DISTINCT: Final = frozenset(
    {
        "person_id",
        "record_id",
        "address",
        "name",
        "start",
        "end",
        "reason",
        "count",
        "aliases",
    }
)
_CACHE_LIMIT: Final = 100_000


class _CellCache(dict[object, object]):
    """Raw cell -> converted value: `cache[raw]` is a C-speed hit, a miss converts (bounded; a bad value,
    raising `_Bad`, is not cached)."""

    __slots__ = ("convert",)

    def __init__(self, convert: Converter) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, value: object) -> object:
        found = self.convert(value)
        if len(self) < _CACHE_LIMIT:
            self[value] = found
        return found


def _converter(source: SourceConfig, cfg: ReferenceConfig, column: str) -> tuple[Converter, Converter]:
    """(any cell, a text cell) converters for `column`; repetitive columns get a bounded cache, which
    also makes equal values share one string object (less memory in large tables). The second raises
    TypeError for a cell that is not text (a JSON list)."""
    convert = _plain_converter(source, cfg, column)
    if column in _DISTINCT:
        return convert, convert
    cache = _CellCache(convert)

    def cached(value: object) -> object:
        return cache[value] if value.__class__ is str else convert(value)

    return cached, cache.__getitem__


def _plain_converter(source: SourceConfig, cfg: ReferenceConfig, column: str) -> Converter:
    kind_type = KINDS[source.kind].columns[column][0]
    spec = source.normalise.get(column)
    if spec is None and kind_type == ID:
        spec = cfg.identifiers.get(column, "trim")
    custom = build_normaliser(spec) if spec is not None else None
    if kind_type == ID and spec == "trim":
        custom = None  # what `pre` does anyway

    def pre(value: object) -> str | None:
        text = (value if value.__class__ is str else _text(value)).strip()
        if not text:
            return None
        return custom(text) if custom is not None else text

    if kind_type == ID:
        return pre
    if kind_type in (TEXT, TIMESTAMP):
        if kind_type == TIMESTAMP or custom is not None:
            return pre

        def collapsed(value: object) -> object:
            if value.__class__ is str:
                return " ".join(value.split()) or None
            text = pre(value)
            return " ".join(text.split()) if text else None

        return collapsed
    if kind_type == TOKEN:
        return lambda value: token(text) if (text := pre(value)) else None
    if kind_type == LIST:

        def items(value: object) -> object:
            parts = value if isinstance(value, list) else _LIST_SPLIT.split(_text(value))
            out = []
            for part in parts:
                text = custom(part.strip()) if custom is not None and part.strip() else part
                word = token(text) if text else None
                if word and word not in out:
                    out.append(sys.intern(word))
            return tuple(out)

        return items
    if kind_type == NAMES:

        def names(value: object) -> object:
            parts = value if isinstance(value, list) else _NAMES_SPLIT.split(_text(value))
            out: list[str] = []
            for part in parts:
                text = pre(part) if isinstance(part, str) else None
                text = " ".join(text.split()) if text else None
                if text and text not in out:
                    out.append(text)
            return tuple(out)

        return names
    if kind_type == DATE:
        parse_date = compile_date(list(source.date_formats))

        def a_date(value: object) -> object:
            text = pre(value)
            if text is None:
                return None
            iso = parse_date(text)
            if iso is None:
                raise _Bad(f"{text!r} is not a date in {' or '.join(source.date_formats)}")
            return iso

        return a_date
    if kind_type == POSTCODE:
        postcode = custom if custom is not None else build_normaliser("uk_postcode")

        def a_postcode(value: object) -> object:
            text = _text(value).strip()
            if not text:
                return None
            result = postcode(text)
            if result is None:
                raise _Bad(f"{text!r} is not a UK postcode")
            return result

        return a_postcode
    assert kind_type == NUMBER

    def a_number(value: object) -> object:
        text = pre(value)
        if text is None:
            return None
        try:
            return float(text.replace(",", ""))
        except ValueError:
            raise _Bad(f"{text!r} is not a number") from None

    return a_number


class RowProblems:
    """Collects per-row problems for one export: the first few in full, the rest counted."""

    def __init__(self, source: SourceConfig, limit: int) -> None:
        self.source = source
        self.limit = limit
        self.reported: list[Problem] = []
        self.skipped = 0
        self.warnings = 0

    def add(self, line: int, column: str, message: str, *, skipped: bool) -> None:
        if skipped:
            self.skipped += 1
        else:
            self.warnings += 1
        if len(self.reported) < self.limit:
            where_line, field = (line, column) if line > 0 else (None, f"[{-line}].{column}")
            suffix = "; row skipped" if skipped else "; value ignored, row kept"
            self.reported.append(Problem(self.source.path, where_line, field, message + suffix))


def convert_rows(
    source: SourceConfig,
    cfg: ReferenceConfig,
    columns: Callable[[], tuple[str, ...]],
    rows: Iterable[tuple[int, Any]],
    problems: RowProblems,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Canonical values per row; rows missing an essential value are reported and skipped.

    `columns` is asked once the first row is read (a CSV's columns are known after its header).
    """
    spec = KINDS[source.kind]
    names: tuple[str, ...] = ()
    converters: list[Converter] = []
    fast: list[Converter] = []
    essential = set(spec.required)
    required, one_of, blank_together = spec.required, spec.one_of, spec.blank_together
    for line, values in rows:
        if not names:
            names = columns()
            pairs = [_converter(source, cfg, name) for name in names]
            converters, fast = [pair[0] for pair in pairs], [pair[1] for pair in pairs]
        if values.__class__ is BadRow:  # cannot be split into columns
            problems.add(line, "", unusable_row(values) or "unreadable row", skipped=True)
            continue
        try:  # the readers give one value per column: zip's lengths agree
            out = dict(zip(names, map(call, fast, values), strict=False))
        except (_Bad, TypeError):  # a bad cell, or one that is not text: cell by cell
            converted = _convert_slowly(names, converters, values, essential, line=line, problems=problems)
            if converted is None:
                continue
            out = converted
        if not all(map(out.get, required)):  # the usual row has them all: checked in one C-level pass
            for name in required:
                if not out.get(name):
                    if name in blank_together and not any(out.get(n) for n in blank_together):
                        continue  # all blank together: a valid row stating an absence (a rest day)
                    problems.add(line, name, f"no {name}", skipped=True)
                    break
            else:
                name = ""
            if name:
                continue
        if one_of and not any(map(out.get, one_of)):
            problems.add(line, one_of[0], f"needs one of {', '.join(one_of)}", skipped=True)
            continue
        yield line, out


def _convert_slowly(
    names: tuple[str, ...],
    converters: list[Converter],
    values: list[object],
    essential: set[str],
    *,
    line: int,
    problems: RowProblems,
) -> dict[str, Any] | None:
    """Cell by cell, reporting each bad cell; None when an essential one is bad."""
    out: dict[str, Any] = {}
    for name, convert, raw in zip(names, converters, values, strict=True):
        try:
            out[name] = convert(raw)
        except _Bad as exc:
            problems.add(line, name, str(exc), skipped=name in essential)
            if name in essential:
                return None
            out[name] = None
    return out
