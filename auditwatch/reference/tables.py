"""Immutable in-memory indexes built from one export each (built by builders.py).

Every lookup the per-event view makes is a dict hit (plus a `bisect` for roster shifts), or for the
largest tables (persons, case links) a probe of an open-addressing index over columns (compact.py),
keyed by strings normalised the same way on the export and on the event side (keys.py). Assignments
and the roster keep tuples of interned strings and `array`s rather than dicts per row.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Final, NamedTuple

from auditwatch.normalise import fold_name
from auditwatch.reference.compact import CodedColumn, KeyIndex, TextColumn
from auditwatch.reference.groups import HashGroups
from auditwatch.reference.keys import name_dob_key, name_key, split_name

OPEN_END: Final = "9999-12-31"


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
            "staff_id": self.staff_id,
            "surname": p.surname,
            "forenames": p.forenames,
            "dob": p.dob,
            "person_id": p.person_id,
            "postcode": self.postcode,
            "address": self.address,
            "unit": self.unit,
            "rank": self.rank,
            "roles": list(self.roles),
            "vetting_level": self.vetting_level,
            "vetting_expiry": self.vetting_expiry,
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
        out: dict[str, object] = {
            "surname": p.surname,
            "forenames": p.forenames,
            "dob": p.dob,
            "person_id": p.person_id,
            "line": self.line,
        }
        until = None if self.applies_until == OPEN_END else self.applies_until
        if self.staff_id is not None:
            out.update(
                staff_id=self.staff_id, relationship=self.reason, declared_on=self.declared_on, ended_on=until
            )
        else:
            out.update(
                category=self.category,
                reason=self.reason,
                added_on=self.applies_from or None,
                removed_on=until,
            )
        return out


class PersonRecord:
    """One row of the records system's person table: a view of row `i` of the table's columns (a force
    has millions of persons), each value read when asked; the folded forms and keys are computed when
    asked (`person_keys`)."""

    __slots__ = ("_i", "_rows")

    def __init__(self, rows: PersonRows, i: int) -> None:
        self._rows = rows
        self._i = i

    @property
    def person_id(self) -> str:
        return self._rows.pid.get(self._i) or ""

    @property
    def surname(self) -> str | None:
        column = self._rows.surname
        return column.values[column.codes[self._i]]

    @property
    def forenames(self) -> str | None:
        column = self._rows.forenames
        return column.values[column.codes[self._i]]

    @property
    def dob(self) -> str | None:
        column = self._rows.dob
        return column.values[column.codes[self._i]]

    @property
    def postcode(self) -> str | None:
        column = self._rows.postcode
        return column.values[column.codes[self._i]]

    @property
    def address(self) -> str | None:
        return self._rows.address.get(self._i)

    @property
    def aliases(self) -> tuple[str, ...]:
        return self._rows.aliases.get(self._i, ())

    @property
    def line(self) -> int:
        return self._rows.line[self._i]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PersonRecord) and other._rows is self._rows and other._i == self._i

    def __hash__(self) -> int:
        return hash((id(self._rows), self._i))

    def __repr__(self) -> str:
        return f"PersonRecord({self.entry()!r})"

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


_new_record: Final = object.__new__


class PersonRows(Mapping[str, PersonRecord]):
    """The person table as columns (see compact.py): person id -> `PersonRecord`, made on lookup.

    About 60 bytes a person plus its text, where a dict of records cost over 400."""

    __slots__ = (
        "address",
        "aliases",
        "by_key",
        "dob",
        "forenames",
        "index",
        "line",
        "pid",
        "postcode",
        "surname",
    )

    def __init__(self, expected: int = 0) -> None:
        self.pid = TextColumn()
        self.index = KeyIndex(self.pid, expected)
        self.surname: CodedColumn[str] = CodedColumn()
        self.forenames: CodedColumn[str] = CodedColumn()
        self.dob: CodedColumn[str] = CodedColumn()
        self.postcode: CodedColumn[str] = CodedColumn()
        self.address = TextColumn()
        self.aliases: dict[int, tuple[str, ...]] = {}  # by row; most persons have none
        self.line = array("i")
        self.by_key = HashGroups(expected)

    def get(self, pid: str, default: object = None) -> PersonRecord | None:  # type: ignore[override]
        row = self.index.find(pid)
        if row < 0:
            return default  # type: ignore[return-value]
        record = _new_record(PersonRecord)
        record._rows, record._i = self, row
        return record

    def __getitem__(self, pid: str) -> PersonRecord:
        found = self.get(pid)
        if found is None:
            raise KeyError(pid)
        return found

    def __contains__(self, pid: object) -> bool:
        return isinstance(pid, str) and self.index.find(pid) >= 0

    def __iter__(self) -> Iterator[str]:
        return (pid for pid in self.pid if pid is not None)

    def __len__(self) -> int:
        return len(self.pid)

    def keys_of(self, row: int) -> list[str]:
        """The name_dob_keys of row `row` (own name, then aliases)."""
        if row in self.aliases:
            return person_keys(PersonRecord(self, row))[0]
        surname, forenames = self.surname.get(row), self.forenames.get(row)
        key = name_dob_key(
            fold_name(surname) if surname else None,
            fold_name(forenames) if forenames else None,
            self.dob.get(row),
        )
        return [key] if key else []

    def pids_with(self, key: str) -> tuple[str, ...]:
        rows = self.by_key.rows(key, self.keys_of)
        if len(rows) < 2:
            return tuple(self.pid.get(row) or "" for row in rows)
        return tuple(sorted(self.pid.get(row) or "" for row in rows))

    def finish(self) -> None:
        self.index.finish()
        for column in (self.surname, self.forenames, self.dob, self.postcode):
            column.finish()

    def nbytes(self) -> int:
        columns = (
            self.pid,
            self.index,
            self.surname,
            self.forenames,
            self.dob,
            self.postcode,
            self.address,
            self.by_key,
        )
        return sum(c.nbytes() for c in columns) + self.line.itemsize * len(self.line)


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
        return {
            "staff_id": self.staff_id,
            "case_ref": self.case_ref,
            "from": self.first_day or None,
            "to": None if self.last_day == OPEN_END else self.last_day,
            "role": self.role or None,
            "line": self.line,
        }

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

    by_id: PersonRows

    def pids_with(self, key: str) -> tuple[str, ...]:
        """The person ids whose name (or an alias) and DOB give identity key `key`, sorted."""
        return self.by_id.pids_with(key)


@dataclass(frozen=True, slots=True)
class AssignmentTable(Table):
    by_staff: Mapping[str, Mapping[str, tuple[Assignment, ...]]]  # staff -> case -> assignments
    by_case: Mapping[str, tuple[Assignment, ...]]


@dataclass(frozen=True, slots=True)
class CaseLinkTable(Table):
    # person/record id -> flat (case_ref, role, case_ref, role, ...), held as columns (compact.py)
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
