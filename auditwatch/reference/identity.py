"""Who an event's subject is: staff, watchlist entries and declared associates joined to identities.

Audit lines usually carry only the records system's person id; HR exports know nothing of those
ids, watchlists and integrity registers carry whichever they have. The records system's person
table (`persons` exports) bridges them: a person id stands for a name and a date of birth, and a
name and a date of birth stand for the person ids that bear them.

`IdentityIndex` is built once per reference snapshot. For every staff member, watchlist entry and
declared associate it lists each subject key that identifies them, so that matching an event's
subject costs a dict hit per key it carries:

- **person id** (`by_pid`): the entry's own person id; and every person whose row in the person
  table has the entry's identity key (folded surname + first forename + DOB; aliases count).
- **name and date of birth** (`by_key`): the entry's identity key; and the keys of the person-table
  row of the entry's person id.
- **name only** (`by_name`): the entry's name key (all name words, folded, sorted). Used only by the
  opt-in `*_by_name` signals, and only when a date of birth is missing on one side: a namesake with
  another date of birth never matches.

An identity key borne by several persons (duplicate nominals, or true namesakes born the same day)
links the entry to each of them, in person-id order; every such match says so in its evidence.

Every link carries how it was made (`PERSON_ID`, `NAME_DOB`, `NAME_ONLY`) and a plain-language
account of it, written here once so that an alert's evidence costs nothing on the event path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from auditwatch.reference.tables import (
    ListedPerson,
    ListTable,
    Person,
    PersonRecord,
    PersonTable,
    StaffEntry,
    StaffTable,
    Table,
    person_keys,
)

PERSON_ID: Final = "person_id"
NAME_DOB: Final = "name_dob"
NAME_ONLY: Final = "name_only"
METHODS: Final = {
    PERSON_ID: "person id",
    NAME_DOB: "name and date of birth",
    NAME_ONLY: "name only",
}
#: what a link leads to: a member of staff, or a watchlist entry or declared associate
Target = TypeVar("Target", bound="StaffEntry | ListedPerson")


@dataclass(frozen=True, slots=True)
class Via:
    """The person-table row a link went through."""

    person: PersonRecord
    table: PersonTable

    def entry(self) -> dict[str, object]:
        return {**self.person.entry(), "source": self.table.source, "as_of": self.table.as_of}


@dataclass(frozen=True, slots=True)
class Link(Generic[Target]):
    """One reference entry tied to a subject key, and how. (Build it unsubscripted: `Link(...)`.)"""

    target: Target
    table: Table  # the export the target came from
    method: str  # PERSON_ID | NAME_DOB | NAME_ONLY
    text: str  # how, in plain language ("person id P-1, the HR record's person id")
    via: Via | None = None


Links = tuple[Link[Target], ...]


@dataclass(frozen=True, slots=True)
class Joins(Generic[Target]):
    """Subject keys -> the entries of one kind they identify. (Build it unsubscripted.)"""

    by_pid: Mapping[str, Links[Target]]
    by_key: Mapping[str, Links[Target]]
    by_name: Mapping[str, Links[Target]]


class IdentityIndex:
    """Person table lookups and the joins of staff, watchlists and associates to subject keys."""

    __slots__ = ("associates", "persons", "staff", "watchlist")

    def __init__(
        self,
        persons: tuple[PersonTable, ...],
        staff: tuple[StaffTable, ...],
        watchlists: tuple[ListTable, ...],
        associates: tuple[ListTable, ...],
    ) -> None:
        self.persons = persons
        staff_builder: _JoinBuilder[StaffEntry] = _JoinBuilder(persons, "the HR record")
        for hr in staff:
            for entry in hr.by_id.values():
                staff_builder.add(entry, hr, entry.person)
        self.staff = staff_builder.build()
        watch_builder: _JoinBuilder[ListedPerson] = _JoinBuilder(persons, "the watchlist entry")
        for watchlist in watchlists:
            for listed in _listed(watchlist):
                watch_builder.add(listed, watchlist, listed.person)
        self.watchlist = watch_builder.build()
        by_staff: dict[str, _JoinBuilder[ListedPerson]] = {}
        for register in associates:
            for sid, entries in register.by_staff.items():
                builder = by_staff.get(sid)
                if builder is None:
                    builder = by_staff[sid] = _JoinBuilder(persons, "the declaration")
                for listed in entries:
                    builder.add(listed, register, listed.person)
        self.associates: Mapping[str, Joins[ListedPerson]] = {sid: b.build() for sid, b in by_staff.items()}

    def person(self, pid: str) -> tuple[PersonRecord, PersonTable] | None:
        """The person-table row of person id `pid` (the first export that has it)."""
        for table in self.persons:
            found = table.by_id.get(pid)
            if found is not None:
                return found, table
        return None

    def bearers(self, key: str) -> tuple[tuple[PersonRecord, PersonTable], ...]:
        """The persons whose name (or an alias) and DOB give identity key `key`, in person-id order."""
        if not self.persons:
            return ()
        found: list[tuple[PersonRecord, PersonTable]] = []
        for table in self.persons:
            for pid in table.pids_with(key):
                if all(pid != f[0].person_id for f in found):
                    found.append((table.by_id[pid], table))
        if len(found) > 1:
            found.sort(key=lambda f: f[0].person_id)
        return tuple(found)


def _listed(table: ListTable) -> Iterable[ListedPerson]:
    """Each watchlist entry once (the table indexes one entry under several keys)."""
    seen: set[int] = set()
    for index in (table.by_person, table.by_name_dob, table.by_name):
        for entries in index.values():
            for listed in entries:
                if id(listed) not in seen:
                    seen.add(id(listed))
                    yield listed


class _JoinBuilder(Generic[Target]):
    def __init__(self, persons: tuple[PersonTable, ...], whose: str) -> None:
        self.persons = persons
        self.whose = whose  # "the HR record", for the texts
        self.by_pid: dict[str, list[Link[Target]]] = {}
        self.by_key: dict[str, list[Link[Target]]] = {}
        self.by_name: dict[str, list[Link[Target]]] = {}

    def add(self, target: Target, table: Table, person: Person) -> None:
        whose = self.whose
        pid = person.person_id
        own_rows: list[tuple[PersonRecord, PersonTable]] = []
        if pid:
            self._put(
                self.by_pid, pid, Link(target, table, PERSON_ID, f"person id {pid}, {whose}'s person id")
            )
            own_rows = [(row, t) for t in self.persons if (row := t.by_id.get(pid)) is not None]
        # name and DOB given by the entry itself
        key = person.name_dob_key
        if key:
            self._put(self.by_key, key, Link(target, table, NAME_DOB, METHODS[NAME_DOB]))
            bearers = self._bearers(key)
            shared = _shared(bearers)
            for row, persons in bearers:
                text = (
                    f"name and date of birth: person {row.person_id} in {_base(persons.source)} has "
                    f"{whose}'s surname, first forename and date of birth{shared}"
                )
                self._put(self.by_pid, row.person_id, Link(target, table, NAME_DOB, text, Via(row, persons)))
        # name and DOB given by the person table's row of the entry's person id
        for own, persons in own_rows:
            for k in person_keys(own)[0]:
                if k == key:
                    continue
                text = (
                    f"name and date of birth: those of person {own.person_id} in "
                    f"{_base(persons.source)}, {whose}'s person id"
                )
                self._put(self.by_key, k, Link(target, table, NAME_DOB, text, Via(own, persons)))
                bearers = self._bearers(k)
                shared = _shared(bearers)
                for row, bearer_table in bearers:
                    if row.person_id == pid:
                        continue
                    text = (
                        f"name and date of birth: person {row.person_id} in {_base(bearer_table.source)} "
                        f"has the surname, first forename and date of birth of person {own.person_id}, "
                        f"{whose}'s person id{shared}"
                    )
                    self._put(
                        self.by_pid,
                        row.person_id,
                        Link(target, table, NAME_DOB, text, Via(row, bearer_table)),
                    )
        # name only (opt-in signals)
        nkey = person.name_key
        if nkey:
            text = f"name only ({whose} has no date of birth)" if not person.dob else "name only"
            self._put(self.by_name, nkey, Link(target, table, NAME_ONLY, text))

    def _bearers(self, key: str) -> list[tuple[PersonRecord, PersonTable]]:
        return [(t.by_id[p], t) for t in self.persons for p in t.pids_with(key)]

    @staticmethod
    def _put(index: dict[str, list[Link[Target]]], key: str, link: Link[Target]) -> None:
        links = index.get(key)
        if links is None:
            index[key] = [link]
        elif all(existing.target is not link.target for existing in links):
            links.append(link)

    def build(self) -> Joins[Target]:
        def frozen(index: dict[str, list[Link[Target]]]) -> dict[str, Links[Target]]:
            return {key: tuple(links) for key, links in index.items()}

        return Joins(frozen(self.by_pid), frozen(self.by_key), frozen(self.by_name))


def _shared(bearers: list[tuple[PersonRecord, PersonTable]]) -> str:
    """What the evidence says of an identity key borne by several persons ("" for one or none)."""
    if len(bearers) < 2:
        return ""
    pids = sorted({row.person_id for row, _ in bearers})
    if len(pids) < 2:
        return ""
    listed = ", ".join(pids[:5]) + (", ..." if len(pids) > 5 else "")
    return f" ({len(pids)} persons share that name and date of birth: {listed})"


def _base(path: str) -> str:
    return path.rsplit("/", 1)[-1] or path


def coverage(identity: IdentityIndex, staff: int, watchlist: int, associates: int) -> list[str]:
    """What `check-config` says about identity: how many staff, watchlist entries and declarations a
    person id can reach, and a warning when person-id-only events cannot reach staff at all."""
    lines: list[str] = []
    persons = sum(t.rows for t in identity.persons)
    tables = ", ".join(_base(t.source) for t in identity.persons)
    lines.append(
        f"identity: {persons} persons ({tables})" if identity.persons else "identity: no persons export"
    )
    register: Joins[ListedPerson] = Joins(
        {k: v for j in identity.associates.values() for k, v in j.by_pid.items()},
        {},
        {},
    )
    groups: tuple[tuple[str, Joins[StaffEntry] | Joins[ListedPerson], int], ...] = (
        ("staff", identity.staff, staff),
        ("watchlist entries", identity.watchlist, watchlist),
        ("declared associates", register, associates),
    )
    for what, joins, total in groups:
        if not total:
            continue
        by_method: dict[str, set[int]] = {PERSON_ID: set(), NAME_DOB: set()}
        for links in joins.by_pid.values():
            for link in links:
                by_method[link.method].add(id(link.target))
        reached = by_method[PERSON_ID] | by_method[NAME_DOB]
        through = len(by_method[NAME_DOB] - by_method[PERSON_ID])
        lines.append(
            f"  {what} a person id reaches: {len(reached)} of {total} "
            f"({len(by_method[PERSON_ID])} by their own person id, {through} by name and DOB "
            "through the persons table)"
        )
        if what == "staff" and not reached:
            lines.append(
                "  warning: no member of staff can be matched from a person id (HR gives none and no persons "
                "export links them by name and DOB): events that carry only a person id never raise "
                "subject_is_staff, subject_is_self; add a `persons` export (the records system's "
                "person table)"
            )
    return lines
