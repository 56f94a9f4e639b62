"""The per-event view of reference data that detection rules read: `EventView.value` / `.match`.

A view costs little until asked; each answer (and each intermediate lookup) is computed once per
view, what depends only on the user id once per snapshot (`_User`), and the `Evidence` of a match
(with its formatted summary) only when `match` asks for it: rules test matches with `hit`. Every
answer is a dict hit or a `bisect`, keyed by identifiers normalised exactly like the exports' (see
`identifiers:` in config.py); names are folded again here (cheaply, cached) rather than trusting
the parser to have done it.

Who the subject is (see identity.py): the event's person id, resolved through the records system's
person table (`persons` exports) to a name, date of birth, postcode and address; or the event's
surname, first forename and date of birth, resolved to the persons that bear them. Staff, watchlist
entries and declared associates are matched by person id or by name and date of birth, through
indexes built once per snapshot; name-only matching (a date of birth missing on one side) is only
done by the `*_by_name` signals, which a rule opts into. Every match's evidence says how it matched
(`matched_by`: person_id, name_dob or name_only, and `identity`: in words).

Conventions: a member of staff looking at their own record is reported by `subject_is_self` only:
`subject_is_staff`, `subject_same_surname`, `subject_same_address` and `subject_same_postcode` do not
fire on it. Dates are compared as local dates in the reference time zone; an assignment covers its
`from` and `to` days inclusive, vetting is valid up to and including its expiry day, and a status
applies from its `status_from` day; a watchlist entry applies from its `added_on` day until the day
before its `removed_on` day, a declared associate from `declared_on` until the day before `ended_on`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter
from typing import Any, Final, Literal

from auditwatch.normalise import fold_name, uk_postcode
from auditwatch.reference.identity import NAME_ONLY, Joins, Link, Links
from auditwatch.reference.keys import address_parts, name_dob_key, name_key
from auditwatch.reference.snapshot import ReferenceSnapshot
from auditwatch.reference.tables import (
    OPEN_END,
    Assignment,
    AssignmentTable,
    ListedPerson,
    PersonRecord,
    PersonTable,
    RosterTable,
    Shifts,
    StaffEntry,
    StaffTable,
    Table,
    person_keys,
)
from auditwatch.timefmt import iso_utc

F_USER: Final = "user.id"
F_PERSON: Final = "auditwatch.subject.person_id"
F_SURNAME: Final = "auditwatch.subject.surname"
F_FORENAMES: Final = "auditwatch.subject.forenames"
F_DOB: Final = "auditwatch.subject.dob"
F_POSTCODE: Final = "auditwatch.subject.postcode"
F_ADDRESS: Final = "auditwatch.subject.address"
F_NAME_NORM: Final = "auditwatch.subject.name_norm"
F_RECORD: Final = "auditwatch.record.id"
F_CASE_REF: Final = "auditwatch.reason.case_ref"
RESTRICTED: Final = frozenset({"suspended", "restricted", "left"})


@dataclass(frozen=True, slots=True)
class Evidence:
    """The reference entry a match rests on, with where it came from, in plain language."""

    kind: str  # "staff", "watchlist", "associate", "assignment", "roster"
    source: str  # the export's path
    as_of: str  # ISO date of the export
    entry: Mapping[str, object]  # the matched row, normalised, JSON-ready
    summary: str


@dataclass(frozen=True, slots=True)
class MatchInfo:
    description: str
    kind: Literal["signal", "explanation"]
    no_match_text: str  # what an alert says when this explanation was tried and failed


VALUES: Final[Mapping[str, str]] = {
    "user.staff_id": "the event's user id normalised like HR staff numbers (None if absent)",
    "user.known": "true when the user is in the HR directory",
    "user.surname": "the user's surname from HR (None if unknown)",
    "user.forenames": "the user's forenames from HR",
    "user.unit": "the user's unit from HR",
    "user.rank": "the user's rank or grade from HR",
    "user.roles": "the user's roles from HR, a tuple such as ('vetting', 'psd')",
    "user.status": "active, suspended, restricted or left, as effective on the event's date; "
    "'unknown' if the user is not in HR",
    "user.vetting_level": "the user's vetting level from HR (None if none recorded)",
    "user.vetting_expired": "true when the user's vetting expired before the event's date",
    "user.postcode": "the user's home postcode from HR",
    "user.person_id": "the user's own person id in the record system, if HR links it",
    "subject.person_id": "the subject's person id: the event's, else the one person whose name and DOB "
    "the event gives (persons table)",
    "subject.identity": "one key per subject for grouping and suppression: folded surname|first "
    "forename|DOB when known (from the event or the persons table), else the person id",
    "subject.resolved_by": "how the subject was found in the persons table: person_id, name_dob, "
    "ambiguous (several persons share the name and DOB) or None",
    "subject.postcode": "the subject's postcode: the event's, else the persons table's",
    "subject.surname_norm": "the subject's surname, case- and accent-folded: the event's, else the "
    "persons table's (None if absent)",
    "subject.surname_rarity": "0 (very common) .. 1 (rarest) for the subject's surname (None if absent)",
    "subject.watchlist_category": "the subject's watchlist category (None if not on a watchlist)",
    "subject.staff_id": "the staff number of the subject, if the subject is a member of staff (or the user)",
    "subject.staff_unit": "the unit of the subject, if the subject is a member of staff",
}

MATCHES: Final[Mapping[str, MatchInfo]] = {
    "subject_is_staff": MatchInfo(
        "the subject is another member of staff, by person id or by surname, first forename and DOB "
        "(directly or through the persons table)",
        "signal", "the subject does not match anyone in the HR directory"),
    "subject_is_staff_by_name": MatchInfo(
        "as subject_is_staff, or by name alone where a date of birth is missing on one side (opt-in; "
        "a namesake with another DOB never matches)",
        "signal", "the subject does not match anyone in the HR directory, even by name"),
    "subject_is_self": MatchInfo(
        "the subject is the user themselves, by person id or by surname, first forename and DOB "
        "(directly or through the persons table)",
        "signal", "the subject is not the user"),
    "subject_on_watchlist": MatchInfo(
        "the subject is on a watchlist on the event's date, by person id or by name and DOB",
        "signal", "the subject is on no watchlist on that date"),
    "subject_on_watchlist_by_name": MatchInfo(
        "as subject_on_watchlist, or by name alone where a date of birth is missing on one side (opt-in)",
        "signal", "the subject is on no watchlist on that date, even by name"),
    "subject_is_declared_associate": MatchInfo(
        "the subject is an associate this user had declared in the integrity register by the event's "
        "date, by person id or by name and DOB",
        "signal", "the subject is not among this user's declared associates"),
    "subject_is_declared_associate_by_name": MatchInfo(
        "as subject_is_declared_associate, or by name alone where a date of birth is missing on one "
        "side (opt-in)",
        "signal", "the subject is not among this user's declared associates, even by name"),
    "subject_same_surname": MatchInfo(
        "the subject has the user's surname (folded; the persons table's when the event has none); "
        "weigh with subject.surname_rarity",
        "signal", "the subject's surname differs from the user's"),
    "subject_same_address": MatchInfo(
        "the subject lives at the user's home address (same postcode and same address; the event's or "
        "the persons table's)",
        "signal", "the subject's address is not the user's home address"),
    "subject_same_postcode": MatchInfo(
        "the subject's postcode (the event's or the persons table's) is the user's home postcode "
        "(neighbour or same address)",
        "signal", "the subject's postcode is not the user's home postcode"),
    "user_restricted": MatchInfo(
        "the user was suspended, restricted or had left on the event's date",
        "signal", "the user's status was active on the event's date"),
    "user_vetting_lapsed": MatchInfo(
        "the user's vetting had expired by the event's date",
        "signal", "the user's vetting was in date (or no expiry is recorded)"),
    "assigned_to_linked_case": MatchInfo(
        "the user was assigned on the event's date to a case linked to the subject or the record",
        "explanation", "no case assignment links this user to this person or record"),
    "assigned_to_case_ref": MatchInfo(
        "the case reference given with the access is a case the user was assigned to on that date",
        "explanation", "the case reference given is not a case this user was assigned to on that date"),
    "rostered_on_duty": MatchInfo(
        "a rostered shift of the user covers the event's time (within the configured grace)",
        "explanation", "the user was not rostered on duty at that time"),
    "subject_in_same_unit_case": MatchInfo(
        "a colleague in the user's unit was assigned on that date to a case linked to the subject or "
        "the record (team work)",
        "explanation", "no one in the user's unit was assigned to a case linked to this person or record"),
}

_MISS: Final = object()
# Facts about one raw user id are cached per snapshot (the same users act all day), so the lookups
# every event of a user shares are made once. Bounded: cleared when full.
USER_CACHE_LIMIT: Final = 100_000


@lru_cache(maxsize=65_536)
def _fold(text: str) -> str | None:
    return fold_name(text) or None


@lru_cache(maxsize=16_384)
def _postcode(text: str) -> str | None:
    return uk_postcode(text)


@lru_cache(maxsize=16_384)
def _address(text: str) -> tuple[str | None, tuple[str, ...]]:
    return address_parts(text)


@lru_cache(maxsize=16_384)  # the subjects of the day; small, as each entry holds several strings
def _name_facts(
    surname: str | None, forenames: str | None, dob: str | None
) -> tuple[tuple[str | None, str | None, str | None], tuple[str | None, str | None]]:
    """((folded surname, folded forenames, DOB), (name_dob_key, name_key)) of a subject's name parts."""
    sfold = _fold(surname) if surname else None
    ffold = _fold(forenames) if forenames else None
    day = dob.strip() if dob else None
    return (sfold, ffold, day), (name_dob_key(sfold, ffold, day), name_key(sfold, ffold))


def _text(fields: Mapping[str, object], name: str) -> str | None:
    value = fields.get(name)
    if value.__class__ is str:
        return value or None
    return None if value is None else str(value)


def _as_text(value: object) -> str | None:
    """A field value as `_text` reads it ("" and None are absent)."""
    if value.__class__ is str:
        return value or None
    return None if value is None else str(value)


class _User:
    """What the reference says about one raw `user.id`, independent of the event's time."""

    __slots__ = ("associates", "cases", "entry", "possible", "shifts", "sid", "table")

    associates: Joins | None  # this user's declared associates, by subject key (None: none)

    def __init__(self, ref: ReferenceSnapshot, raw: str | None) -> None:
        self.possible: frozenset[str] | None = None  # see `_possible_matches`
        sid = self.sid = ref.staff_id_of(raw) if raw else None
        self.entry: StaffEntry | None = None
        self.table: StaffTable | None = None
        self.cases: tuple[tuple[Mapping[str, tuple[Assignment, ...]], AssignmentTable], ...] = ()
        self.shifts: tuple[tuple[Shifts, RosterTable], ...] = ()
        self.associates = None
        if sid is None:
            return
        for table in ref.staff:
            entry = table.by_id.get(sid)
            if entry is not None:
                self.entry, self.table = entry, table
                break
        self.cases = tuple((cases, t) for t in ref.assignments if (cases := t.by_staff.get(sid)))
        self.shifts = tuple((shifts, t) for t in ref.rosters if (shifts := t.by_staff.get(sid)) is not None)
        self.associates = ref.identity.associates.get(sid)


_NO_USER_KEY: Final = "\x00none"


def matcher(name: str) -> Callable[[EventView], bool]:
    """`view.hit(name)` as one memoised call, for compiled rules (KeyError for an unknown name)."""
    compute = _MATCH_FUNCS[name]

    def test(view: EventView) -> bool:
        answers = view.answers
        found = answers.get(name)
        if found is None:
            found = answers[name] = compute(view) or False
        return found is not False

    return test


def value_getter(name: str) -> Callable[[EventView], object]:
    """`view.value(name)` as one memoised call, for compiled rules (KeyError for an unknown name)."""
    compute = _VALUE_FUNCS[name]

    def get(view: EventView) -> object:
        memo = view._values
        found = memo.get(name, _MISS)
        if found is _MISS:
            found = memo[name] = compute(view)
        return found

    return get


class EventView:
    """Reference data about one event's user and subject; answers are memoised per view.

    `hit(name)` says whether a match holds without building its `Evidence`; `match(name)` builds the
    evidence (once) from what `hit` found. `answers` memoises `hit`: per match name, False (no match)
    or the proof the evidence is built from."""

    __slots__ = ("_at", "_evidence", "_fields", "_ref", "_u", "_v_day", "_v_ids", "_v_keys", "_v_names",
                 "_v_person", "_v_staff", "_values", "answers")

    def __init__(self, ref: ReferenceSnapshot, fields: Mapping[str, object], at: float) -> None:
        self._ref = ref
        self._fields = fields
        self._at = at
        self.answers: dict[str, object] = {}
        self._values: dict[str, object] = {}
        self._evidence: dict[str, Evidence | None] | None = None
        self._u: _User | None = None
        self._v_day: str | None = None
        self._v_ids: tuple[str | None, str | None] | None = None
        self._v_names: tuple[str | None, str | None, str | None] | None = None
        self._v_keys: tuple[str | None, str | None] | None = None
        self._v_person: _Resolved | None = None
        self._v_staff: Links | None = None

    def value(self, name: str) -> object:
        memo = self._values
        found = memo.get(name, _MISS)
        if found is _MISS:
            compute = _VALUE_FUNCS.get(name)
            if compute is None:
                raise KeyError(f"unknown reference value '{name}' (known: {', '.join(VALUES)})")
            found = memo[name] = compute(self)
        return found

    def hit(self, name: str) -> bool:
        """Whether the match `name` holds (memoised; no evidence is built)."""
        found = self.answers.get(name)
        if found is None:
            compute = _MATCH_FUNCS.get(name)
            if compute is None:
                raise KeyError(f"unknown reference match '{name}' (known: {', '.join(MATCHES)})")
            found = self.answers[name] = compute(self) or False
        return found is not False

    def match(self, name: str) -> Evidence | None:
        memo = self._evidence
        if memo is None:
            memo = self._evidence = {}
        found = memo.get(name, _MISS)
        if found is _MISS:
            proof = self._proof(name)
            found = memo[name] = None if proof is None else _EVIDENCE[name](self, proof)
        return found  # type: ignore[return-value]

    def _proof(self, name: str) -> Any:
        """The proof of match `name`, or None."""
        return self.answers[name] if self.hit(name) else None

    # --- memoised intermediate lookups (inline memo code: no closure per call) ----------------

    def _day(self) -> str:
        day = self._v_day
        if day is None:
            day = self._v_day = self._ref.local_day(self._at)
        return day

    def _user(self) -> _User:
        user = self._u
        if user is None:
            user = self._u = _user_facts(self._ref, self._fields.get(F_USER))
        return user

    def possible_matches(self) -> frozenset[str]:
        """The match names that can hold for some subject at some time given this event's user
        (a superset: a match left out is certainly false for every event of this user)."""
        user = self._u or self._user()
        possible = user.possible
        if possible is None:
            possible = user.possible = _possible_matches(user)
        return possible

    def _sid(self) -> str | None:
        return self._user().sid

    def _staff(self) -> StaffEntry | None:
        return self._user().entry

    def _user_attr(self, get: Callable[[StaffEntry], object]) -> object:
        entry = self._user().entry
        return get(entry) if entry is not None else None

    def _load_ids(self) -> tuple[str | None, str | None]:
        fields, ref = self._fields, self._ref
        pid, record = _text(fields, F_PERSON), _text(fields, F_RECORD)
        loaded = self._v_ids = (ref.normalise_person_id(pid) if pid else None,
                                ref.normalise_record_id(record) if record else None)
        return loaded

    def _pid(self) -> str | None:
        return (self._v_ids or self._load_ids())[0]

    def _record(self) -> str | None:
        return (self._v_ids or self._load_ids())[1]

    def _case_pid(self) -> str | None:
        """The person id case links are looked up by: the event's, else the one person of the persons
        table whose name and DOB the event gives."""
        pid = (self._v_ids or self._load_ids())[0]
        if pid or not self._ref.identity.persons:
            return pid
        row = self._resolved().one
        return row.person_id if row is not None else None

    def _names(self) -> tuple[str | None, str | None, str | None]:
        """(folded surname, folded forenames, DOB) of the subject."""
        names = self._v_names
        if names is None:
            fields = self._fields
            names, self._v_keys = _name_facts(
                _text(fields, F_SURNAME), _text(fields, F_FORENAMES), _text(fields, F_DOB)
            )
            self._v_names = names
        return names

    def _keys(self) -> tuple[str | None, str | None]:
        """The subject's (name_dob_key, name_key), see tables.py."""
        keys = self._v_keys
        if keys is None:
            self._names()
            keys = self._v_keys
            assert keys is not None
        return keys

    def _subject_staff(self) -> Links:
        """Staff the subject is, by person id or name and DOB (in index order; the user may be one)."""
        links = self._v_staff
        if links is None:
            links = self._v_staff = _strict(self, self._ref.identity.staff)
        return links

    def _resolved(self) -> _Resolved:
        """The subject's row(s) in the persons table (memoised)."""
        found = self._v_person
        if found is None:
            found = self._v_person = _resolve(self)
        return found

    def _is_self(self) -> bool:
        return self.hit("subject_is_self")

    def _linked_cases(self) -> Iterator[tuple[str, str, str, str, Table | None]]:
        """(case ref, "person"/"record"/"case", the id, link role, links table) for subject and record."""
        pid, record = self._case_pid(), self._record()
        if record:
            yield self._ref.case_ref_of(record) or record, "case", record, "", None
        for links in self._ref.case_links:
            if pid:
                flat = links.by_person.get(pid)
                if flat:
                    for i in range(0, len(flat), 2):
                        yield flat[i], "person", pid, flat[i + 1], links
            if record:
                flat = links.by_record.get(record)
                if flat:
                    for i in range(0, len(flat), 2):
                        yield flat[i], "record", record, flat[i + 1], links


# --- the subject's identity ------------------------------------------------------------------------


class _Resolved:
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
        where = f" in {_base(table.source)}" if table is not None else ""
        if self.by == "ambiguous":
            return f"persons {ids}{where}, who all have the event's name and date of birth"
        return f"person {ids}{where}"


_UNRESOLVED: Final = _Resolved(None, ())


def _resolve(view: EventView) -> _Resolved:
    identity = view._ref.identity
    if not identity.persons:
        return _UNRESOLVED
    pid = (view._v_ids or view._load_ids())[0]
    if pid:
        found = identity.person(pid)
        if found is not None:
            return _Resolved("person_id", (found,))
    key = (view._v_keys or view._keys())[0]
    if key:
        bearers = identity.bearers(key)
        if bearers:
            return _Resolved("name_dob" if len(bearers) == 1 else "ambiguous", bearers)
    return _UNRESOLVED


def _strict(view: EventView, joins: Joins) -> Links:
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


def _name_only(view: EventView, joins: Joins, strict: Links) -> Links:
    """Name-only links: the subject's name keys (the event's, the persons table's) where a date of birth
    is missing on one side; entries already matched strictly aside."""
    if not joins.by_name:
        return ()
    surname, forenames, dob = view._v_names or view._names()
    nkeys: list[str] = []
    nkey = (view._v_keys or view._keys())[1]
    if surname is None and forenames is None:  # no name parts: fall back on the parser's name_norm
        norm = _text(view._fields, F_NAME_NORM)
        folded = _fold(norm) if norm else None
        nkey = " ".join(sorted(folded.split())) if folded else None
    if nkey:
        nkeys.append(nkey)
    row = view._resolved().one
    if row is not None:
        nkeys.extend(k for k in person_keys(row)[1] if k not in nkeys)
        dob = dob or row.dob
    found: list[Link] = []
    for key in nkeys:
        for link in joins.by_name.get(key, ()):
            target = link.target
            person = target.person  # type: ignore[attr-defined]
            if person.dob and dob:
                continue  # both have a DOB and they are not one identity: a namesake
            if any(target is x.target for x in strict) or any(target is x.target for x in found):
                continue
            if person.dob:  # the subject has no DOB
                found.append(Link(target, link.table, NAME_ONLY, _NO_SUBJECT_DOB))
            else:
                found.append(link)
    return tuple(found)


def _subject_surname(view: EventView) -> tuple[str, PersonRecord | None] | None:
    """The subject's folded surname and the persons-table row it came from (None: the event's)."""
    surname = (view._v_names or view._names())[0]
    if surname is not None:
        return surname, None
    if not view._ref.identity.persons:
        return None
    memo = view._values
    found = memo.get("_surname", _MISS)
    if found is _MISS:
        row = view._resolved().one
        folded = _fold(row.surname) if row is not None and row.surname else None
        found = memo["_surname"] = (folded, row) if folded else None
    return found  # type: ignore[return-value]


Sourced = tuple[str, "_Resolved | None"]  # a value and where it came from (None: the event)
_POSTCODE_OF: Final = attrgetter("postcode")
_ADDRESS_OF: Final = attrgetter("address")


def _source(where: _Resolved | None) -> str:
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


def _subject_postcodes(view: EventView) -> tuple[Sourced, ...]:
    """The subject's postcodes: the event's, then the persons table's."""
    raw = _text(view._fields, F_POSTCODE)
    postcode = _postcode(raw) if raw else None
    other = _from_table(view, _POSTCODE_OF, postcode)
    if postcode is None:
        return (other,) if other is not None else ()
    return ((postcode, None), other) if other is not None else ((postcode, None),)


def _subject_addresses(view: EventView) -> tuple[Sourced, ...]:
    """The subject's addresses as written: the event's, then the persons table's."""
    raw = _text(view._fields, F_ADDRESS)
    other = _from_table(view, _ADDRESS_OF, raw)
    if raw is None:
        return (other,) if other is not None else ()
    return ((raw, None), other) if other is not None else ((raw, None),)


def _user_facts(ref: ReferenceSnapshot, raw: object) -> _User:
    text = raw if raw.__class__ is str else _as_text(raw)
    cache: dict[str, _User] = ref._users
    user = cache.get(text or _NO_USER_KEY)
    if user is None:
        if len(cache) >= USER_CACHE_LIMIT:
            cache.clear()
        user = cache[text or _NO_USER_KEY] = _User(ref, text or None)
    return user


def _how(what: str, key: str) -> str:
    return f"record {key} is the case itself" if what == "case" else f"{what} {key}"


# --- values ----------------------------------------------------------------------------------------


def _status(view: EventView) -> object:
    entry = (view._u or view._user()).entry
    return entry.status_on(view._v_day or view._day()) if entry is not None else "unknown"


def _vetting_expired(view: EventView) -> object:
    entry = (view._u or view._user()).entry
    expiry = entry.vetting_expiry if entry is not None else None
    return expiry is not None and (view._v_day or view._day()) > expiry


def _surname_norm(view: EventView) -> object:
    found = _subject_surname(view)
    return found[0] if found is not None else None


def _rarity(view: EventView) -> object:
    found = _subject_surname(view)
    return view._ref.rarity(found[0]) if found is not None else None


def _subject_pid(view: EventView) -> object:
    pid = (view._v_ids or view._load_ids())[0]
    if pid:
        return pid
    row = view._resolved().one
    return row.person_id if row is not None else None


def _subject_identity(view: EventView) -> object:
    key = (view._v_keys or view._keys())[0]
    if key:
        return key
    pid = (view._v_ids or view._load_ids())[0]
    row = view._resolved().one
    if row is not None:
        own = _name_facts(row.surname, row.forenames, row.dob)[1][0]
        if own:
            return own
    return pid


def _subject_postcode_value(view: EventView) -> object:
    found = _subject_postcodes(view)
    return found[0][0] if found else None


def _watch_category(view: EventView) -> object:
    proof = view._proof("subject_on_watchlist")
    return proof[0].target.category if proof is not None else None


def _subject_staff_attr(get: Callable[[StaffEntry], object]) -> Callable[[EventView], object]:
    def compute(view: EventView) -> object:
        found = view._subject_staff()
        return get(found[0].target) if found else None  # type: ignore[arg-type]

    return compute


_VALUE_FUNCS: Final[dict[str, Callable[[EventView], object]]] = {
    "user.staff_id": lambda v: v._sid(),
    "user.known": lambda v: v._staff() is not None,
    "user.surname": lambda v: v._user_attr(lambda e: e.person.surname),
    "user.forenames": lambda v: v._user_attr(lambda e: e.person.forenames),
    "user.unit": lambda v: v._user_attr(lambda e: e.unit),
    "user.rank": lambda v: v._user_attr(lambda e: e.rank),
    "user.roles": lambda v: v._user_attr(lambda e: e.roles) or (),
    "user.status": _status,
    "user.vetting_level": lambda v: v._user_attr(lambda e: e.vetting_level),
    "user.vetting_expired": _vetting_expired,
    "user.postcode": lambda v: v._user_attr(lambda e: e.postcode),
    "user.person_id": lambda v: v._user_attr(lambda e: e.person.person_id),
    "subject.person_id": _subject_pid,
    "subject.identity": _subject_identity,
    "subject.resolved_by": lambda v: v._resolved().by,
    "subject.postcode": _subject_postcode_value,
    "subject.surname_norm": _surname_norm,
    "subject.surname_rarity": _rarity,
    "subject.watchlist_category": _watch_category,
    "subject.staff_id": _subject_staff_attr(lambda e: e.staff_id),
    "subject.staff_unit": _subject_staff_attr(lambda e: e.unit),
}


# --- matches: each returns a proof (what the evidence is built from) or None -----------------------
# Evidence (with its formatted summary) is built from the proof only when `match` asks for it.

Proof = tuple[object, ...]


def _subject_is_staff(view: EventView) -> Proof | None:
    links = view._v_staff
    if links is None:
        links = view._subject_staff()
    if not links:
        return None
    sid = (view._u or view._user()).sid
    for link in links:
        if link.target.staff_id != sid:  # type: ignore[attr-defined]
            return (link,)
    return None


def _subject_is_staff_by_name(view: EventView) -> Proof | None:
    found = view._proof("subject_is_staff")
    if found is not None:
        return found  # type: ignore[no-any-return]
    sid = (view._u or view._user()).sid
    strict = view._subject_staff()
    if any(link.target.staff_id == sid for link in strict):  # type: ignore[attr-defined]
        return None  # the subject is the user: subject_is_self's business
    for link in _name_only(view, view._ref.identity.staff, strict):
        if link.target.staff_id != sid:  # type: ignore[attr-defined]
            return (link,)
    return None


def _subject_is_self(view: EventView) -> Proof | None:
    user = view._u or view._user()
    if user.entry is None:
        return None
    links = view._v_staff
    if links is None:
        links = view._subject_staff()
    if not links:
        return None
    sid = user.sid
    for link in links:
        if link.target.staff_id == sid:  # type: ignore[attr-defined]
            return (link,)
    return None


def _applying(links: Links, day: str) -> tuple[Link, ...]:
    return tuple(link for link in links if link.target.applies_on(day))  # type: ignore[attr-defined]


def _listed_hit(view: EventView, joins: Joins, by_name: bool) -> Proof | None:
    strict = _strict(view, joins)
    if strict:
        day = view._v_day or view._day()
        for link in strict:
            if link.target.applies_on(day):  # type: ignore[attr-defined]
                return (link, day)
    if by_name:
        links = _name_only(view, joins, strict)
        if links:
            day = view._v_day or view._day()
            for link in links:
                if link.target.applies_on(day):  # type: ignore[attr-defined]
                    return (link, day)
    return None


def _on_watchlist(view: EventView) -> Proof | None:
    return _listed_hit(view, view._ref.identity.watchlist, False)


def _on_watchlist_by_name(view: EventView) -> Proof | None:
    return _listed_hit(view, view._ref.identity.watchlist, True)


def _declared_associate(view: EventView) -> Proof | None:
    joins = (view._u or view._user()).associates
    return _listed_hit(view, joins, False) if joins is not None else None


def _declared_associate_by_name(view: EventView) -> Proof | None:
    joins = (view._u or view._user()).associates
    return _listed_hit(view, joins, True) if joins is not None else None


def _same_surname(view: EventView) -> Proof | None:
    user = view._u or view._user()
    entry = user.entry
    if entry is None or entry.person.surname_fold is None:
        return None
    found = _subject_surname(view)
    if found is None or entry.person.surname_fold != found[0] or view._is_self():
        return None
    return entry, user.table, found[0], found[1]


def _same_postcode(view: EventView) -> Proof | None:
    user = view._u or view._user()
    entry = user.entry
    if entry is None or entry.postcode is None:
        return None
    for postcode, source in _subject_postcodes(view):
        if postcode == entry.postcode:
            if view._is_self():
                return None
            return entry, user.table, postcode, source
    return None


def _same_address(view: EventView) -> Proof | None:
    if not view.hit("subject_same_postcode"):
        return None
    user = view._u or view._user()
    entry = user.entry
    assert entry is not None  # same postcode needs a known user
    if not entry.address_key:
        return None
    for raw, source in _subject_addresses(view):
        key, numbers = _address(raw)
        if key == entry.address_key or (numbers and numbers == entry.address_numbers):
            return entry, user.table, raw, source
    return None


def _restricted(view: EventView) -> Proof | None:
    user = view._u or view._user()
    entry = user.entry
    if entry is None:
        return None
    day = (view._v_day or view._day())
    row = entry.status_row_on(day)
    if row is None or row[1] not in RESTRICTED:
        return None
    return entry, user.table, row, day


def _vetting_lapsed(view: EventView) -> Proof | None:
    user = view._u or view._user()
    entry = user.entry
    expiry = entry.vetting_expiry if entry is not None else None
    if expiry is None or not (view._v_day or view._day()) > expiry:  # as `user.vetting_expired`
        return None
    return entry, user.table


def _linked_case(view: EventView) -> Proof | None:
    # the most asked explanation: plain loops and tuple indexing rather than helpers (hot path)
    user = view._u or view._user()
    if user.sid is None or not user.cases:
        return None
    pid, record = view._v_ids or view._load_ids()
    if not pid and view._ref.identity.persons:  # a name and DOB that the persons table resolves
        pid = view._case_pid()
    if not (pid or record):
        return None
    ref, day = view._ref, (view._v_day or view._day())
    own = (ref.case_ref_of(record) or record) if record else None
    for cases, table in user.cases:
        if own is not None:
            for item in cases.get(own, ()):
                if item[2] <= day <= item[3]:
                    return item, table, own, "case", record, "", None
        for links in ref.case_links:
            for what, key, index in (("person", pid, links.by_person), ("record", record, links.by_record)):
                flat = index.get(key) if key else None
                if not flat:
                    continue
                for j in range(0, len(flat), 2):
                    items = cases.get(flat[j])
                    if items:
                        for item in items:
                            if item[2] <= day <= item[3]:
                                return item, table, flat[j], what, str(key), flat[j + 1], links
    return None


def _case_ref(view: EventView) -> Proof | None:
    raw = _text(view._fields, F_CASE_REF)
    if not raw:
        return None
    user = view._u or view._user()
    if not user.cases:
        return None
    case = view._ref.case_ref_of(raw)
    if not case:
        return None
    day = (view._v_day or view._day())
    for cases, table in user.cases:
        for item in cases.get(case, ()):
            if item[2] <= day <= item[3]:
                return item, table, case
    return None


def _on_duty(view: EventView) -> Proof | None:
    user = view._u or view._user()
    if user.sid is None:
        return None
    grace, at = view._ref.roster_grace, view._at
    for shifts, table in user.shifts:
        i = shifts.covering(at, grace)
        if i is not None:
            return user.sid, shifts, i, table
    return None


def _same_unit_case(view: EventView) -> Proof | None:
    entry = (view._u or view._user()).entry
    unit = entry.unit if entry is not None else None
    if not unit:
        return None
    assert entry is not None
    sid, day = entry.staff_id, (view._v_day or view._day())
    for case, what, key, role, _links in view._linked_cases():
        for table in view._ref.assignments:
            for item in table.by_case.get(case, ()):
                if item.staff_id == sid or not item.covers(day):
                    continue
                colleague = _staff_by_id(view, item.staff_id)
                if colleague is not None and colleague.unit == unit:
                    return item, table, colleague, case, _how(what, key), role, unit
    return None


def _staff_by_id(view: EventView, sid: str) -> StaffEntry | None:
    for table in view._ref.staff:
        entry = table.by_id.get(sid)
        if entry is not None:
            return entry
    return None


# What each user-dependent match needs of the user, read off its function above; a match not listed
# is possible for every user. Must never be stricter than the function it stands for.
_USER_CAN: Final[dict[str, Callable[[_User], bool]]] = {
    "subject_is_self": lambda u: u.entry is not None
    and bool(u.entry.person.person_id or u.entry.person.name_dob_key),
    "subject_is_declared_associate": lambda u: u.associates is not None,
    "subject_is_declared_associate_by_name": lambda u: u.associates is not None,
    "subject_same_surname": lambda u: u.entry is not None and u.entry.person.surname_fold is not None,
    "subject_same_postcode": lambda u: u.entry is not None and u.entry.postcode is not None,
    "subject_same_address": lambda u: u.entry is not None and u.entry.postcode is not None,
    "user_restricted": lambda u: u.entry is not None and any(row[1] in RESTRICTED for row in u.entry.history),
    "user_vetting_lapsed": lambda u: u.entry is not None and u.entry.vetting_expiry is not None,
    "assigned_to_linked_case": lambda u: u.sid is not None and bool(u.cases),
    "assigned_to_case_ref": lambda u: bool(u.cases),
    "rostered_on_duty": lambda u: u.sid is not None and bool(u.shifts),
    "subject_in_same_unit_case": lambda u: u.entry is not None and bool(u.entry.unit),
}
_POSSIBLE: dict[frozenset[str], frozenset[str]] = {}  # interned: users share a handful of these


def _possible_matches(user: _User) -> frozenset[str]:
    found = frozenset(name for name in _MATCH_FUNCS if (can := _USER_CAN.get(name)) is None or can(user))
    return _POSSIBLE.setdefault(found, found)


_MATCH_FUNCS: Final[dict[str, Callable[[EventView], Proof | None]]] = {
    "subject_is_staff": _subject_is_staff,
    "subject_is_staff_by_name": _subject_is_staff_by_name,
    "subject_is_self": _subject_is_self,
    "subject_on_watchlist": _on_watchlist,
    "subject_on_watchlist_by_name": _on_watchlist_by_name,
    "subject_is_declared_associate": _declared_associate,
    "subject_is_declared_associate_by_name": _declared_associate_by_name,
    "subject_same_surname": _same_surname,
    "subject_same_address": _same_address,
    "subject_same_postcode": _same_postcode,
    "user_restricted": _restricted,
    "user_vetting_lapsed": _vetting_lapsed,
    "assigned_to_linked_case": _linked_case,
    "assigned_to_case_ref": _case_ref,
    "rostered_on_duty": _on_duty,
    "subject_in_same_unit_case": _same_unit_case,
}


# --- evidence: built from a proof, only for alerts ---------------------------------------------------


def _base(path: str) -> str:
    return os.path.basename(path) or path


def _staff_evidence(entry: StaffEntry, table: StaffTable, text: str, link: Link | None = None) -> Evidence:
    return Evidence("staff", table.source, table.as_of, _with_link(entry.entry(), link),
                    f"{text} in {_base(table.source)} as of {table.as_of}")


def _with_link(row: dict[str, object], link: Link | None) -> dict[str, object]:
    """The matched row with how the subject matched it: `matched_by` (person_id, name_dob or name_only),
    `identity` (in words) and, when the persons table bridged the two, `via` (its row)."""
    if link is not None:
        row["matched_by"] = link.method
        row["identity"] = link.text
        if link.via is not None:
            row["via"] = link.via.entry()
    return row


def _dob(entry: StaffEntry) -> str:
    return f" (DOB {entry.person.dob})" if entry.person.dob else ""


def _listed_evidence(kind: str, listed: ListedPerson, table: Table, text: str, link: Link) -> Evidence:
    return Evidence(kind, table.source, table.as_of, _with_link(listed.entry(), link),
                    f"{text} in {_base(table.source)} as of {table.as_of}")


def _assignment_evidence(
    item: Assignment, table: AssignmentTable, text: str, link: dict[str, object]
) -> Evidence:
    entry = item.entry()
    if link:
        entry["link"] = link
    return Evidence("assignment", table.source, table.as_of, entry,
                    f"{text} in {_base(table.source)} as of {table.as_of}")


def _by(link: Link) -> str:
    return f"by {link.text}"  # each text starts with its method: "person id ...", "name and date of birth..."


def _ev_staff(view: EventView, proof: Any) -> Evidence:
    (link,) = proof
    entry: StaffEntry = link.target
    text = f"subject matches staff member {entry.display()}{_dob(entry)} {_by(link)}"
    return _staff_evidence(entry, link.table, text, link)


def _ev_self(view: EventView, proof: Any) -> Evidence:
    (link,) = proof
    entry: StaffEntry = link.target
    text = f"subject is the user {entry.display()}{_dob(entry)} themselves, {_by(link)}"
    return _staff_evidence(entry, link.table, text, link)


def _dated(listed: ListedPerson, day: str) -> str:
    return f", listed {listed.period()} (access on {day})" if listed.dated else ""


def _ev_watchlist(view: EventView, proof: Any) -> Evidence:
    link, day = proof
    listed: ListedPerson = link.target
    category = f" ({listed.category})" if listed.category else ""
    return _listed_evidence("watchlist", listed, link.table, f"subject matches watchlist entry "
                            f"{listed.display()}{category}{_dated(listed, day)} {_by(link)}", link)


def _ev_associate(view: EventView, proof: Any) -> Evidence:
    link, _day = proof
    listed: ListedPerson = link.target
    relation = f", declared as {listed.reason}" if listed.reason else ""
    declared = f" on {listed.declared_on}" if listed.declared_on else ""
    ended = f", ended {listed.applies_until}" if listed.applies_until != OPEN_END else ""
    return _listed_evidence("associate", listed, link.table, f"subject matches {listed.display()}{relation} "
                            f"by user {listed.staff_id}{declared}{ended}, {_by(link)}", link)


def _from_persons(row: PersonRecord | None, view: EventView) -> str:
    if row is None:
        return ""
    return f" (from {view._resolved().describe()})"


def _ev_surname(view: EventView, proof: Any) -> Evidence:
    entry, table, surname, row = proof
    rarity = view._ref.rarity(surname)
    return _staff_evidence(entry, table, f"subject's surname {(entry.person.surname or '').upper()}"
                           f"{_from_persons(row, view)} is the surname of user {entry.display()} "
                           f"(surname rarity {rarity:.2f})")


def _ev_postcode(view: EventView, proof: Any) -> Evidence:
    entry, table, postcode, where = proof
    text = f"subject's postcode {postcode} ({_source(where)}) is the home postcode of user {entry.display()}"
    return _staff_evidence(entry, table, text)


def _ev_address(view: EventView, proof: Any) -> Evidence:
    entry, table, raw, where = proof
    text = (f"subject's address '{raw}' ({_source(where)}, {entry.postcode}) is the home address of user "
            f"{entry.display()}")
    return _staff_evidence(entry, table, text)


def _ev_restricted(view: EventView, proof: Any) -> Evidence:
    entry, table, row, day = proof
    since = f" since {row[0]}" if row[0] else ""
    return _staff_evidence(entry, table, f"user {entry.display()} was {row[1]}{since} (access on {day})")


def _ev_vetting(view: EventView, proof: Any) -> Evidence:
    entry, table = proof
    level = f" {entry.vetting_level}" if entry.vetting_level else ""
    return _staff_evidence(entry, table, f"user {entry.display()}'s{level} vetting expired on "
                           f"{entry.vetting_expiry} (access on {(view._v_day or view._day())})")


def _ev_linked(view: EventView, proof: Any) -> Evidence:
    item, table, case, what, key, role, links = proof
    how = _how(what, key)
    link: dict[str, object] = {"case_ref": case, "linked": how, "role": role or None}
    if links is not None:
        link.update(source=links.source, as_of=links.as_of)
    as_role = f" as {role}" if role else ""
    return _assignment_evidence(item, table, f"user {item.staff_id} was assigned to case {case} "
                                f"({item.period()}), which links {how}{as_role}", link)


def _ev_case_ref(view: EventView, proof: Any) -> Evidence:
    item, table, case = proof
    return _assignment_evidence(item, table, f"user {item.staff_id} was assigned to case {case} "
                                f"({item.period()}) given as the reason", {})


def _ev_duty(view: EventView, proof: Any) -> Evidence:
    sid, shifts, i, table = proof
    first, last, line = shifts.shift(i)
    start, end = iso_utc(first), iso_utc(last)
    entry = {"staff_id": sid, "start": start, "end": end, "line": line}
    return Evidence("roster", table.source, table.as_of, entry,
                    f"user {sid} was rostered from {start} to {end} in {_base(table.source)} "
                    f"as of {table.as_of}")


def _ev_unit_case(view: EventView, proof: Any) -> Evidence:
    item, table, colleague, case, how, role, unit = proof
    link: dict[str, object] = {"case_ref": case, "linked": how, "role": role or None, "unit": unit}
    return _assignment_evidence(
        item, table, f"{colleague.display()} of the user's unit {unit} was assigned to case "
        f"{case} ({item.period()}), which links {how}", link)


_EVIDENCE: Final[dict[str, Callable[[EventView, Any], Evidence]]] = {
    "subject_is_staff": _ev_staff,
    "subject_is_staff_by_name": _ev_staff,
    "subject_is_self": _ev_self,
    "subject_on_watchlist": _ev_watchlist,
    "subject_on_watchlist_by_name": _ev_watchlist,
    "subject_is_declared_associate": _ev_associate,
    "subject_is_declared_associate_by_name": _ev_associate,
    "subject_same_surname": _ev_surname,
    "subject_same_address": _ev_address,
    "subject_same_postcode": _ev_postcode,
    "user_restricted": _ev_restricted,
    "user_vetting_lapsed": _ev_vetting,
    "assigned_to_linked_case": _ev_linked,
    "assigned_to_case_ref": _ev_case_ref,
    "rostered_on_duty": _ev_duty,
    "subject_in_same_unit_case": _ev_unit_case,
}

assert set(_MATCH_FUNCS) == set(MATCHES) == set(_EVIDENCE)
assert set(_VALUE_FUNCS) == set(VALUES)
