"""The evidence of a match: built from its test's proof (proofs.py), only when an alert asks for it.

Every match's evidence says how it matched (`matched_by`: person_id, name_dob or name_only, and
`identity`: in words), and which export row it rests on, as of when.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditwatch.reference.identity import Link
from auditwatch.reference.proofs import (
    CaseRefProof,
    DutyProof,
    HomeProof,
    LinkedCaseProof,
    ListedProof,
    StaffProof,
    StatusProof,
    SurnameProof,
    UnitCaseProof,
    VettingProof,
    how_linked,
)
from auditwatch.reference.subject import base_name, where_from
from auditwatch.reference.tables import (
    OPEN_END,
    Assignment,
    AssignmentTable,
    ListedPerson,
    PersonRecord,
    StaffEntry,
    Table,
)
from auditwatch.timefmt import iso_utc

if TYPE_CHECKING:
    from auditwatch.reference.view import EventView


@dataclass(frozen=True, slots=True)
class Evidence:
    """The reference entry a match rests on, with where it came from, in plain language."""

    kind: str  # "staff", "watchlist", "associate", "assignment", "roster"
    source: str  # the export's path
    as_of: str  # ISO date of the export
    entry: Mapping[str, object]  # the matched row, normalised, JSON-ready
    summary: str


def _staff_evidence(
    entry: StaffEntry, table: Table, text: str, link: Link[StaffEntry] | None = None
) -> Evidence:
    return Evidence(
        "staff",
        table.source,
        table.as_of,
        _with_link(entry.entry(), link),
        f"{text} in {base_name(table.source)} as of {table.as_of}",
    )


def _with_link(
    row: dict[str, object], link: Link[StaffEntry] | Link[ListedPerson] | None
) -> dict[str, object]:
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


def _listed_evidence(
    kind: str, listed: ListedPerson, table: Table, text: str, link: Link[ListedPerson]
) -> Evidence:
    return Evidence(
        kind,
        table.source,
        table.as_of,
        _with_link(listed.entry(), link),
        f"{text} in {base_name(table.source)} as of {table.as_of}",
    )


def _assignment_evidence(
    item: Assignment, table: AssignmentTable, text: str, link: dict[str, object]
) -> Evidence:
    entry = item.entry()
    if link:
        entry["link"] = link
    return Evidence(
        "assignment",
        table.source,
        table.as_of,
        entry,
        f"{text} in {base_name(table.source)} as of {table.as_of}",
    )


def _by(link: Link[StaffEntry] | Link[ListedPerson]) -> str:
    return f"by {link.text}"  # each text starts with its method: "person id ...", "name and date of birth..."


def staff(view: EventView, proof: StaffProof) -> Evidence:
    (link,) = proof
    entry = link.target
    text = f"subject matches staff member {entry.display()}{_dob(entry)} {_by(link)}"
    return _staff_evidence(entry, link.table, text, link)


def is_self(view: EventView, proof: StaffProof) -> Evidence:
    (link,) = proof
    entry = link.target
    text = f"subject is the user {entry.display()}{_dob(entry)} themselves, {_by(link)}"
    return _staff_evidence(entry, link.table, text, link)


def _dated(listed: ListedPerson, day: str) -> str:
    return f", listed {listed.period()} (access on {day})" if listed.dated else ""


def watchlist(view: EventView, proof: ListedProof) -> Evidence:
    link, day = proof
    listed = link.target
    category = f" ({listed.category})" if listed.category else ""
    return _listed_evidence(
        "watchlist",
        listed,
        link.table,
        f"subject matches watchlist entry {listed.display()}{category}{_dated(listed, day)} {_by(link)}",
        link,
    )


def associate(view: EventView, proof: ListedProof) -> Evidence:
    link, _day = proof
    listed = link.target
    relation = f", declared as {listed.reason}" if listed.reason else ""
    declared = f" on {listed.declared_on}" if listed.declared_on else ""
    ended = f", ended {listed.applies_until}" if listed.applies_until != OPEN_END else ""
    return _listed_evidence(
        "associate",
        listed,
        link.table,
        f"subject matches {listed.display()}{relation} "
        f"by user {listed.staff_id}{declared}{ended}, {_by(link)}",
        link,
    )


def _from_persons(row: PersonRecord | None, view: EventView) -> str:
    if row is None:
        return ""
    return f" (from {view._resolved().describe()})"


def surname(view: EventView, proof: SurnameProof) -> Evidence:
    entry, table, folded, row = proof
    rarity = view._ref.rarity(folded)
    return _staff_evidence(
        entry,
        table,
        f"subject's surname {(entry.person.surname or '').upper()}"
        f"{_from_persons(row, view)} is the surname of user {entry.display()} "
        f"(surname rarity {rarity:.2f})",
    )


def postcode(view: EventView, proof: HomeProof) -> Evidence:
    entry, table, code, where = proof
    text = f"subject's postcode {code} ({where_from(where)}) is the home postcode of user {entry.display()}"
    return _staff_evidence(entry, table, text)


def address(view: EventView, proof: HomeProof) -> Evidence:
    entry, table, raw, where = proof
    text = (
        f"subject's address '{raw}' ({where_from(where)}, {entry.postcode}) is the home address of user "
        f"{entry.display()}"
    )
    return _staff_evidence(entry, table, text)


def restricted(view: EventView, proof: StatusProof) -> Evidence:
    entry, table, row, day = proof
    since = f" since {row[0]}" if row[0] else ""
    return _staff_evidence(entry, table, f"user {entry.display()} was {row[1]}{since} (access on {day})")


def vetting(view: EventView, proof: VettingProof) -> Evidence:
    entry, table = proof
    level = f" {entry.vetting_level}" if entry.vetting_level else ""
    return _staff_evidence(
        entry,
        table,
        f"user {entry.display()}'s{level} vetting expired on "
        f"{entry.vetting_expiry} (access on {(view._v_day or view._day())})",
    )


def linked_case(view: EventView, proof: LinkedCaseProof) -> Evidence:
    item, table, case, what, key, role, links = proof
    how = how_linked(what, key)
    link: dict[str, object] = {"case_ref": case, "linked": how, "role": role or None}
    if links is not None:
        link.update(source=links.source, as_of=links.as_of)
    as_role = f" as {role}" if role else ""
    return _assignment_evidence(
        item,
        table,
        f"user {item.staff_id} was assigned to case {case} ({item.period()}), which links {how}{as_role}",
        link,
    )


def case_ref(view: EventView, proof: CaseRefProof) -> Evidence:
    item, table, case = proof
    return _assignment_evidence(
        item,
        table,
        f"user {item.staff_id} was assigned to case {case} ({item.period()}) given as the reason",
        {},
    )


def duty(view: EventView, proof: DutyProof) -> Evidence:
    sid, shifts, i, table = proof
    first, last, line = shifts.shift(i)
    start, end = iso_utc(first), iso_utc(last)
    entry = {"staff_id": sid, "start": start, "end": end, "line": line}
    return Evidence(
        "roster",
        table.source,
        table.as_of,
        entry,
        f"user {sid} was rostered from {start} to {end} in {base_name(table.source)} as of {table.as_of}",
    )


def unit_case(view: EventView, proof: UnitCaseProof) -> Evidence:
    item, table, colleague, case, how, role, unit = proof
    link: dict[str, object] = {"case_ref": case, "linked": how, "role": role or None, "unit": unit}
    return _assignment_evidence(
        item,
        table,
        f"{colleague.display()} of the user's unit {unit} was assigned to case "
        f"{case} ({item.period()}), which links {how}",
        link,
    )
