"""Export rows -> canonical values: one converter per column (by the column's type in `KINDS`, and
the source's `normalise:` and `identifiers:` settings), and the per-row problems of one export."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from operator import call, itemgetter
from typing import Any, Final, NamedTuple, Protocol

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
    KindSpec,
    ReferenceConfig,
    SourceConfig,
)
from auditwatch.reference.keys import token
from auditwatch.reference.readers import BadRow, CsvRows, ExportRows, picker, unusable_row

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


class ColumnConverter(NamedTuple):
    """How one column's cells are converted: `any` takes any cell, `text` a text cell (TypeError for
    another), `bulk` a list of text cells (raising as `text` does for the first bad one)."""

    any: Converter
    text: Converter
    bulk: Callable[[list[str]], list[Any]]


def _converter(source: SourceConfig, cfg: ReferenceConfig, column: str) -> ColumnConverter:
    """The converters of `column`; repetitive columns get a bounded cache, which also makes equal values
    share one string object (less memory in large tables)."""
    convert = _plain_converter(source, cfg, column)
    if column not in _DISTINCT:
        cache = _CellCache(convert)

        def cached(value: object) -> object:
            return cache[value] if value.__class__ is str else convert(value)

        lookup = cache.__getitem__
        return ColumnConverter(cached, lookup, lambda cells: list(map(lookup, cells)))
    bulk = _BULK.get(_plain_kind(source, cfg, column))
    return ColumnConverter(convert, convert, bulk or (lambda cells: list(map(convert, cells))))


def _trimmed(cells: list[str]) -> list[Any]:
    return [cell.strip() or None for cell in cells]


def _collapsed(cells: list[str]) -> list[Any]:
    joined = "\x00".join(cells)
    if (
        joined.isascii()
        and not joined.startswith(" ")
        and not joined.endswith(" ")
        and not any(map(joined.__contains__, _NOT_COLLAPSED))
    ):  # every cell is already collapsed (checked in C): the usual export
        return [cell or None for cell in cells]
    return [" ".join(cell.split()) or None for cell in cells]


# what `str.split()` splits ASCII text on, but a single space inside a cell; "\x00" joins the cells
_NOT_COLLAPSED: Final = (
    "\t",
    "\n",
    "\x0b",
    "\x0c",
    "\r",
    "\x1c",
    "\x1d",
    "\x1e",
    "\x1f",
    "  ",
    "\x00 ",
    " \x00",
)


# what `_plain_converter` does to a text cell, for a list of them at once (the converters without a cache)
_BULK: Final = {"trim": _trimmed, "collapse": _collapsed}


def _plain_kind(source: SourceConfig, cfg: ReferenceConfig, column: str) -> str:
    """ "trim" or "collapse" when `_plain_converter` only trims / collapses the whitespace of a text cell."""
    kind_type = KINDS[source.kind].columns[column][0]
    spec = source.normalise.get(column)
    if kind_type == ID and (spec if spec is not None else cfg.identifiers.get(column, "trim")) == "trim":
        return "trim"
    if kind_type == TEXT and spec is None:
        return "collapse"
    return ""


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
    convert: _RowConverter | None = None
    for line, values in rows:
        if convert is None:
            convert = _RowConverter(source, cfg, columns())
        out = convert(line, values, problems.add)
        if out is not None:
            yield line, out


class Batch(NamedTuple):
    """Converted rows, all usable: their lines, and per column present its values, one per row."""

    lines: Sequence[int]
    columns: dict[str, list[Any]]


BATCH_ROWS: Final = 512


def convert_batches(
    source: SourceConfig, cfg: ReferenceConfig, export: ExportRows, problems: RowProblems
) -> Iterator[Batch]:
    """What `convert_rows` gives, a batch of rows at a time (converted a column at a time when the rows
    are all good). Problems are reported in row order: the rows before a problem row are yielded first,
    so that a builder reports its own problems about them before it."""
    if not isinstance(export, CsvRows):
        return _batches_by_row(source, cfg, export, problems)
    return _csv_batches(source, cfg, export, problems)


def _csv_batches(
    source: SourceConfig, cfg: ReferenceConfig, export: CsvRows, problems: RowProblems
) -> Iterator[Batch]:
    spec = KINDS[source.kind]
    convert: _RowConverter | None = None
    for chunk in export.chunks(BATCH_ROWS):
        if convert is None:
            convert = _RowConverter(source, cfg, export.columns)
            getters = [itemgetter(i) for i in export.positions]
            pick = picker(export.positions)
            bulks = [c.bulk for c in convert.pairs]
        columns: dict[str, list[Any]] | None = None
        if chunk.clean:
            try:
                columns = {
                    name: bulk(list(map(get, chunk.rows)))
                    for name, get, bulk in zip(convert.names, getters, bulks, strict=True)
                }
            except (_Bad, TypeError):  # a bad cell: row by row
                columns = None
            if columns is not None and not _complete(columns, spec, len(chunk.rows)):
                columns = None  # an essential value is missing somewhere: row by row
        if columns is not None:
            yield Batch(chunk.starts, columns)
            continue
        values = (row if row.__class__ is BadRow else pick(row) for row in chunk.rows)
        yield from _batches_of(convert, zip(chunk.starts, values, strict=True), problems)


def _complete(columns: dict[str, list[Any]], spec: KindSpec, count: int) -> bool:
    """Whether every row has each required value (or none of `blank_together`), and one of `one_of`."""
    together = [name for name in spec.required if name in spec.blank_together]
    if not all(name in columns for name in spec.required):
        return False
    if not all(all(columns[name]) for name in spec.required if name not in together):
        return False
    rows = zip(*(columns[name] for name in together), strict=True)
    if together and not all(all(given) or not any(given) for given in rows):
        return False
    if not spec.one_of:
        return True
    blank = [None] * count
    return all(map(any, zip(*(columns.get(name, blank) for name in spec.one_of), strict=True)))


def _batches_by_row(
    source: SourceConfig, cfg: ReferenceConfig, export: ExportRows, problems: RowProblems
) -> Iterator[Batch]:
    rows = iter(export)
    first = next(rows, None)
    if first is None:
        return
    convert = _RowConverter(source, cfg, export.columns)
    yield from _batches_of(convert, chain((first,), rows), problems)


def _batches_of(
    convert: _RowConverter, rows: Iterable[tuple[int, Any]], problems: RowProblems
) -> Iterator[Batch]:
    """Rows converted one at a time, in batches that end where a row has a problem."""
    held: list[tuple[int, str, str, bool]] = []
    lines: list[int] = []
    out: list[dict[str, Any]] = []

    def hold(line: int, column: str, message: str, *, skipped: bool) -> None:
        held.append((line, column, message, skipped))

    def batch() -> Batch:
        names = convert.names
        return Batch(lines, {name: [row[name] for row in out] for name in names})

    for line, values in rows:
        row = convert(line, values, hold)
        if held:
            if out:
                yield batch()
                lines, out = [], []
            for found_line, column, message, skipped in held:
                problems.add(found_line, column, message, skipped=skipped)
            held.clear()
        if row is not None:
            lines.append(line)
            out.append(row)
            if len(out) >= BATCH_ROWS:
                yield batch()
                lines, out = [], []
    if out:
        yield batch()


class _Report(Protocol):
    def __call__(self, line: int, column: str, message: str, *, skipped: bool) -> None: ...


class _RowConverter:
    """One row's canonical values, or None (reported) when the row cannot be used."""

    def __init__(self, source: SourceConfig, cfg: ReferenceConfig, names: tuple[str, ...]) -> None:
        spec = KINDS[source.kind]
        self.names = names
        self.pairs = [_converter(source, cfg, name) for name in names]
        self.converters = [pair.any for pair in self.pairs]
        self.fast = [pair.text for pair in self.pairs]
        self.essential = set(spec.required)
        self.required, self.one_of, self.blank_together = spec.required, spec.one_of, spec.blank_together

    def __call__(self, line: int, values: Any, report: _Report) -> dict[str, Any] | None:
        if values.__class__ is BadRow:  # cannot be split into columns
            report(line, "", unusable_row(values) or "unreadable row", skipped=True)
            return None
        names = self.names
        try:  # the readers give one value per column: zip's lengths agree
            out = dict(zip(names, map(call, self.fast, values), strict=False))
        except (_Bad, TypeError):  # a bad cell, or one that is not text: cell by cell
            converted = _convert_slowly(
                names, self.converters, values, self.essential, line=line, report=report
            )
            if converted is None:
                return None
            out = converted
        required, one_of, blank_together = self.required, self.one_of, self.blank_together
        if not all(map(out.get, required)):  # the usual row has them all: checked in one C-level pass
            for name in required:
                if not out.get(name):
                    if name in blank_together and not any(out.get(n) for n in blank_together):
                        continue  # all blank together: a valid row stating an absence (a rest day)
                    report(line, name, f"no {name}", skipped=True)
                    return None
        if one_of and not any(map(out.get, one_of)):
            report(line, one_of[0], f"needs one of {', '.join(one_of)}", skipped=True)
            return None
        return out


def _convert_slowly(
    names: tuple[str, ...],
    converters: list[Converter],
    values: list[object],
    essential: set[str],
    *,
    line: int,
    report: _Report,
) -> dict[str, Any] | None:
    """Cell by cell, reporting each bad cell; None when an essential one is bad."""
    out: dict[str, Any] = {}
    for name, convert, raw in zip(names, converters, values, strict=True):
        try:
            out[name] = convert(raw)
        except _Bad as exc:
            report(line, name, str(exc), skipped=name in essential)
            if name in essential:
                return None
            out[name] = None
    return out
