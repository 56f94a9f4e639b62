"""Identity resolution: every subject signal, through person ids, name + DOB and the persons table.

The force here has the shape a records system gives: HR without person ids, a person table with
upper-cased, ASCII-folded names and unspaced postcodes, duplicate nominals, namesakes born on other
days, watchlist entries without person ids, and entries dated to apply from a day.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from auditwatch.detection.casetest import reference_from_rows
from auditwatch.reference import EventView, ReferenceSnapshot
from auditwatch.reference.identity import coverage

USER = "MP000101"  # Alex REID, HR without a person id
COLLEAGUE = "MP000202"  # Siobhán Ó BRIAIN, HR without a person id
LINKED = "MP000303"  # Chidi OKAFOR, HR with the person id N-303 (no DOB in HR)

ROWS: dict[str, list[dict[str, Any]]] = {
    "staff": [
        {
            "staff_id": USER,
            "surname": "Reid",
            "forenames": "Alex Jamie",
            "dob": "1984-05-06",
            "postcode": "AB1 2CD",
            "address": "12 Mill Lane, Ashford",
            "unit": "Response",
            "status": "active",
        },
        {
            "staff_id": COLLEAGUE,
            "surname": "Ó Briain",
            "forenames": "Siobhán",
            "dob": "1983-07-21",
            "unit": "Custody",
            "status": "active",
        },
        {
            "staff_id": LINKED,
            "surname": "Okafor",
            "forenames": "Chidi",
            "person_id": "N-303",
            "unit": "CID",
            "status": "active",
        },
        {"staff_id": "MP000404", "surname": "Vance", "forenames": "Ida", "unit": "CID", "status": "active"},
    ],
    "persons": [
        {
            "person_id": "N-101",
            "surname": "REID",
            "forenames": "ALEX",
            "dob": "1984-05-06",
            "postcode": "ab12cd",
            "address": "12 MILL LANE ASHFORD",
        },
        {"person_id": "N-202", "surname": "O BRIAIN", "forenames": "SIOBHAN", "dob": "1983-07-21"},
        {"person_id": "N-203", "surname": "OBRIAIN", "forenames": "SIOBHAN MARY", "dob": "1983-07-21"},
        {"person_id": "N-204", "surname": "O BRIAIN", "forenames": "SIOBHAN", "dob": "1990-02-02"},
        {
            "person_id": "N-303",
            "surname": "OKAFOR",
            "forenames": "CHIDI",
            "dob": "1985-04-12",
            "aliases": "OKAFOR, Chidi Emeka | Chidi Okafor-Ade",
        },
        {
            "person_id": "N-501",
            "surname": "PATEL",
            "forenames": "RAJ",
            "dob": "1970-01-01",
            "postcode": "AB12CD",
            "address": "14 MILL LANE, ASHFORD",
        },
        {
            "person_id": "N-502",
            "surname": "REID",
            "forenames": "MORAG",
            "dob": "1950-01-01",
            "postcode": "ZZ1 1ZZ",
        },
        {"person_id": "N-601", "surname": "HALE", "forenames": "RHIANNON", "dob": "1975-05-05"},
        {"person_id": "N-602", "surname": "WOODS", "forenames": "ELDRICK", "dob": "1975-12-30"},
        {"person_id": "N-701", "surname": "KOWALCZYK", "forenames": "LUCJA", "dob": "1992-06-15"},
        {"person_id": "N-702", "surname": "KOWALCZYK", "forenames": "LUCJA", "dob": "1970-01-01"},
        {"person_id": "N-801", "surname": "VANCE", "forenames": "IDA", "dob": "1966-06-06"},
        {
            "person_id": "N-901",
            "surname": "DUPLICATE",
            "forenames": "DAN",
            "dob": "1980-01-01",
            "postcode": "CD1 1AB",
        },
        {
            "person_id": "N-902",
            "surname": "DUPLICATE",
            "forenames": "DAN",
            "dob": "1980-01-01",
            "postcode": "CD1 1AB",
        },
        {
            "person_id": "N-903",
            "surname": "TWIN",
            "forenames": "TOM",
            "dob": "1980-01-01",
            "postcode": "CD1 1AB",
        },
        {
            "person_id": "N-904",
            "surname": "TWIN",
            "forenames": "TOM",
            "dob": "1980-01-01",
            "postcode": "EF1 1AB",
        },
    ],
    "watchlist": [
        {"name": "HALE, Rhiannon", "dob": "1975-05-05", "category": "politician", "added_on": "2026-01-01"},
        {
            "name": "WOODS, Eldrick",
            "dob": "1975-12-30",
            "category": "celebrity",
            "added_on": "2026-03-01",
            "removed_on": "2026-06-01",
        },
    ],
    "associates": [
        {
            "staff_id": USER,
            "surname": "Kowalczyk",
            "forenames": "Łucja",
            "dob": "1992-06-15",
            "relationship": "partner",
            "declared_on": "2025-06-01",
        },
        {"staff_id": USER, "surname": "Vance", "forenames": "Ida", "relationship": "friend"},
    ],
    "assignments": [{"staff_id": USER, "case_ref": "CR-1", "from": "2025-01-01"}],
    "case_links": [{"case_ref": "CR-1", "person_id": "N-501", "role": "witness"}],
}
FIELDS = {
    "pid": "auditwatch.subject.person_id",
    "surname": "auditwatch.subject.surname",
    "forenames": "auditwatch.subject.forenames",
    "dob": "auditwatch.subject.dob",
    "postcode": "auditwatch.subject.postcode",
}


@pytest.fixture(scope="module")
def reference() -> ReferenceSnapshot:
    return reference_from_rows(ROWS)


def view(reference: ReferenceSnapshot, day: str = "2026-04-01", user: str = USER, **fields: str) -> EventView:
    at = datetime.fromisoformat(f"{day}T12:00:00").replace(tzinfo=UTC).timestamp()
    return EventView(reference, {"user.id": user, **{FIELDS[k]: v for k, v in fields.items()}}, at)


def test_person_id_alone_finds_a_colleague_hr_knows_without_person_ids(reference: ReferenceSnapshot) -> None:
    """The person table gives the person id a name and DOB; HR's name and DOB match it (folded)."""
    hit = view(reference, pid="N-202").match("subject_is_staff")
    assert hit is not None
    assert hit.entry["staff_id"] == COLLEAGUE
    assert hit.entry["matched_by"] == "name_dob"
    assert hit.entry["via"]["person_id"] == "N-202"  # type: ignore[index]
    assert "person N-202 in persons.jsonl has the HR record's surname, first forename and date of birth" in (
        hit.summary
    )


def test_spelling_of_the_surname_does_not_matter(reference: ReferenceSnapshot) -> None:
    """OBRIAIN, O BRIAIN and Ó Briain are one surname; middle names are ignored."""
    hit = view(reference, pid="N-203").match("subject_is_staff")
    assert hit is not None
    assert hit.entry["staff_id"] == COLLEAGUE


def test_a_namesake_born_another_day_is_not_the_colleague(reference: ReferenceSnapshot) -> None:
    """Same folded name, other DOB: no match, not even by the opt-in name-only signal."""
    v = view(reference, pid="N-204")
    assert v.match("subject_is_staff") is None
    assert v.match("subject_is_staff_by_name") is None


def test_name_and_dob_on_the_event_reach_hr_person_ids_through_the_person_table(
    reference: ReferenceSnapshot,
) -> None:
    """HR links N-303 (no DOB in HR); a mainframe enquiry by name + DOB resolves to N-303, also by alias."""
    for surname, forenames in (("OKAFOR", "CHIDI"), ("Okafor-Ade", "Chidi")):
        hit = view(reference, surname=surname, forenames=forenames, dob="1985-04-12").match(
            "subject_is_staff"
        )
        assert hit is not None, surname
        assert hit.entry["staff_id"] == LINKED
        assert hit.entry["matched_by"] == "name_dob"
        assert "those of person N-303 in persons.jsonl, the HR record's person id" in hit.summary
    direct = view(reference, pid="N-303").match("subject_is_staff")
    assert direct is not None
    assert direct.entry["matched_by"] == "person_id"
    assert "by person id N-303, the HR record's person id" in direct.summary


def test_name_only_is_opt_in_and_says_so(reference: ReferenceSnapshot) -> None:
    """HR has no DOB for Ida Vance: only subject_is_staff_by_name matches her, as name only."""
    v = view(reference, pid="N-801")
    assert v.match("subject_is_staff") is None
    hit = v.match("subject_is_staff_by_name")
    assert hit is not None
    assert hit.entry["staff_id"] == "MP000404"
    assert hit.entry["matched_by"] == "name_only"
    assert "by name only (the HR record has no date of birth)" in hit.summary


def test_self_through_the_person_table(reference: ReferenceSnapshot) -> None:
    """The user's own person id alone is the user (HR without person ids), and not also a colleague,
    a surname or a postcode match."""
    v = view(reference, pid="N-101")
    hit = v.match("subject_is_self")
    assert hit is not None
    assert hit.entry["matched_by"] == "name_dob"
    for name in ("subject_is_staff", "subject_same_surname", "subject_same_postcode", "subject_same_address"):
        assert v.match(name) is None, name
    assert view(reference, user=COLLEAGUE, pid="N-101").match("subject_is_self") is None


def test_postcode_and_address_come_from_the_person_table(reference: ReferenceSnapshot) -> None:
    """A neighbour known only by person id: the unspaced postcode and the address are the person table's."""
    v = view(reference, pid="N-501")
    postcode = v.match("subject_same_postcode")
    assert postcode is not None
    assert "subject's postcode AB1 2CD (from person N-501 in persons.jsonl)" in postcode.summary
    assert v.match("subject_same_address") is None  # 14 Mill Lane is not 12 Mill Lane
    assert v.value("subject.postcode") == "AB1 2CD"


def test_same_address_from_the_person_table(reference: ReferenceSnapshot) -> None:
    """Another user's home address in the person table (upper case, no comma) is the same address."""
    hit = view(reference, user=COLLEAGUE, pid="N-101").match("subject_same_address")
    assert hit is None  # the colleague has no home address in HR
    rows = {
        **ROWS,
        "persons": [
            *ROWS["persons"],
            {
                "person_id": "N-111",
                "surname": "GREEN",
                "forenames": "JO",
                "postcode": "AB12CD",
                "address": "12 MILL LN ASHFORD",
            },
        ],
    }
    hit = view(reference_from_rows(rows), pid="N-111").match("subject_same_address")
    assert hit is not None
    assert "address '12 MILL LN ASHFORD' (from person N-111 in persons.jsonl, AB1 2CD)" in hit.summary


def test_same_surname_from_the_person_table(reference: ReferenceSnapshot) -> None:
    """A person id alone gives the subject's surname; the user's relative is found."""
    v = view(reference, pid="N-502")
    hit = v.match("subject_same_surname")
    assert hit is not None
    assert "(from person N-502 in persons.jsonl)" in hit.summary
    assert v.value("subject.surname_norm") == "reid"


def test_watchlist_entry_applies_from_added_on_until_removed_on(reference: ReferenceSnapshot) -> None:
    """An entry added after the access does not apply to it; one added before does, until removed."""
    assert view(reference, day="2025-12-31", pid="N-601").match("subject_on_watchlist") is None
    hit = view(reference, day="2026-01-01", pid="N-601").match("subject_on_watchlist")
    assert hit is not None
    assert hit.entry["matched_by"] == "name_dob"
    assert hit.entry["added_on"] == "2026-01-01"
    assert "listed from 2026-01-01 (access on 2026-01-01)" in hit.summary
    woods = [
        view(reference, day=d, pid="N-602").hit("subject_on_watchlist")
        for d in ("2026-02-28", "2026-03-01", "2026-05-31", "2026-06-01")
    ]
    assert woods == [False, True, True, False]


def test_declared_associate_by_person_id_through_the_person_table(reference: ReferenceSnapshot) -> None:
    """The register gives name + DOB; the event only the person id; the person table joins them."""
    hit = view(reference, pid="N-701").match("subject_is_declared_associate")
    assert hit is not None
    assert hit.entry["relationship"] == "partner"
    assert hit.entry["matched_by"] == "name_dob"


def test_namesake_of_an_associate_with_another_dob_does_not_match(reference: ReferenceSnapshot) -> None:
    """Same name, other DOB: never an associate, whether by person id, on the event or by name only."""
    for v in (
        view(reference, pid="N-702"),
        view(reference, surname="KOWALCZYK", forenames="LUCJA", dob="1970-01-01"),
    ):
        assert v.match("subject_is_declared_associate") is None
        assert v.match("subject_is_declared_associate_by_name") is None


def test_declaration_applies_from_its_day(reference: ReferenceSnapshot) -> None:
    """An access before the declaration is not a declared associate's."""
    assert view(reference, day="2025-05-31", pid="N-701").hit("subject_is_declared_associate") is False
    assert view(reference, day="2025-06-01", pid="N-701").hit("subject_is_declared_associate") is True


def test_associate_declared_without_dob_matches_only_by_name_opt_in(reference: ReferenceSnapshot) -> None:
    """A declaration without a DOB matches the person id's name through the opt-in signal only."""
    v = view(reference, pid="N-801")
    assert v.match("subject_is_declared_associate") is None
    hit = v.match("subject_is_declared_associate_by_name")
    assert hit is not None
    assert hit.entry["matched_by"] == "name_only"


def test_name_and_dob_shared_by_several_persons_is_explained(reference: ReferenceSnapshot) -> None:
    """Duplicate nominals: the postcode they agree on is used; the subject has no single person id."""
    dup = view(reference, surname="DUPLICATE", forenames="DAN", dob="1980-01-01")
    assert dup.value("subject.resolved_by") == "ambiguous"
    assert dup.value("subject.person_id") is None
    assert dup.value("subject.postcode") == "CD1 1AB"  # both rows agree
    twin = view(reference, surname="TWIN", forenames="TOM", dob="1980-01-01")
    assert twin.value("subject.resolved_by") == "ambiguous"
    assert twin.value("subject.postcode") is None  # they disagree: neither is used


def test_an_hr_key_shared_by_several_persons_lists_them_in_the_evidence() -> None:
    """A staff member whose name and DOB two person rows share matches each, and says so."""
    rows = {
        "staff": [{"staff_id": "MP1", "surname": "Duplicate", "forenames": "Dan", "dob": "1980-01-01"}],
        "persons": ROWS["persons"],
    }
    reference = reference_from_rows(rows)
    for pid in ("N-901", "N-902"):
        hit = view(reference, user="MP9", pid=pid).match("subject_is_staff")
        assert hit is not None
        assert "(2 persons share that name and date of birth: N-901, N-902)" in hit.summary


def test_one_identity_for_a_person_id_and_a_name_event(reference: ReferenceSnapshot) -> None:
    """subject.identity is the same for the person id and for the name + DOB of one person."""
    by_id = view(reference, pid="N-202").value("subject.identity")
    by_name = view(reference, surname="Ó Briain", forenames="Siobhán", dob="1983-07-21").value(
        "subject.identity"
    )
    assert by_id == by_name == "obriain|siobhan|1983-07-21"
    assert view(reference, pid="N-204").value("subject.identity") != by_id
    assert view(reference, pid="X-1").value("subject.identity") == "X-1"


def test_a_name_event_is_explained_by_the_case_its_person_is_linked_to(reference: ReferenceSnapshot) -> None:
    """Name + DOB resolved to N-501, linked to the user's case CR-1: the assignment explains the access."""
    v = view(reference, surname="PATEL", forenames="RAJ", dob="1970-01-01")
    hit = v.match("assigned_to_linked_case")
    assert hit is not None
    assert "links person N-501" in hit.summary
    assert v.value("subject.person_id") == "N-501"
    assert v.value("subject.resolved_by") == "name_dob"


def test_without_a_person_table_identity_is_what_the_event_carries() -> None:
    """No persons export: a person id alone identifies no one HR cannot link; name + DOB still works."""
    rows = {k: v for k, v in ROWS.items() if k != "persons"}
    reference = reference_from_rows(rows)
    assert view(reference, pid="N-202").match("subject_is_staff") is None
    assert view(reference, pid="N-202").value("subject.resolved_by") is None
    hit = view(reference, surname="O'BRIAIN", forenames="SIOBHAN", dob="1983-07-21").match("subject_is_staff")
    assert hit is not None
    assert hit.entry["matched_by"] == "name_dob"
    assert "by name and date of birth in staff.jsonl" in hit.summary


def test_coverage_counts_what_a_person_id_reaches_and_warns_when_staff_are_unreachable(
    reference: ReferenceSnapshot,
) -> None:
    """check-config reports how staff are reachable from person ids, and warns when none is."""
    lines = coverage(reference.identity, len(ROWS["staff"]), len(ROWS["watchlist"]), len(ROWS["associates"]))
    assert lines[0] == f"identity: {len(ROWS['persons'])} persons (persons.jsonl)"
    assert (
        "  staff a person id reaches: 3 of 4 (1 by their own person id, 2 by name and DOB through the "
        "persons table)" in lines
    )
    assert not any("warning" in line for line in lines)
    bare = reference_from_rows({"staff": ROWS["staff"][:2]})
    lines = coverage(bare.identity, 2, 0, 0)
    assert lines[0] == "identity: no persons export"
    assert any(
        line.startswith("  warning: no member of staff can be matched from a person id") for line in lines
    )


def test_a_name_without_dob_is_not_an_associate_unless_the_rule_opts_in(reference: ReferenceSnapshot) -> None:
    """The issue's false alert: a name with no DOB matched a declared associate. Now only the opt-in
    signal matches it, saying the subject has no date of birth; with a person id the table's DOB decides."""
    v = view(reference, surname="KOWALCZYK", forenames="LUCJA")
    assert v.match("subject_is_declared_associate") is None
    hit = v.match("subject_is_declared_associate_by_name")
    assert hit is not None
    assert "by name only (the subject has no date of birth)" in hit.summary
    namesake = view(reference, pid="N-702", surname="KOWALCZYK", forenames="LUCJA")  # the table: born 1970
    assert namesake.match("subject_is_declared_associate_by_name") is None
