"""Who an event's subject is, as the view (view.py) works it out for the matches and values.

The event's person id, resolved through the records system's person table (`persons` exports) to a
name, date of birth, postcode and address; or the event's surname, first forename and date of birth,
resolved to the persons that bear them. Staff, watchlist entries and declared associates are matched
by person id or by name and date of birth, through the indexes of identity.py (built once per
snapshot); name-only matching (a date of birth missing on one side) is only done by the `*_by_name`
signals, which a rule opts into.

Names are folded again here (cheaply, cached) rather than trusting the parser to have done it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from functools import lru_cache
from operator import attrgetter
from typing import TYPE_CHECKING, Final

from auditwatch.normalise import fold_name, uk_postcode
from auditwatch.reference.identity import NAME_ONLY, Joins, Link, Links, Target
from auditwatch.reference.keys import address_parts, name_dob_key, name_key
from auditwatch.reference.tables import PersonRecord, PersonTable, person_keys
from auditwatch.schema import SUBJECT_ADDRESS, SUBJECT_NAME_NORM, SUBJECT_POSTCODE

if TYPE_CHECKING:
    from auditwatch.reference.view import EventView

MISS: Final = object()  # "not memoised yet" (None is a memoised answer)


@lru_cache(maxsize=65_536)
def cached_fold(text: str) -> str | None:
    return fold_name(text) or None


@lru_cache(maxsize=16_384)
def cached_postcode(text: str) -> str | None:
    return uk_postcode(text)


@lru_cache(maxsize=16_384)
def cached_address(text: str) -> tuple[str | None, tuple[str, ...]]:
    return address_parts(text)


@lru_cache(maxsize=16_384)  # the subjects of the day; small, as each entry holds several strings
def name_facts(
    surname: str | None, forenames: str | None, dob: str | None
) -> tuple[tuple[str | None, str | None, str | None], tuple[str | None, str | None]]:
    """((folded surname, folded forenames, DOB), (name_dob_key, name_key)) of a subject's name parts."""
    sfold = cached_fold(surname) if surname else None
    ffold = cached_fold(forenames) if forenames else None
    day = dob.strip() if dob else None
    return (sfold, ffold, day), (name_dob_key(sfold, ffold, day), name_key(sfold, ffold))


def field_text(fields: Mapping[str, object], name: str) -> str | None:
    value = fields.get(name)
    if value.__class__ is str:
        return value or None
    return None if value is None else str(value)


def as_text(value: object) -> str | None:
    """A field value as `field_text` reads it ("" and None are absent)."""
    if value.__class__ is str:
        return value or None
    return None if value is None else str(value)


def base_name(path: str) -> str:
    return os.path.basename(path) or path


class Resolved:
    """The subject as the persons table knows it: the row of the event's person id, or the rows whose
    name and DOB are the event's (`persons`, in person-id order; several = ambiguous)."""

    __slots__ = ("by", "persons")

    def __init__(self, by: str | None, persons: tuple[tuple[PersonRecord, PersonTable], ...]) -> None:
        self.by = by  # "person_id", "name_dob", "ambiguous" or None
        self.persons = persons

    @property
    def one(self) -> PersonRecord | None:
        """The subject's row when exactly one is known."""
        return self.persons[0][0] if len(self.persons) == 1 else None

    def agreed(
        self, get: Callable[[PersonRecord], str | None]
    ) -> tuple[str, PersonRecord, PersonTable] | None:
        """A value every known row agrees on (rows without it aside), with the first row giving it."""
        found: tuple[str, PersonRecord, PersonTable] | None = None
        for row, table in self.persons:
            value = get(row)
            if value is None:
                continue
            if found is None:
                found = (value, row, table)
            elif value != found[0]:
                return None
        return found

    def describe(self) -> str:
        ids = ", ".join(row.person_id for row, _ in self.persons)
        table = self.persons[0][1] if self.persons else None
        where = f" in {base_name(table.source)}" if table is not None else ""
        if self.by == "ambiguous":
            return f"persons {ids}{where}, who all have the event's name and date of birth"
        return f"person {ids}{where}"


_UNRESOLVED: Final = Resolved(None, ())


def resolve(view: EventView) -> Resolved:
    identity = view._ref.identity
    if not identity.persons:
        return _UNRESOLVED
    pid = (view._v_ids or view._load_ids())[0]
    if pid:
        found = identity.person(pid)
        if found is not None:
            return Resolved("person_id", (found,))
    key = (view._v_keys or view._keys())[0]
    if key:
        bearers = identity.bearers(key)
        if bearers:
            return Resolved("name_dob" if len(bearers) == 1 else "ambiguous", bearers)
    return _UNRESOLVED


def strict_links(view: EventView, joins: Joins[Target]) -> Links[Target]:
    """Entries of `joins` the subject is, by its person id and by its name and DOB (one dict hit each)."""
    pid = (view._v_ids or view._load_ids())[0]
    by_pid = joins.by_pid.get(pid) if pid else None
    key = (view._v_keys or view._keys())[0]
    by_key = joins.by_key.get(key) if key else None
    if by_key is None:
        return by_pid or ()
    if by_pid is None:
        return by_key
    return by_pid + tuple(link for link in by_key if all(link.target is not x.target for x in by_pid))


_NO_SUBJECT_DOB: Final = "name only (the subject has no date of birth)"


def name_only_links(view: EventView, joins: Joins[Target], strict: Links[Target]) -> Links[Target]:
    """Name-only links: the subject's name keys (the event's, the persons table's) where a date of birth
    is missing on one side; entries already matched strictly aside."""
    if not joins.by_name:
        return ()
    surname, forenames, dob = view._v_names or view._names()
    nkeys: list[str] = []
    nkey = (view._v_keys or view._keys())[1]
    if surname is None and forenames is None:  # no name parts: fall back on the parser's name_norm
        norm = field_text(view._fields, SUBJECT_NAME_NORM)
        folded = cached_fold(norm) if norm else None
        nkey = " ".join(sorted(folded.split())) if folded else None
    if nkey:
        nkeys.append(nkey)
    row = view._resolved().one
    if row is not None:
        nkeys.extend(k for k in person_keys(row)[1] if k not in nkeys)
        dob = dob or row.dob
    found: list[Link[Target]] = []
    for key in nkeys:
        for link in joins.by_name.get(key, ()):
            target = link.target
            person = target.person
            if person.dob and dob:
                continue  # both have a DOB and they are not one identity: a namesake
            if any(target is x.target for x in strict) or any(target is x.target for x in found):
                continue
            if person.dob:  # the subject has no DOB
                found.append(Link(target, link.table, NAME_ONLY, _NO_SUBJECT_DOB))
            else:
                found.append(link)
    return tuple(found)


def subject_surname(view: EventView) -> tuple[str, PersonRecord | None] | None:
    """The subject's folded surname and the persons-table row it came from (None: the event's)."""
    surname = (view._v_names or view._names())[0]
    if surname is not None:
        return surname, None
    if not view._ref.identity.persons:
        return None
    memo = view._values
    found = memo.get("_surname", MISS)
    if found is MISS:
        row = view._resolved().one
        folded = cached_fold(row.surname) if row is not None and row.surname else None
        found = memo["_surname"] = (folded, row) if folded else None
    return found  # type: ignore[return-value]


Sourced = tuple[str, Resolved | None]  # a value and where it came from (None: the event)
_POSTCODE_OF: Final = attrgetter("postcode")
_ADDRESS_OF: Final = attrgetter("address")


def where_from(where: Resolved | None) -> str:
    """Where a subject's value came from, for evidence."""
    return "given in the event" if where is None else f"from {where.describe()}"


def _from_table(
    view: EventView, get: Callable[[PersonRecord], str | None], own: str | None
) -> Sourced | None:
    """The persons table's value for the subject (every row agreeing), unless it is the event's `own`."""
    if not view._ref.identity.persons:
        return None
    resolved = view._v_person or view._resolved()
    persons = resolved.persons
    if not persons:
        return None
    if len(persons) == 1:
        value = get(persons[0][0])
    else:
        agreed = resolved.agreed(get)
        value = agreed[0] if agreed is not None else None
    return (value, resolved) if value is not None and value != own else None


def subject_postcodes(view: EventView) -> tuple[Sourced, ...]:
    """The subject's postcodes: the event's, then the persons table's."""
    raw = field_text(view._fields, SUBJECT_POSTCODE)
    postcode = cached_postcode(raw) if raw else None
    other = _from_table(view, _POSTCODE_OF, postcode)
    if postcode is None:
        return (other,) if other is not None else ()
    return ((postcode, None), other) if other is not None else ((postcode, None),)


def subject_addresses(view: EventView) -> tuple[Sourced, ...]:
    """The subject's addresses as written: the event's, then the persons table's."""
    raw = field_text(view._fields, SUBJECT_ADDRESS)
    other = _from_table(view, _ADDRESS_OF, raw)
    if raw is None:
        return (other,) if other is not None else ()
    return ((raw, None), other) if other is not None else ((raw, None),)
