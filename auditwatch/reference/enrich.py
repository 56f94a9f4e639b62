"""The per-event view of reference data that detection rules read: `EventView.value` / `.match`.

A view costs nothing until asked; each answer (and each intermediate lookup) is computed once per
view. Every answer is a dict hit or a `bisect`, keyed by identifiers normalised exactly like the
exports' (see `identifiers:` in config.py); names are folded again here (cheaply, cached) rather
than trusting the parser to have done it.

Conventions: a member of staff looking at their own record is reported by `subject_is_self` only:
`subject_is_staff`, `subject_same_surname`, `subject_same_address` and `subject_same_postcode` do not
fire on it. Dates are compared as local dates in the reference time zone; an assignment covers its
`from` and `to` days inclusive, vetting is valid up to and including its expiry day, and a status
applies from its `status_from` day.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

from auditwatch.parsing.normalise import fold_name, uk_postcode
from auditwatch.parsing.timestamps import iso_utc
from auditwatch.reference.snapshot import ReferenceSnapshot
from auditwatch.reference.tables import (
    Assignment,
    AssignmentTable,
    ListedPerson,
    ListTable,
    StaffEntry,
    StaffTable,
    Table,
    address_parts,
    name_dob_key,
    name_key,
)

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
    "subject.surname_norm": "the subject's surname, case- and accent-folded (None if absent)",
    "subject.surname_rarity": "0 (very common) .. 1 (rarest) for the subject's surname (None if absent)",
    "subject.watchlist_category": "the subject's watchlist category (None if not on a watchlist)",
    "subject.staff_id": "the staff number of the subject, if the subject is a member of staff (or the user)",
    "subject.staff_unit": "the unit of the subject, if the subject is a member of staff",
}

MATCHES: Final[Mapping[str, MatchInfo]] = {
    "subject_is_staff": MatchInfo(
        "the subject is another member of staff (linked person id, or same surname, first forename and DOB)",
        "signal", "the subject does not match anyone in the HR directory"),
    "subject_is_self": MatchInfo(
        "the subject is the user themselves (linked person id, or same surname, first forename and DOB)",
        "signal", "the subject is not the user"),
    "subject_on_watchlist": MatchInfo(
        "the subject is on a watchlist (person id, or name and DOB; name alone for entries without a DOB)",
        "signal", "the subject is on no watchlist"),
    "subject_is_declared_associate": MatchInfo(
        "the subject is an associate this user declared in the integrity register",
        "signal", "the subject is not among this user's declared associates"),
    "subject_same_surname": MatchInfo(
        "the subject has the user's surname (folded); weigh with subject.surname_rarity",
        "signal", "the subject's surname differs from the user's"),
    "subject_same_address": MatchInfo(
        "the subject lives at the user's home address (same postcode and same address)",
        "signal", "the subject's address is not the user's home address"),
    "subject_same_postcode": MatchInfo(
        "the subject's postcode is the user's home postcode (neighbour or same address)",
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


@lru_cache(maxsize=65_536)
def _fold(text: str) -> str | None:
    return fold_name(text) or None


@lru_cache(maxsize=16_384)
def _postcode(text: str) -> str | None:
    return uk_postcode(text)


@lru_cache(maxsize=16_384)
def _address(text: str) -> tuple[str | None, tuple[str, ...]]:
    return address_parts(text)


def _text(fields: Mapping[str, object], name: str) -> str | None:
    value = fields.get(name)
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


class EventView:
    """Reference data about one event's user and subject; answers are memoised per view."""

    __slots__ = ("_at", "_fields", "_memo", "_ref", "_v_day", "_v_ids", "_v_keys", "_v_names", "_v_user")

    def __init__(self, ref: ReferenceSnapshot, fields: Mapping[str, object], at: float) -> None:
        self._ref = ref
        self._fields = fields
        self._at = at
        self._memo: dict[str, object] = {}
        # the lookups most answers need, memoised in slots (cheaper than the memo dict)
        self._v_day: str | None = None
        self._v_user: tuple[str | None, tuple[StaffEntry, StaffTable] | None] | None = None
        self._v_ids: tuple[str | None, str | None] | None = None
        self._v_names: tuple[str | None, str | None, str | None] | None = None
        self._v_keys: tuple[str | None, str | None] | None = None

    def value(self, name: str) -> object:
        memo = self._memo
        found = memo.get(name, _MISS)
        if found is _MISS:
            compute = _VALUE_FUNCS.get(name)
            if compute is None:
                raise KeyError(f"unknown reference value '{name}' (known: {', '.join(VALUES)})")
            found = memo[name] = compute(self)
        return found

    def match(self, name: str) -> Evidence | None:
        key = "?" + name
        memo = self._memo
        found = memo.get(key, _MISS)
        if found is _MISS:
            compute = _MATCH_FUNCS.get(name)
            if compute is None:
                raise KeyError(f"unknown reference match '{name}' (known: {', '.join(MATCHES)})")
            found = memo[key] = compute(self)
        return found  # type: ignore[return-value]

    # --- memoised intermediate lookups (inline memo code: no closure per call) ----------------

    def _day(self) -> str:
        day = self._v_day
        if day is None:
            day = self._v_day = self._ref.local_day(self._at)
        return day

    def _load_user(self) -> tuple[str | None, tuple[StaffEntry, StaffTable] | None]:
        raw = _text(self._fields, F_USER)
        sid = self._ref.staff_id_of(raw) if raw else None
        user = None
        if sid is not None:
            for table in self._ref.staff:
                entry = table.by_id.get(sid)
                if entry is not None:
                    user = (entry, table)
                    break
        loaded = self._v_user = (sid, user)
        return loaded

    def _sid(self) -> str | None:
        return (self._v_user or self._load_user())[0]

    def _user(self) -> tuple[StaffEntry, StaffTable] | None:
        return (self._v_user or self._load_user())[1]

    def _user_attr(self, get: Callable[[StaffEntry], object]) -> object:
        user = self._user()
        return get(user[0]) if user is not None else None

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

    def _names(self) -> tuple[str | None, str | None, str | None]:
        """(folded surname, folded forenames, DOB) of the subject."""
        names = self._v_names
        if names is None:
            fields = self._fields
            surname, forenames = _text(fields, F_SURNAME), _text(fields, F_FORENAMES)
            dob = _text(fields, F_DOB)
            names = self._v_names = (
                _fold(surname) if surname else None, _fold(forenames) if forenames else None,
                dob.strip() if dob else None,
            )
        return names

    def _keys(self) -> tuple[str | None, str | None]:
        """The subject's (name_dob_key, name_key), see tables.py."""
        keys = self._v_keys
        if keys is None:
            surname, forenames, dob = self._names()
            keys = self._v_keys = (name_dob_key(surname, forenames, dob), name_key(surname, forenames))
        return keys

    def _subject_staff(self) -> tuple[tuple[StaffEntry, StaffTable, str], ...]:
        """Staff the subject matches: (entry, table, how)."""
        memo = self._memo.get("_subject_staff", _MISS)
        if memo is not _MISS:
            return memo  # type: ignore[return-value]
        pid = self._pid()
        key = self._keys()[0]
        found: list[tuple[StaffEntry, StaffTable, str]] = []
        for table in self._ref.staff:
            for ids, by_id in ((table.by_person.get(pid) if pid else None, True),
                               (table.by_name_dob.get(key) if key else None, False)):
                for sid in ids or ():
                    if all(sid != f[0].staff_id for f in found):
                        how = f"person id {pid}" if by_id else "name and date of birth"
                        found.append((table.by_id[sid], table, how))
        result = self._memo["_subject_staff"] = tuple(found)
        return result

    def _is_self(self) -> bool:
        return self.match("subject_is_self") is not None

    def _user_cases(self) -> tuple[tuple[Mapping[str, tuple[Assignment, ...]], AssignmentTable], ...]:
        found = self._memo.get("_user_cases", _MISS)
        if found is _MISS:
            sid = self._sid()
            out = []
            if sid is not None:
                for table in self._ref.assignments:
                    cases = table.by_staff.get(sid)
                    if cases:
                        out.append((cases, table))
            found = self._memo["_user_cases"] = tuple(out)
        return found  # type: ignore[return-value]

    def _linked_cases(self) -> Iterator[tuple[str, str, str, str, Table | None]]:
        """(case ref, "person"/"record"/"case", the id, link role, links table) for subject and record."""
        pid, record = self._pid(), self._record()
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


def _how(what: str, key: str) -> str:
    return f"record {key} is the case itself" if what == "case" else f"{what} {key}"


# --- values ----------------------------------------------------------------------------------------


def _status(view: EventView) -> object:
    user = view._user()
    return user[0].status_on(view._day()) if user is not None else "unknown"


def _vetting_expired(view: EventView) -> object:
    user = view._user()
    expiry = user[0].vetting_expiry if user is not None else None
    return expiry is not None and view._day() > expiry


def _surname_norm(view: EventView) -> object:
    return view._names()[0]


def _rarity(view: EventView) -> object:
    surname = view._names()[0]
    return view._ref.rarity(surname) if surname else None


def _watch_category(view: EventView) -> object:
    hit = view.match("subject_on_watchlist")
    return hit.entry.get("category") if hit is not None else None


def _subject_staff_attr(get: Callable[[StaffEntry], object]) -> Callable[[EventView], object]:
    def compute(view: EventView) -> object:
        found = view._subject_staff()
        return get(found[0][0]) if found else None

    return compute


_VALUE_FUNCS: Final[dict[str, Callable[[EventView], object]]] = {
    "user.staff_id": lambda v: v._sid(),
    "user.known": lambda v: v._user() is not None,
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
    "subject.surname_norm": _surname_norm,
    "subject.surname_rarity": _rarity,
    "subject.watchlist_category": _watch_category,
    "subject.staff_id": _subject_staff_attr(lambda e: e.staff_id),
    "subject.staff_unit": _subject_staff_attr(lambda e: e.unit),
}


# --- matches ---------------------------------------------------------------------------------------


def _base(path: str) -> str:
    return os.path.basename(path) or path


def _staff_evidence(entry: StaffEntry, table: StaffTable, text: str) -> Evidence:
    return Evidence("staff", table.source, table.as_of, entry.entry(),
                    f"{text} in {_base(table.source)} as of {table.as_of}")


def _dob(entry: StaffEntry) -> str:
    return f" (DOB {entry.person.dob})" if entry.person.dob else ""


def _subject_is_staff(view: EventView) -> Evidence | None:
    sid = view._sid()
    for entry, table, how in view._subject_staff():
        if entry.staff_id != sid:
            text = f"subject matches staff member {entry.display()}{_dob(entry)} by {how}"
            return _staff_evidence(entry, table, text)
    return None


def _subject_is_self(view: EventView) -> Evidence | None:
    user = view._user()
    if user is None:
        return None
    entry, table = user
    pid = view._pid()
    if pid and entry.person.person_id == pid:
        how = f"person id {pid}"
    elif entry.person.name_dob_key and entry.person.name_dob_key == view._keys()[0]:
        how = "name and date of birth"
    else:
        return None
    text = f"subject is the user {entry.display()}{_dob(entry)} themselves, by {how}"
    return _staff_evidence(entry, table, text)


def _watchlist_hit(table: ListTable, view: EventView) -> tuple[ListedPerson, str] | None:
    pid = view._pid()
    if pid:
        hits = table.by_person.get(pid)
        if hits:
            return hits[0], f"person id {pid}"
    key, nkey = view._keys()
    hits = table.by_name_dob.get(key) if key else None
    if hits:
        return hits[0], "name and date of birth"
    surname, forenames, _dob = view._names()
    if surname is None and forenames is None:  # no name parts: fall back on the parser's name_norm
        norm = _text(view._fields, F_NAME_NORM)
        folded = _fold(norm) if norm else None
        nkey = " ".join(sorted(folded.split())) if folded else None
    hits = table.by_name.get(nkey) if nkey else None
    if hits:
        return hits[0], "name (the entry has no date of birth)"
    return None


def _listed_evidence(kind: str, listed: ListedPerson, table: ListTable, text: str) -> Evidence:
    return Evidence(kind, table.source, table.as_of, listed.entry(),
                    f"{text} in {_base(table.source)} as of {table.as_of}")


def _on_watchlist(view: EventView) -> Evidence | None:
    for table in view._ref.watchlists:
        hit = _watchlist_hit(table, view)
        if hit is not None:
            listed, how = hit
            category = f" ({listed.category})" if listed.category else ""
            return _listed_evidence("watchlist", listed, table,
                                    f"subject matches watchlist entry {listed.display()}{category} by {how}")
    return None


def _declared_associate(view: EventView) -> Evidence | None:
    sid = view._sid()
    if sid is None:
        return None
    pid = view._pid()
    dob = view._names()[2]
    key, nkey = view._keys()
    for table in view._ref.associates:
        for listed in table.by_staff.get(sid, ()):
            p = listed.person
            if pid and p.person_id == pid:
                how = f"person id {pid}"
            elif key and p.name_dob_key == key:
                how = "name and date of birth"
            elif nkey and p.name_key == nkey and not (p.dob and dob):
                how = "name (no date of birth to compare)"
            else:
                continue
            relation = f", declared as {listed.reason}" if listed.reason else ""
            return _listed_evidence("associate", listed, table,
                                    f"subject matches {listed.display()}{relation} by user {sid}, by {how}")
    return None


def _same_surname(view: EventView) -> Evidence | None:
    user, surname = view._user(), view._names()[0]
    if user is None or surname is None or user[0].person.surname_fold != surname or view._is_self():
        return None
    entry, table = user
    rarity = view._ref.rarity(surname)
    return _staff_evidence(entry, table, f"subject's surname {(entry.person.surname or '').upper()} is the "
                           f"surname of user {entry.display()} (surname rarity {rarity:.2f})")


def _subject_postcode(view: EventView) -> str | None:
    raw = _text(view._fields, F_POSTCODE)
    return _postcode(raw) if raw else None


def _same_postcode(view: EventView) -> Evidence | None:
    user = view._user()
    postcode = _subject_postcode(view)
    if user is None or postcode is None or user[0].postcode != postcode or view._is_self():
        return None
    entry, table = user
    return _staff_evidence(entry, table, f"subject's postcode {postcode} is the home postcode of user "
                           f"{entry.display()}")


def _same_address(view: EventView) -> Evidence | None:
    if view.match("subject_same_postcode") is None:
        return None
    user = view._user()
    raw = _text(view._fields, F_ADDRESS)
    assert user is not None  # same postcode needs a known user
    entry, table = user
    if not raw or not entry.address_key:
        return None
    key, numbers = _address(raw)
    if key != entry.address_key and not (numbers and numbers == entry.address_numbers):
        return None
    return _staff_evidence(entry, table, f"subject's address '{raw}' ({entry.postcode}) is the home address "
                           f"of user {entry.display()}")


def _restricted(view: EventView) -> Evidence | None:
    user = view._user()
    if user is None:
        return None
    entry, table = user
    day = view._day()
    row = entry.status_row_on(day)
    if row is None or row[1] not in RESTRICTED:
        return None
    since = f" since {row[0]}" if row[0] else ""
    return _staff_evidence(entry, table, f"user {entry.display()} was {row[1]}{since} (access on {day})")


def _vetting_lapsed(view: EventView) -> Evidence | None:
    if view.value("user.vetting_expired") is not True:
        return None
    user = view._user()
    assert user is not None
    entry, table = user
    level = f" {entry.vetting_level}" if entry.vetting_level else ""
    return _staff_evidence(entry, table, f"user {entry.display()}'s{level} vetting expired on "
                           f"{entry.vetting_expiry} (access on {view._day()})")


def _assignment_evidence(
    item: Assignment, table: AssignmentTable, text: str, link: dict[str, object]
) -> Evidence:
    entry = item.entry()
    if link:
        entry["link"] = link
    return Evidence("assignment", table.source, table.as_of, entry,
                    f"{text} in {_base(table.source)} as of {table.as_of}")


def _linked_case(view: EventView) -> Evidence | None:
    # the most asked explanation: plain loops and tuple indexing rather than helpers (hot path)
    sid = view._sid()
    if sid is None:
        return None
    pid, record = view._v_ids or view._load_ids()
    if not (pid or record):
        return None
    ref, day = view._ref, view._day()
    for table in ref.assignments:
        cases = table.by_staff.get(sid)
        if not cases:
            continue
        if record:
            own = ref.case_ref_of(record) or record
            for item in cases.get(own, ()):
                if item[2] <= day <= item[3]:
                    return _linked_evidence(item, table, own, what="case", key=record, role="", links=None)
        for links in ref.case_links:
            for what, key, index in (("person", pid, links.by_person), ("record", record, links.by_record)):
                flat = index.get(key) if key else None
                if not flat:
                    continue
                for i in range(0, len(flat), 2):
                    items = cases.get(flat[i])
                    if items:
                        for item in items:
                            if item[2] <= day <= item[3]:
                                return _linked_evidence(item, table, flat[i], what=what, key=str(key),
                                                        role=flat[i + 1], links=links)
    return None


def _linked_evidence(
    item: Assignment, table: AssignmentTable, case: str, *, what: str, key: str, role: str,
    links: Table | None,
) -> Evidence:
    how = _how(what, key)
    link: dict[str, object] = {"case_ref": case, "linked": how, "role": role or None}
    if links is not None:
        link.update(source=links.source, as_of=links.as_of)
    as_role = f" as {role}" if role else ""
    return _assignment_evidence(item, table, f"user {item.staff_id} was assigned to case {case} "
                                f"({item.period()}), which links {how}{as_role}", link)


def _case_ref(view: EventView) -> Evidence | None:
    raw = _text(view._fields, F_CASE_REF)
    case = view._ref.case_ref_of(raw) if raw else None
    if not case:
        return None
    day = view._day()
    for cases, table in view._user_cases():
        for item in cases.get(case, ()):
            if item.covers(day):
                return _assignment_evidence(item, table, f"user {item.staff_id} was assigned to case {case} "
                                            f"({item.period()}) given as the reason", {})
    return None


def _on_duty(view: EventView) -> Evidence | None:
    sid = view._sid()
    if sid is None:
        return None
    grace = view._ref.roster_grace
    for table in view._ref.rosters:
        shifts = table.by_staff.get(sid)
        if shifts is None:
            continue
        i = shifts.covering(view._at, grace)
        if i is not None:
            first, last, line = shifts.shift(i)
            start, end = iso_utc(first), iso_utc(last)
            entry = {"staff_id": sid, "start": start, "end": end, "line": line}
            return Evidence("roster", table.source, table.as_of, entry,
                            f"user {sid} was rostered from {start} to {end} in {_base(table.source)} "
                            f"as of {table.as_of}")
    return None


def _same_unit_case(view: EventView) -> Evidence | None:
    user = view._user()
    unit = user[0].unit if user is not None else None
    if not unit:
        return None
    sid, day = user[0].staff_id if user else None, view._day()
    for case, what, key, role, _links in view._linked_cases():
        for table in view._ref.assignments:
            for item in table.by_case.get(case, ()):
                if item.staff_id == sid or not item.covers(day):
                    continue
                how = _how(what, key)
                colleague = _staff_by_id(view, item.staff_id)
                if colleague is not None and colleague.unit == unit:
                    link: dict[str, object] = {"case_ref": case, "linked": how, "role": role or None,
                                               "unit": unit}
                    return _assignment_evidence(
                        item, table, f"{colleague.display()} of the user's unit {unit} was assigned to case "
                        f"{case} ({item.period()}), which links {how}", link)
    return None


def _staff_by_id(view: EventView, sid: str) -> StaffEntry | None:
    for table in view._ref.staff:
        entry = table.by_id.get(sid)
        if entry is not None:
            return entry
    return None


_MATCH_FUNCS: Final[dict[str, Callable[[EventView], Evidence | None]]] = {
    "subject_is_staff": _subject_is_staff,
    "subject_is_self": _subject_is_self,
    "subject_on_watchlist": _on_watchlist,
    "subject_is_declared_associate": _declared_associate,
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

assert set(_MATCH_FUNCS) == set(MATCHES)
assert set(_VALUE_FUNCS) == set(VALUES)
