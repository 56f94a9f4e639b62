"""Immutable in-memory indexes built from one export each.

Every lookup the per-event view makes is a dict hit (plus a `bisect` for roster shifts), keyed by
strings normalised the same way on the export and on the event side. Large tables (case links,
assignments, roster) keep tuples of interned strings and `array`s rather than dicts per row.

Name matching (used for staff, watchlist and associates):
- `name_dob_key`: folded surname (spaces dropped) + first folded forename + ISO date of birth. Middle
  names are ignored so "Jane SMITH" and "Jane Mary SMITH" born the same day match, and "O BRIEN",
  "O'Brien" and "OBRIEN" are one surname.
- `name_key`: all folded name words, sorted: "SMITH, Jane" == "Jane Smith"; used only for
  watchlist entries that have no date of birth.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final, NamedTuple

from auditwatch.errors import AuditwatchError, Problem
from auditwatch.normalise import build_normaliser, compile_date, compile_timestamp, fold_name
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
from auditwatch.reference.readers import unusable_row
from auditwatch.timefmt import iso_utc

OPEN_END: Final = "9999-12-31"
STATUSES: Final = ("active", "suspended", "restricted", "left")
_STATUS_WORDS: Final[dict[str, str]] = {
    "active": "active", "current": "active", "in_post": "active", "employed": "active",
    "suspended": "suspended",
    "restricted": "restricted", "restricted_duties": "restricted", "on_restricted_duties": "restricted",
    "left": "left", "leaver": "left", "resigned": "left", "retired": "left", "dismissed": "left",
    "terminated": "left",
}
_LIST_SPLIT: Final = re.compile(r"[,;|]")
_NAMES_SPLIT: Final = re.compile(r"[;|]")
_TIME: Final = re.compile(r"\s*(\d{1,2}):?(\d{2})(?::(\d{2}))?\s*")
_ADDRESS_WORDS: Final[dict[str, str]] = {
    "road": "rd", "street": "st", "avenue": "ave", "lane": "ln", "drive": "dr", "close": "cl",
    "court": "ct", "crescent": "cres", "place": "pl", "gardens": "gdns", "terrace": "ter",
    "square": "sq", "apartment": "flat", "apt": "flat",
}
_DIGITS: Final = re.compile(r"\d+[a-z]?")


def token(value: str) -> str | None:
    """A code word: 'Press Office' -> 'press_office'."""
    return fold_name(value).replace(" ", "_") or None


def name_dob_key(surname_fold: str | None, forenames_fold: str | None, dob: str | None) -> str | None:
    """Folded surname without spaces (records systems write "O'BRIEN", "O BRIEN" or "OBRIEN", "SMITH-JONES"
    or "SMITH JONES"), first folded forename and ISO date of birth."""
    if not (surname_fold and forenames_fold and dob):
        return None
    return f"{surname_fold.replace(' ', '')}|{forenames_fold.split(' ', 1)[0]}|{dob}"


def name_key(surname_fold: str | None, forenames_fold: str | None) -> str | None:
    if not (surname_fold and forenames_fold):
        return None
    return " ".join(sorted(f"{surname_fold} {forenames_fold}".split()))


def split_name(full: str) -> tuple[str | None, str | None]:
    """'SMITH, Jane' or 'Jane Smith' -> ('SMITH', 'Jane') / ('Smith', 'Jane')."""
    if "," in full:
        surname, _, forenames = full.partition(",")
        return surname.strip() or None, forenames.strip() or None
    words = full.split()
    if len(words) < 2:
        return (words[0] if words else None), None
    return words[-1], " ".join(words[:-1])


def address_parts(address: str | None) -> tuple[str | None, tuple[str, ...]]:
    """A normalised address (abbreviations unified) and its house/flat numbers."""
    if not address:
        return None, ()
    words = [_ADDRESS_WORDS.get(w, w) for w in fold_name(address).split()]
    text = " ".join(words) or None
    return text, tuple(_DIGITS.findall(text or ""))


# ---------------------------------------------------------------------------------------------
# rows -> canonical values


class _Bad(AuditwatchError):
    pass


_MISSING: Final = object()


Converter = Callable[[object], object]


def _text(value: object) -> str:
    return value if isinstance(value, str) else ", ".join(map(str, value)) if isinstance(value, list) else ""


_DISTINCT: Final = frozenset({"person_id", "record_id", "address", "surname", "forenames", "name", "start",
                              "end", "reason", "count", "aliases"})
_CACHE_LIMIT: Final = 100_000


def _converter(source: SourceConfig, cfg: ReferenceConfig, column: str) -> Converter:
    """The cell converter for `column`; repetitive columns get a bounded cache, which also makes
    equal values share one string object (less memory in large tables)."""
    convert = _plain_converter(source, cfg, column)
    if column in _DISTINCT:
        return convert
    cache: dict[str, object] = {}

    def cached(value: object) -> object:
        if value.__class__ is not str:
            return convert(value)
        found = cache.get(value, _MISSING)
        if found is _MISSING:
            found = convert(value)  # raises _Bad for a bad value: not cached
            if len(cache) < _CACHE_LIMIT:
                cache[value] = found
        return found

    return cached


def _plain_converter(source: SourceConfig, cfg: ReferenceConfig, column: str) -> Converter:
    kind_type = KINDS[source.kind].columns[column][0]
    spec = source.normalise.get(column)
    if spec is None and kind_type == ID:
        spec = cfg.identifiers.get(column, "trim")
    custom = build_normaliser(spec) if spec is not None else None

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
    essential = set(spec.required)
    blank_together = spec.blank_together
    for line, values in rows:
        if not names:
            names = columns()
            converters = [_converter(source, cfg, name) for name in names]
        if values.__class__ is not list:  # the readers' _BadRow subclass: cannot be split
            problems.add(line, "", unusable_row(values) or "unreadable row", skipped=True)
            continue
        try:
            cells = [convert(raw) for convert, raw in zip(converters, values, strict=True)]
            out = dict(zip(names, cells, strict=True))
        except _Bad:
            converted = _convert_slowly(names, converters, values, essential, line=line, problems=problems)
            if converted is None:
                continue
            out = converted
        for name in spec.required:
            if not out.get(name):
                if name in blank_together and not any(out.get(n) for n in blank_together):
                    continue  # all blank together: a valid row stating an absence (a rest day)
                problems.add(line, name, f"no {name}", skipped=True)
                break
        else:
            if spec.one_of and not any(out.get(n) for n in spec.one_of):
                problems.add(line, spec.one_of[0], f"needs one of {', '.join(spec.one_of)}", skipped=True)
                continue
            yield line, out


def _convert_slowly(
    names: tuple[str, ...], converters: list[Converter], values: list[object], essential: set[str],
    *, line: int, problems: RowProblems,
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


# ---------------------------------------------------------------------------------------------
# the tables


@dataclass(frozen=True, slots=True)
class Person:
    """Identity of a person in an export row, with its matching keys."""

    surname: str | None
    forenames: str | None
    dob: str | None
    person_id: str | None
    surname_fold: str | None
    name_dob_key: str | None
    name_key: str | None


def _person(row: Mapping[str, Any], *, with_name_key: bool = True) -> Person:
    surname, forenames = row.get("surname"), row.get("forenames")
    if not surname and row.get("name"):
        surname, split_fore = split_name(row["name"])
        forenames = forenames or split_fore
    sfold = fold_name(surname) if surname else None
    ffold = fold_name(forenames) if forenames else None
    dob = row.get("dob")
    return Person(surname, forenames, dob, row.get("person_id"), sfold or None,
                  name_dob_key(sfold, ffold, dob), name_key(sfold, ffold) if with_name_key else None)


@dataclass(frozen=True, slots=True)
class StaffEntry:
    """One member of staff (the latest HR row for the staff id, plus the status history)."""

    staff_id: str
    person: Person
    postcode: str | None
    address: str | None
    address_key: str | None
    address_numbers: tuple[str, ...]
    unit: str | None
    rank: str | None
    roles: tuple[str, ...]
    vetting_level: str | None
    vetting_expiry: str | None
    history: tuple[tuple[str, str], ...]  # (first day or "", status), by first day
    line: int

    def status_on(self, day: str) -> str:
        """Status effective on ISO `day`; before any recorded change a listed person is active."""
        status = "active"
        for first_day, value in self.history:
            if first_day > day:
                break
            status = value
        return status

    def status_row_on(self, day: str) -> tuple[str, str] | None:
        found = None
        for row in self.history:
            if row[0] > day:
                break
            found = row
        return found

    def display(self) -> str:
        p = self.person
        name = " ".join(x for x in (p.forenames, (p.surname or "").upper()) if x)
        return f"{self.staff_id} {name}".strip()

    def entry(self) -> dict[str, object]:
        p = self.person
        return {
            "staff_id": self.staff_id, "surname": p.surname, "forenames": p.forenames, "dob": p.dob,
            "person_id": p.person_id, "postcode": self.postcode, "address": self.address,
            "unit": self.unit, "rank": self.rank, "roles": list(self.roles),
            "vetting_level": self.vetting_level, "vetting_expiry": self.vetting_expiry,
            "status_history": [{"from": d or None, "status": s} for d, s in self.history],
            "line": self.line,
        }


@dataclass(frozen=True, slots=True)
class ListedPerson:
    """A watchlist entry or a declared associate, applying on the local days
    `applies_from` <= day < `applies_until` (watchlist added_on/removed_on; associates
    declared_on/ended_on)."""

    person: Person
    staff_id: str | None  # who declared (associates)
    category: str | None
    reason: str | None  # watchlist reason, or the declared relationship
    declared_on: str | None
    line: int
    applies_from: str = ""  # "" = always
    applies_until: str = OPEN_END  # the first day the entry no longer applies

    def applies_on(self, day: str) -> bool:
        return self.applies_from <= day < self.applies_until

    @property
    def dated(self) -> bool:
        """Whether the entry applies on some days only."""
        return bool(self.applies_from) or self.applies_until != OPEN_END

    def period(self) -> str:
        start = f"from {self.applies_from}" if self.applies_from else ""
        end = f"until {self.applies_until}" if self.applies_until != OPEN_END else ""
        return " ".join(x for x in (start, end) if x)

    def display(self) -> str:
        p = self.person
        name = " ".join(x for x in (p.forenames, (p.surname or "").upper()) if x) or p.person_id or "?"
        return f"{name} (DOB {p.dob})" if p.dob else name

    def entry(self) -> dict[str, object]:
        p = self.person
        out: dict[str, object] = {"surname": p.surname, "forenames": p.forenames, "dob": p.dob,
                                  "person_id": p.person_id, "line": self.line}
        until = None if self.applies_until == OPEN_END else self.applies_until
        if self.staff_id is not None:
            out.update(staff_id=self.staff_id, relationship=self.reason, declared_on=self.declared_on,
                       ended_on=until)
        else:
            out.update(category=self.category, reason=self.reason, added_on=self.applies_from or None,
                       removed_on=until)
        return out


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """One row of the records system's person table. Kept lean (a force has millions): the folded
    forms and keys are computed when asked (`person_keys`), not stored."""

    person_id: str
    surname: str | None
    forenames: str | None
    dob: str | None
    postcode: str | None
    address: str | None
    aliases: tuple[str, ...]
    line: int

    def names(self) -> tuple[tuple[str | None, str | None], ...]:
        """(surname, forenames) of the person's own name, then of each alias."""
        return ((self.surname, self.forenames), *(split_name(alias) for alias in self.aliases))

    def display(self) -> str:
        name = " ".join(x for x in (self.forenames, (self.surname or "").upper()) if x) or "?"
        born = f", DOB {self.dob}" if self.dob else ""
        return f"{self.person_id} {name}{born}"

    def entry(self) -> dict[str, object]:
        return {
            "person_id": self.person_id,
            "surname": self.surname,
            "forenames": self.forenames,
            "dob": self.dob,
            "postcode": self.postcode,
            "address": self.address,
            "aliases": list(self.aliases),
            "line": self.line,
        }


def person_keys(row: PersonRecord) -> tuple[list[str], list[str]]:
    """(name_dob_keys, name_keys) of a person-table row: own name first, then each alias."""
    keys: list[str] = []
    name_keys: list[str] = []
    for surname, forenames in row.names():
        sfold = fold_name(surname) if surname else None
        ffold = fold_name(forenames) if forenames else None
        key, nkey = name_dob_key(sfold, ffold, row.dob), name_key(sfold, ffold)
        if key and key not in keys:
            keys.append(key)
        if nkey and nkey not in name_keys:
            name_keys.append(nkey)
    return keys, name_keys


class Assignment(NamedTuple):
    staff_id: str
    case_ref: str
    first_day: str  # "" = no start date
    last_day: str  # OPEN_END = still assigned
    role: str
    line: int

    def covers(self, day: str) -> bool:
        return self.first_day <= day <= self.last_day

    def entry(self) -> dict[str, object]:
        return {"staff_id": self.staff_id, "case_ref": self.case_ref, "from": self.first_day or None,
                "to": None if self.last_day == OPEN_END else self.last_day, "role": self.role or None,
                "line": self.line}

    def period(self) -> str:
        start = self.first_day or "the start"
        end = "open-ended" if self.last_day == OPEN_END else f"to {self.last_day}"
        return f"from {start} {end}"


@dataclass(frozen=True, slots=True)
class Table:
    """What every table knows about the export it came from."""

    kind: str
    source: str  # the export's path
    as_of: str  # ISO date of the export (file modification time, UTC)
    rows: int  # rows loaded


@dataclass(frozen=True, slots=True)
class StaffTable(Table):
    by_id: Mapping[str, StaffEntry]
    by_person: Mapping[str, tuple[str, ...]]  # person id -> staff ids
    by_name_dob: Mapping[str, tuple[str, ...]]  # name_dob_key -> staff ids
    surname_counts: Mapping[str, int]  # folded surname -> staff bearing it


@dataclass(frozen=True, slots=True)
class ListTable(Table):
    """Watchlist (by person/name) or integrity register (by declaring staff id)."""

    by_person: Mapping[str, tuple[ListedPerson, ...]]
    by_name_dob: Mapping[str, tuple[ListedPerson, ...]]
    by_name: Mapping[str, tuple[ListedPerson, ...]]  # watchlist entries without a DOB only
    by_staff: Mapping[str, tuple[ListedPerson, ...]]  # associates only


@dataclass(frozen=True, slots=True)
class PersonTable(Table):
    """The records system's person table."""

    by_id: Mapping[str, PersonRecord]
    by_key: Mapping[str, str | tuple[str, ...]]  # name_dob_key (own name or alias) -> person id(s), sorted

    def pids_with(self, key: str) -> tuple[str, ...]:
        """The person ids whose name (or an alias) and DOB give identity key `key`, sorted."""
        found = self.by_key.get(key)
        return () if found is None else (found,) if found.__class__ is str else found  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class AssignmentTable(Table):
    by_staff: Mapping[str, Mapping[str, tuple[Assignment, ...]]]  # staff -> case -> assignments
    by_case: Mapping[str, tuple[Assignment, ...]]


@dataclass(frozen=True, slots=True)
class CaseLinkTable(Table):
    # person/record id -> flat (case_ref, role, case_ref, role, ...) of interned strings: compact
    by_person: Mapping[str, tuple[str, ...]]
    by_record: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Shifts:
    """One person's shifts in a single array (one object instead of four per person): starts (sorted),
    ends, running maximum of ends (a shift covering t exists iff max_end[i] >= t), export lines."""

    data: array[float]
    count: int

    def covering(self, at: float, grace: float) -> int | None:
        """Index of a shift covering `at` (± grace), or None."""
        d, n = self.data, self.count
        i = bisect_right(d, at + grace, 0, n) - 1
        if i < 0 or d[2 * n + i] < at - grace:
            return None
        while d[n + i] < at - grace:  # the running maximum says one exists at or before i
            i -= 1
        return i

    def shift(self, i: int) -> tuple[float, float, int]:
        """(start, end, export line) of shift `i`."""
        n = self.count
        return self.data[i], self.data[n + i], int(self.data[3 * n + i])

    @property
    def starts(self) -> list[float]:
        return list(self.data[: self.count])

    @property
    def ends(self) -> list[float]:
        return list(self.data[self.count : 2 * self.count])


@dataclass(frozen=True, slots=True)
class RosterTable(Table):
    by_staff: Mapping[str, Shifts]


@dataclass(frozen=True, slots=True)
class SurnameTable(Table):
    counts: Mapping[str, float]
    max_count: float


# ---------------------------------------------------------------------------------------------
# builders: (source, rows) -> table


Rows = Iterable[tuple[int, dict[str, Any]]]
Builder = Callable[[SourceConfig, ReferenceConfig, Rows, str, RowProblems], Table]


def build_table(
    source: SourceConfig, cfg: ReferenceConfig, rows: Rows, as_of: str, problems: RowProblems
) -> Table:
    builder = _BUILDERS[source.kind]
    return builder(source, cfg, rows, as_of, problems)


def _staff(
    source: SourceConfig, cfg: ReferenceConfig, rows: Rows, as_of: str, problems: RowProblems
) -> Table:
    by_id: dict[str, StaffEntry] = {}
    rank: dict[str, str] = {}  # staff id -> status_from of the row its entry was built from
    count = 0
    for line, row in rows:
        status = row.get("status")
        if status:
            known = _STATUS_WORDS.get(status)
            if known is None:
                problems.add(line, "status", f"unknown status {status!r} (known: {', '.join(STATUSES)}; "
                             "map others with `normalise: {status: {map: ...}}`)", skipped=False)
            row["status"] = known or status
        count += 1
        sid = row["staff_id"]
        change = (row.get("status_from") or "", row.get("status") or "active")
        previous = by_id.get(sid)
        if previous is None:
            by_id[sid] = _staff_entry(row, line, (change,))
            rank[sid] = change[0]
            continue
        # several rows for one staff id: a status history; the latest row gives the identity
        history = tuple(sorted({*previous.history, change}))
        if change[0] >= rank[sid]:
            by_id[sid] = _staff_entry(row, line, history)
            rank[sid] = change[0]
        else:
            by_id[sid] = dataclasses.replace(previous, history=history)
    by_person: dict[str, list[str]] = {}
    by_name_dob: dict[str, list[str]] = {}
    surname_counts: dict[str, int] = {}
    for sid, entry in by_id.items():
        person = entry.person
        if person.person_id:
            by_person.setdefault(person.person_id, []).append(sid)
        if person.name_dob_key:
            by_name_dob.setdefault(person.name_dob_key, []).append(sid)
        if person.surname_fold:
            surname_counts[person.surname_fold] = surname_counts.get(person.surname_fold, 0) + 1
    return StaffTable(
        "staff", source.path, as_of, count, by_id, _tuples(by_person), _tuples(by_name_dob), surname_counts
    )


def _staff_entry(row: dict[str, Any], line: int, history: tuple[tuple[str, str], ...]) -> StaffEntry:
    address_key, numbers = address_parts(row.get("address"))
    return StaffEntry(
        row["staff_id"], _person(row), row.get("postcode"), row.get("address"),
        address_key, numbers, row.get("unit"), row.get("rank"), row.get("roles") or (),
        row.get("vetting_level"), row.get("vetting_expiry"), history, line,
    )


def _listed(kind: str) -> Builder:
    def build(
        source: SourceConfig, cfg: ReferenceConfig, rows: Rows, as_of: str, problems: RowProblems
    ) -> Table:
        by_person: dict[str, list[ListedPerson]] = {}
        by_name_dob: dict[str, list[ListedPerson]] = {}
        by_name: dict[str, list[ListedPerson]] = {}
        by_staff: dict[str, list[ListedPerson]] = {}
        count = 0
        for line, row in rows:
            person = _person(row)
            if not (person.person_id or person.name_dob_key or person.name_key):
                problems.add(line, "surname", "needs a person id, or a surname and forenames", skipped=True)
                continue
            associate = kind == "associates"
            first = (row.get("declared_on") if associate else row.get("added_on")) or ""
            until_column = "ended_on" if associate else "removed_on"
            until = row.get(until_column) or OPEN_END
            if until <= first:
                start_column = "declared_on" if associate else "added_on"
                problems.add(line, until_column, f"{until_column} ({until}) is not after {start_column} "
                             f"({first})", skipped=True)
                continue
            listed = ListedPerson(
                person, row.get("staff_id") if associate else None, row.get("category"),
                row.get("relationship") if associate else row.get("reason"), row.get("declared_on"), line,
                first, until,
            )
            count += 1
            if associate:
                by_staff.setdefault(row["staff_id"], []).append(listed)
                continue
            if person.person_id:
                by_person.setdefault(person.person_id, []).append(listed)
            if person.name_dob_key:
                by_name_dob.setdefault(person.name_dob_key, []).append(listed)
            elif person.name_key and not person.dob:
                by_name.setdefault(person.name_key, []).append(listed)
        return ListTable(kind, source.path, as_of, count, _tuples(by_person), _tuples(by_name_dob),
                         _tuples(by_name), _tuples(by_staff))

    return build


def _persons(
    source: SourceConfig, cfg: ReferenceConfig, rows: Rows, as_of: str, problems: RowProblems
) -> Table:
    """Names are folded and postcodes normalised here, once: records systems often store names
    upper-cased or ASCII-folded and postcodes unspaced; matching compares the folded forms."""
    by_id: dict[str, PersonRecord] = {}
    by_key: dict[str, str | tuple[str, ...]] = {}  # a str for one person (the usual case): less memory
    intern = sys.intern
    for line, row in rows:
        pid = row["person_id"]
        if pid in by_id:
            where = f"already on line {by_id[pid].line}"
            problems.add(line, "person_id", f"person id {pid!r} {where}", skipped=True)
            continue
        surname, forenames = row.get("surname"), row.get("forenames")
        if not surname and row.get("name"):
            surname, split_fore = split_name(row["name"])
            forenames = forenames or split_fore
        record = PersonRecord(
            pid,
            intern(surname) if surname else None,  # names repeat: one string each
            intern(forenames) if forenames else None,
            row.get("dob"),
            row.get("postcode"),
            row.get("address"),
            row.get("aliases") or (),
            line,
        )
        by_id[pid] = record
        for key in person_keys(record)[0]:
            found = by_key.get(key)
            if found is None:
                by_key[key] = pid
            elif found.__class__ is str:
                by_key[key] = tuple(sorted((found, pid)))
            else:
                by_key[key] = tuple(sorted((*found, pid)))
    return PersonTable("persons", source.path, as_of, len(by_id), by_id, by_key)


def _assignments(
    source: SourceConfig, cfg: ReferenceConfig, rows: Rows, as_of: str, problems: RowProblems
) -> Table:
    by_staff: dict[str, dict[str, tuple[Assignment, ...]]] = {}
    by_case: dict[str, tuple[Assignment, ...]] = {}
    intern = sys.intern
    count = 0
    for line, row in rows:
        first, last = row.get("from") or "", row.get("to") or OPEN_END
        if last < first:
            problems.add(line, "to", f"ends ({last}) before it starts ({first})", skipped=True)
            continue
        case = intern(row["case_ref"])
        item = Assignment(intern(row["staff_id"]), case, first, last, intern(row.get("role") or ""), line)
        cases = by_staff.get(item.staff_id)
        if cases is None:
            cases = by_staff[item.staff_id] = {}
        _add(cases, case, item)
        _add(by_case, case, item)
        count += 1
    return AssignmentTable("assignments", source.path, as_of, count, by_staff, by_case)


def _case_links(
    source: SourceConfig, cfg: ReferenceConfig, rows: Rows, as_of: str, problems: RowProblems
) -> Table:
    by_person: dict[str, tuple[str, ...]] = {}
    by_record: dict[str, tuple[str, ...]] = {}
    intern = sys.intern
    count = 0
    for _line, row in rows:
        case, role = intern(row["case_ref"]), intern(row.get("role") or "")
        person, record = row.get("person_id"), row.get("record_id")
        if person:
            _add(by_person, person, case, role)
        if record:
            _add(by_record, record, case, role)
        count += 1
    return CaseLinkTable("case_links", source.path, as_of, count, by_person, by_record)


def _roster(
    source: SourceConfig, cfg: ReferenceConfig, rows: Rows, as_of: str, problems: RowProblems
) -> Table:
    zone = source.timezone or cfg.timezone
    parse_ts = compile_timestamp(list(source.timestamp_formats), zone)
    parse_iso = compile_timestamp(["%Y-%m-%dT%H:%M:%S"], zone)  # local wall-clock time
    parse_date = compile_date(list(source.date_formats))
    shifts: dict[str, array[float]] = {}  # staff -> start, end, line, start, end, line, ...
    seen: dict[tuple[str, str], float | None] = {}  # rosters repeat a few dates and shift times

    def time_on(day: str, text: str) -> float | None:
        key = (day, text)
        if key not in seen:
            seen[key] = _time_on(parse_iso, day, text)
        return seen[key]

    count = 0
    for line, row in rows:
        start_text, end_text, day_text = row["start"], row["end"], row.get("date")
        if not start_text and not end_text:
            count += 1  # no times: a rest day or leave, i.e. not on duty; a valid row, no shift
            continue
        if day_text:
            day = parse_date(day_text)
            if day is None:
                formats = " or ".join(source.date_formats)
                problems.add(line, "date", f"{day_text!r} is not a date in {formats}", skipped=True)
                continue
            start, end = time_on(day, start_text), time_on(day, end_text)
            if start is not None and end is not None and end <= start:  # crosses midnight
                end = time_on(_next_day(day), end_text)
        else:
            start, end = parse_ts(start_text), parse_ts(end_text)
        bad = "start" if start is None else "end" if end is None else None
        if bad is not None:
            problems.add(line, bad, f"{row[bad]!r} is not a time in {' or '.join(source.timestamp_formats)}",
                         skipped=True)
            continue
        assert start is not None
        assert end is not None
        if end <= start:
            problems.add(line, "end", f"shift ends ({iso_utc(end)}) before it starts ({iso_utc(start)})",
                         skipped=True)
            continue
        found = shifts.get(row["staff_id"])
        if found is None:
            found = shifts[sys.intern(row["staff_id"])] = array("d")
        found.extend((start, end, float(line)))
        count += 1
    by_staff: dict[str, Shifts] = {}
    for sid, flat in shifts.items():
        items = sorted(zip(flat[0::3], flat[1::3], flat[2::3], strict=True))
        running, max_end = float("-inf"), []
        for _, end, _ in items:
            running = max(running, end)
            max_end.append(running)
        data = array("d", [i[0] for i in items])
        data.extend(i[1] for i in items)
        data.extend(max_end)
        data.extend(i[2] for i in items)
        by_staff[sid] = Shifts(data, len(items))
    return RosterTable("roster", source.path, as_of, count, by_staff)


def _time_on(parse_iso: Callable[[str], float | None], day: str, text: str) -> float | None:
    match = _TIME.fullmatch(text)
    if match is None:
        return None
    hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    if hour == 24 and minute == 0 and second == 0:  # "24:00" ends the day
        return parse_iso(f"{_next_day(day)}T00:00:00")
    return parse_iso(f"{day}T{hour:02d}:{minute:02d}:{second:02d}")


def _next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def _surnames(
    source: SourceConfig, cfg: ReferenceConfig, rows: Rows, as_of: str, problems: RowProblems
) -> Table:
    counts: dict[str, float] = {}
    for _line, row in rows:
        folded = fold_name(row["surname"])
        if folded:
            counts[folded] = counts.get(folded, 0.0) + float(row["count"])
    top = max(counts.values(), default=0.0)
    return SurnameTable("surnames", source.path, as_of, len(counts), counts, top)


_BUILDERS: Final[dict[str, Builder]] = {
    "staff": _staff,
    "persons": _persons,
    "watchlist": _listed("watchlist"),
    "associates": _listed("associates"),
    "assignments": _assignments,
    "case_links": _case_links,
    "roster": _roster,
    "surnames": _surnames,
}


def _add(index: dict[str, tuple[Any, ...]], key: str, *values: Any) -> None:
    """Append to a tuple value. Groups are small; building tuples directly (no lists converted at
    the end) leaves no freed lists behind, which otherwise fragment memory and inflate RSS."""
    found = index.get(key)
    index[key] = values if found is None else found + values


def _tuples(index: Mapping[str, list[Any]]) -> dict[str, tuple[Any, ...]]:
    return {key: tuple(values) for key, values in index.items()}
