"""The tests of the matches (matches.py): each returns a proof that its match holds, or None.

A proof is what the match's evidence (evidence.py) is built from, only when an alert asks for it;
each kind of proof has its own type below, so a test and the evidence built from it must agree.

Conventions: a member of staff looking at their own record is reported by `subject_is_self` only:
`subject_is_staff`, `subject_same_surname`, `subject_same_address` and `subject_same_postcode` do not
fire on it. Dates are compared as local dates in the reference time zone; an assignment covers its
`from` and `to` days inclusive, vetting is valid up to and including its expiry day, and a status
applies from its `status_from` day; a watchlist entry applies from its `added_on` day until the day
before its `removed_on` day, a declared associate from `declared_on` until the day before `ended_on`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from auditwatch.reference.identity import Joins, Link
from auditwatch.reference.subject import (
    Resolved,
    cached_address,
    field_text,
    name_only_links,
    strict_links,
    subject_addresses,
    subject_postcodes,
    subject_surname,
)
from auditwatch.reference.tables import (
    Assignment,
    AssignmentTable,
    CaseLinkTable,
    ListedPerson,
    PersonRecord,
    RosterTable,
    Shifts,
    StaffEntry,
    StaffTable,
)
from auditwatch.schema import REASON_CASE_REF

if TYPE_CHECKING:
    from auditwatch.reference.view import EventView

RESTRICTED: Final = frozenset({"suspended", "restricted", "left"})

# the proofs: plain tuples (a test runs for every event; a tuple costs least to build)
StaffProof = tuple[Link[StaffEntry]]  # the member of staff the subject is, and how
ListedProof = tuple[Link[ListedPerson], str]  # the watchlist entry or declaration, the event's local day
# the user, their HR export, the folded surname, the persons-table row it came from (None: the event)
SurnameProof = tuple[StaffEntry, StaffTable, str, PersonRecord | None]
# the user, their HR export, the subject's postcode (or address as written), where it came from
HomeProof = tuple[StaffEntry, StaffTable, str, Resolved | None]
StatusProof = tuple[StaffEntry, StaffTable, tuple[str, str], str]  # ..., (from day, status), the day
VettingProof = tuple[StaffEntry, StaffTable]
# the assignment, its export, the case, how it links ("person"/"record"/"case"), the linked id, the
# link's role, the case-links export (None: the record is the case itself)
LinkedCaseProof = tuple[Assignment, AssignmentTable, str, str, str, str, CaseLinkTable | None]
CaseRefProof = tuple[Assignment, AssignmentTable, str]  # the assignment, its export, the case
DutyProof = tuple[str, Shifts, int, RosterTable]  # staff id, their shifts, the covering one, the export
# the colleague's assignment, its export, the colleague, the case, how it links (words), role, unit
UnitCaseProof = tuple[Assignment, AssignmentTable, StaffEntry, str, str, str, str]


def subject_is_staff(view: EventView) -> StaffProof | None:
    links = view._v_staff
    if links is None:
        links = view._subject_staff()
    if not links:
        return None
    sid = (view._u or view._user()).sid
    for link in links:
        if link.target.staff_id != sid:
            return (link,)
    return None


def subject_is_staff_by_name(view: EventView) -> StaffProof | None:
    if view.hit("subject_is_staff"):
        return subject_is_staff(view)  # the proof `hit` memoised, again: its inputs are memoised
    sid = (view._u or view._user()).sid
    strict = view._subject_staff()
    if any(link.target.staff_id == sid for link in strict):
        return None  # the subject is the user: subject_is_self's business
    for link in name_only_links(view, view._ref.identity.staff, strict):
        if link.target.staff_id != sid:
            return (link,)
    return None


def subject_is_self(view: EventView) -> StaffProof | None:
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
        if link.target.staff_id == sid:
            return (link,)
    return None


def _listed_hit(view: EventView, joins: Joins[ListedPerson], by_name: bool) -> ListedProof | None:
    strict = strict_links(view, joins)
    if strict:
        day = view._v_day or view._day()
        for link in strict:
            if link.target.applies_on(day):
                return (link, day)
    if by_name:
        links = name_only_links(view, joins, strict)
        if links:
            day = view._v_day or view._day()
            for link in links:
                if link.target.applies_on(day):
                    return (link, day)
    return None


def on_watchlist(view: EventView) -> ListedProof | None:
    return _listed_hit(view, view._ref.identity.watchlist, False)


def on_watchlist_by_name(view: EventView) -> ListedProof | None:
    return _listed_hit(view, view._ref.identity.watchlist, True)


def declared_associate(view: EventView) -> ListedProof | None:
    joins = (view._u or view._user()).associates
    return _listed_hit(view, joins, False) if joins is not None else None


def declared_associate_by_name(view: EventView) -> ListedProof | None:
    joins = (view._u or view._user()).associates
    return _listed_hit(view, joins, True) if joins is not None else None


def same_surname(view: EventView) -> SurnameProof | None:
    user = view._u or view._user()
    entry, table = user.entry, user.table
    if entry is None or table is None or entry.person.surname_fold is None:
        return None
    found = subject_surname(view)
    if found is None or entry.person.surname_fold != found[0] or view._is_self():
        return None
    return entry, table, found[0], found[1]


def same_postcode(view: EventView) -> HomeProof | None:
    user = view._u or view._user()
    entry, table = user.entry, user.table
    if entry is None or table is None or entry.postcode is None:
        return None
    for postcode, source in subject_postcodes(view):
        if postcode == entry.postcode:
            if view._is_self():
                return None
            return entry, table, postcode, source
    return None


def same_address(view: EventView) -> HomeProof | None:
    if not view.hit("subject_same_postcode"):
        return None
    user = view._u or view._user()
    entry, table = user.entry, user.table
    if entry is None or table is None or not entry.address_key:  # (same postcode: a known user)
        return None
    for raw, source in subject_addresses(view):
        key, numbers = cached_address(raw)
        if key == entry.address_key or (numbers and numbers == entry.address_numbers):
            return entry, table, raw, source
    return None


def restricted(view: EventView) -> StatusProof | None:
    user = view._u or view._user()
    entry, table = user.entry, user.table
    if entry is None or table is None:
        return None
    day = view._v_day or view._day()
    row = entry.status_row_on(day)
    if row is None or row[1] not in RESTRICTED:
        return None
    return entry, table, row, day


def vetting_lapsed(view: EventView) -> VettingProof | None:
    user = view._u or view._user()
    entry, table = user.entry, user.table
    if entry is None or table is None:
        return None
    expiry = entry.vetting_expiry
    if expiry is None or not (view._v_day or view._day()) > expiry:  # as `user.vetting_expired`
        return None
    return entry, table


def linked_case(view: EventView) -> LinkedCaseProof | None:
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
                    return item, table, own, "case", str(record), "", None
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


def case_ref(view: EventView) -> CaseRefProof | None:
    raw = field_text(view._fields, REASON_CASE_REF)
    if not raw:
        return None
    user = view._u or view._user()
    if not user.cases:
        return None
    case = view._ref.case_ref_of(raw)
    if not case:
        return None
    day = view._v_day or view._day()
    for cases, table in user.cases:
        for item in cases.get(case, ()):
            if item[2] <= day <= item[3]:
                return item, table, case
    return None


def on_duty(view: EventView) -> DutyProof | None:
    user = view._u or view._user()
    if user.sid is None:
        return None
    grace, at = view._ref.roster_grace, view._at
    for shifts, table in user.shifts:
        i = shifts.covering(at, grace)
        if i is not None:
            return user.sid, shifts, i, table
    return None


def same_unit_case(view: EventView) -> UnitCaseProof | None:
    entry = (view._u or view._user()).entry
    if entry is None or not entry.unit:
        return None
    unit, sid, day = entry.unit, entry.staff_id, (view._v_day or view._day())
    for case, what, key, role, _links in view._linked_cases():
        for table in view._ref.assignments:
            for item in table.by_case.get(case, ()):
                if item.staff_id == sid or not item.covers(day):
                    continue
                colleague = _staff_by_id(view, item.staff_id)
                if colleague is not None and colleague.unit == unit:
                    return item, table, colleague, case, how_linked(what, key), role, unit
    return None


def _staff_by_id(view: EventView, sid: str) -> StaffEntry | None:
    for table in view._ref.staff:
        entry = table.by_id.get(sid)
        if entry is not None:
            return entry
    return None


def how_linked(what: str, key: str) -> str:
    return f"record {key} is the case itself" if what == "case" else f"{what} {key}"
