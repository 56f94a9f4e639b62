"""Read CSV / JSON / JSON-lines exports into rows of canonical columns.

A reader checks the export as a whole (readable, decodable, every needed column present) and
raises `BrokenExport` naming the file, line and column otherwise; it does not judge cell values
(tables.py does). Rows stream, so a million-row export is never held as text.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice, repeat
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any, Final, NamedTuple

from auditwatch.errors import EXPORT_REJECTED, AuditwatchError, Problem
from auditwatch.reference.config import KINDS, SourceConfig

Row = tuple[int, Sequence[object]]  # (line number, one value per column of `ExportRows.columns`)

_HEADER_NOISE: Final = re.compile(r"[\s_\-]+")


class BrokenExport(AuditwatchError):
    """The export cannot be used at all; the previous data must be kept."""

    def __init__(self, problem: Problem, row_problems: Sequence[Problem] = ()) -> None:
        super().__init__(str(problem))
        self.problem = problem
        self.row_problems = tuple(row_problems)  # the bad rows that made it reject the export


def header_key(name: str) -> str:
    """Compare header names ignoring case, spaces, underscores, hyphens and a stray BOM."""
    return _HEADER_NOISE.sub(" ", name.replace("\ufeff", "").strip().casefold()).strip()


def open_rows(source: SourceConfig) -> ExportRows:
    """The rows of one export, with the canonical columns it has."""
    if source.format == "csv":
        return CsvRows(source)
    return _JsonRows(source)


class ExportRows:
    """Iterating yields `Row`s; `columns` (canonical names present) is known after the header."""

    columns: tuple[str, ...] = ()

    def __init__(self, source: SourceConfig) -> None:
        self.source = source
        self.spec = KINDS[source.kind]

    def __iter__(self) -> Iterator[Row]:
        raise NotImplementedError

    def _broken(self, line: int | None, column: str, message: str) -> BrokenExport:
        return BrokenExport(Problem(self.source.path, line, column, message, code=EXPORT_REJECTED))

    def _wanted(self) -> dict[str, str]:
        """Canonical column -> header key to look for (mapped name, else its own name)."""
        return {name: header_key(self.source.columns.get(name, name)) for name in self.spec.columns}

    def _check_columns(self, present: set[str], line: int | None, found: Sequence[str]) -> None:
        wanted = self.source.columns
        shown = ", ".join(repr(f) for f in found[:30]) or "none"
        for name in (*self.spec.required, *wanted):
            if name not in present:
                label = f"'{wanted[name]}' (mapped to {name})" if name in wanted else f"'{name}'"
                raise self._broken(line, name, f"column {label} not found; the export has {shown}")
        if self.spec.one_of and not present & set(self.spec.one_of):
            raise self._broken(
                line,
                self.spec.one_of[0],
                f"needs one of the columns {', '.join(self.spec.one_of)}; the export has {shown}",
            )


def _open_text(source: SourceConfig) -> Any:
    try:
        return Path(source.path).open(encoding=source.encoding, newline="", errors="strict")
    except OSError as exc:
        raise BrokenExport(
            Problem(source.path, None, "", f"cannot read: {exc.strerror or exc}", code=EXPORT_REJECTED)
        ) from exc


def _decode_failure(source: SourceConfig, exc: UnicodeDecodeError) -> BrokenExport:
    """Find the exact line that does not decode (slow path, only for a broken file)."""
    line_no = None
    try:
        with Path(source.path).open("rb") as raw:
            for number, line in enumerate(raw, start=1):
                try:
                    line.decode(source.encoding)
                except UnicodeDecodeError:
                    line_no = number
                    break
    except OSError:
        pass
    return BrokenExport(
        Problem(
            source.path,
            line_no,
            "",
            f"not valid {source.encoding} text ({exc.reason}); "
            "declare the file's `encoding:` in the source config",
            code=EXPORT_REJECTED,
        )
    )


#: `CsvRows.chunks` reads this many rows at a time, and ends a chunk once it has read this much of the file
CHUNK_STEP: Final = 32
CHUNK_BYTES: Final = 1 << 20


class CsvRows(ExportRows):
    positions: tuple[int, ...] = ()  # of `columns`, in a row as read (after the header)

    def __iter__(self) -> Iterator[Row]:
        with self._reading(), _open_text(self.source) as handle:
            yield from self._rows(handle)

    def chunks(self, size: int) -> Iterator[Chunk]:
        """The rows as read, up to `size` at a time, each with its first line: every cell of the row
        (`positions` locates the columns); blank lines dropped, a row of the wrong width a `BadRow`.
        `clean` says that no row of the chunk is a `BadRow`."""
        with self._reading(), _open_text(self.source) as handle:
            yield from self._chunks(handle, size)

    @contextmanager
    def _reading(self) -> Iterator[None]:
        try:
            yield
        except UnicodeDecodeError as exc:
            raise _decode_failure(self.source, exc) from exc
        except csv.Error as exc:
            raise self._broken(None, "", f"unreadable CSV: {exc}") from exc
        except OSError as exc:
            raise self._broken(None, "", f"cannot read: {exc.strerror or exc}") from exc

    def _start(self, reader: Any) -> tuple[int, int]:
        """Read the header: (its last line, its width); sets `columns` and `positions`."""
        header: list[str] | None = None
        for header in reader:
            if any(cell.strip() for cell in header):
                break
        if header is None or not any(cell.strip() for cell in header):
            raise self._broken(1, "", "the export is empty (no header row)")
        header_line = reader.line_num
        keys = [header_key(h) for h in header]
        index: dict[str, int] = {}
        for name, key in self._wanted().items():
            if key in keys:
                if keys.count(key) > 1:
                    raise self._broken(header_line, name, f"column '{key}' appears more than once")
                index[name] = keys.index(key)
        self._check_columns(set(index), header_line, [h.replace("\ufeff", "").strip() for h in header])
        self.columns = tuple(index)
        self.positions = tuple(index.values())
        return header_line, len(header)

    def _rows(self, handle: Any) -> Iterator[Row]:
        reader = csv.reader(handle, delimiter=self.source.delimiter)
        header_line, width = self._start(reader)
        positions = self.positions
        # the cells wanted, in column order: the whole row as read when that is every cell in order
        pick = None if positions == tuple(range(width)) else picker(positions)
        previous_end = header_line
        for cells in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if len(cells) != width:
                bad = _wrong_width(cells, width)
                if bad is not None:
                    yield start, bad
                continue
            yield start, cells if pick is None else pick(cells)

    def _chunks(self, handle: Any, size: int) -> Iterator[Chunk]:
        reader = csv.reader(handle, delimiter=self.source.delimiter)
        previous_end, width = self._start(reader)
        # each row, and the line it ends on: read in C (zip asks the reader for its line after each row),
        # CHUNK_STEP rows at a time until `size` rows or CHUNK_BYTES of the file (crafted huge rows)
        line_of, second, reading = attrgetter("line_num"), itemgetter(1), repeat(reader)
        tell = handle.buffer.tell
        while True:
            cells: list[list[str]] = []
            ends: list[int] = []
            limit = tell() + CHUNK_BYTES
            while (count := len(cells)) < size:
                wanted = min(CHUNK_STEP, size - count)
                read = map(cells.append, islice(reader, wanted))
                ends += map(line_of, map(second, zip(read, reading, strict=False)))
                if len(cells) - count < wanted or tell() > limit:
                    break  # the end of the file, or enough of it for one chunk
            if not cells:
                return
            first = previous_end + 1
            previous_end = ends[-1]
            if previous_end - first + 1 == len(cells):  # one line per row, the usual case
                starts: Sequence[int] = range(first, previous_end + 1)
            else:
                starts = (first, *(end + 1 for end in ends[:-1]))
            if all(map(width.__eq__, map(len, cells))):
                yield Chunk(starts, cells, True)
                continue
            kept_starts: list[int] = []
            kept: list[Any] = []  # rows, and BadRows
            for start, row in zip(starts, cells, strict=True):
                kept_row = row if len(row) == width else _wrong_width(row, width)
                if kept_row is not None:  # not a blank line
                    kept_starts.append(start)
                    kept.append(kept_row)
            if kept:
                yield Chunk(kept_starts, kept, False)


class Chunk(NamedTuple):
    """Rows of a CSV export as read (`CsvRows.chunks`)."""

    starts: Sequence[int]  # the first line of each row
    rows: Sequence[list[str]]  # every cell of each row, or a `BadRow`
    clean: bool  # no row is a `BadRow`


def _wrong_width(cells: list[str], width: int) -> BadRow | None:
    """A row whose cell count is not the header's: None for a blank line (skipped), else a `BadRow`."""
    if not any(c.strip() for c in cells):
        return None
    # the cell count is wrong: the values would land in the wrong columns
    return BadRow(f"has {len(cells)} cells where the header has {width} (an unquoted delimiter?)")


def picker(positions: tuple[int, ...]) -> Callable[[list[str]], Sequence[str]]:
    """The cells at `positions` of a row, in that order."""
    if len(positions) == 1:
        (only,) = positions
        return lambda cells: (cells[only],)
    return itemgetter(*positions)


class BadRow(list[object]):
    """A row that cannot be split into columns (wrong cell count, not an object); reported and skipped."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message


def unusable_row(values: Sequence[object]) -> str | None:
    """Why a row from `ExportRows` cannot be used at all, or None."""
    return values.message if isinstance(values, BadRow) else None


class _JsonRows(ExportRows):
    def __iter__(self) -> Iterator[Row]:
        wanted = self._wanted()
        by_key = {key: name for name, key in wanted.items()}
        names = tuple(wanted)
        self.columns = names
        seen: set[str] = set()
        key_cache: dict[str, str | None] = {}
        count = 0
        for line, item in self._items():
            if not isinstance(item, dict):
                yield line, BadRow("is not a JSON object")
                continue
            values: dict[str, object] = {}
            for raw_key, value in item.items():
                name = key_cache.get(raw_key, "")
                if name == "":
                    name = key_cache[raw_key] = by_key.get(header_key(str(raw_key)))
                if name is not None:
                    values[name] = _cell(value)
            seen.update(values)
            count += 1
            yield line, [values.get(n, "") for n in names]
        if count:
            self._check_columns(seen, None, sorted(seen))

    def _items(self) -> Iterator[tuple[int, object]]:
        try:
            with _open_text(self.source) as handle:
                if self.source.format == "jsonl":
                    for number, text in enumerate(handle, start=1):
                        if text.strip():
                            try:
                                yield number, json.loads(text)
                            except json.JSONDecodeError as exc:
                                raise self._broken(number, "", f"not JSON: {exc.msg}") from exc
                    return
                try:
                    data = json.load(handle)
                except json.JSONDecodeError as exc:
                    raise self._broken(exc.lineno, "", f"not JSON: {exc.msg}") from exc
        except UnicodeDecodeError as exc:
            raise _decode_failure(self.source, exc) from exc
        except OSError as exc:
            raise self._broken(None, "", f"cannot read: {exc.strerror or exc}") from exc
        if isinstance(data, dict):
            lists = [v for v in data.values() if isinstance(v, list)]
            if len(lists) != 1:
                raise self._broken(
                    None,
                    "",
                    "a JSON export must be a list of objects (or an object holding exactly one such list)",
                )
            data = lists[0]
        if not isinstance(data, list):
            raise self._broken(None, "", "a JSON export must be a list of objects")
        for number, item in enumerate(data, start=1):
            yield -number, item  # negative: an item number, not a line (see tables.py)


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, list):
        return [str(v) for v in value if v is not None]
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
