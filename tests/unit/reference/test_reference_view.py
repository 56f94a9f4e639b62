"""EventView: every value and match on the sample exports, with dates, ranges and shifts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from auditwatch.reference import MATCHES, VALUES, EventView, ReferenceConfig, load_reference

View = Callable[..., EventView]
JANE = "mp012345"  # Jane SMITH, CID North, assigned to CR/2026/001, rostered 24/11 22:00-06:00
SEAN = "12346"  # Seán O'BRIEN, Response, vetting expired 2025-12-31, a witness on CR/2026/001
JOSE = "MP 012347"  # José Luis NÚÑEZ, CID North, vetting/psd roles, suspended from 2026-11-20
ZOE = "MP012348"  # Zoë FEATHERSTONEHAUGH, press office, restricted from 2026-12-01
JOHN = "MP012349"  # John SMITH, left from 2026-10-01


def test_user_values_from_hr(view: View) -> None:
    """The user's HR attributes are looked up by the normalised staff number."""
    v = view(user="mp 12345")
    assert v.value("user.staff_id") == "MP012345"
    assert v.value("user.known") is True
    assert (v.value("user.surname"), v.value("user.forenames")) == ("Smith", "Jane")
    assert (v.value("user.unit"), v.value("user.rank")) == ("CID North", "DC")
    assert v.value("user.roles") == ("intelligence_bulk",)
    assert (v.value("user.vetting_level"), v.value("user.vetting_expired")) == ("MV", False)
    assert (v.value("user.postcode"), v.value("user.person_id")) == ("SW1A 1AA", "P-1001")
    assert v.value("user.status") == "active"


def test_unknown_user_values(view: View) -> None:
    """A user missing from HR is unknown, with no roles and nothing expired."""
    v = view(user="ZZ999")
    assert v.value("user.known") is False
    assert v.value("user.status") == "unknown"
    assert v.value("user.roles") == ()
    assert v.value("user.vetting_expired") is False
    assert view().value("user.staff_id") is None


@pytest.mark.parametrize(
    ("user", "at", "status"),
    [
        (JOSE, "2026-11-19T23:59:00", "active"),  # the day before the suspension
        (JOSE, "2026-11-20T00:01:00", "suspended"),
        (ZOE, "2026-11-30T23:59:00", "active"),  # restriction recorded but not yet effective
        (ZOE, "2026-12-01T09:00:00", "restricted"),
        (JOHN, "2026-09-30T22:59:00", "active"),  # 23:59 BST on 30 September
        (JOHN, "2026-09-30T23:30:00", "left"),  # 00:30 BST on 1 October: the local date counts
    ],
)
def test_status_is_effective_from_its_local_date(view: View, user: str, at: str, status: str) -> None:
    """user.status applies a status from its status_from date, in the reference time zone."""
    assert view(at, user=user).value("user.status") == status


@pytest.mark.parametrize(("at", "expired"), [("2025-12-31T23:59:00", False), ("2026-01-01T00:00:00", True)])
def test_vetting_is_valid_through_its_expiry_day(view: View, at: str, expired: bool) -> None:
    """Vetting expiring 2025-12-31 is valid all that day and expired the next."""
    v = view(at, user=SEAN)
    assert v.value("user.vetting_expired") is expired
    assert (v.match("user_vetting_lapsed") is not None) is expired


def test_subject_values(view: View) -> None:
    """Subject surname is folded; staff id and unit come from the HR match; category from the watchlist."""
    v = view(user=JANE, pid="P-1002", surname="O’Brien")
    assert v.value("subject.surname_norm") == "obrien"
    assert (v.value("subject.staff_id"), v.value("subject.staff_unit")) == ("MP012346", "Response")
    assert v.value("subject.watchlist_category") is None
    assert view(pid="P-2001").value("subject.watchlist_category") == "celebrity"
    assert view().value("subject.surname_rarity") is None


def test_surname_rarity_from_builtin_list_and_hr(view: View) -> None:
    """Common surnames are near 0, rare ones 1, ordered by frequency."""
    smith = view(surname="SMITH").value("subject.surname_rarity")
    hamilton = view(surname="Hamilton").value("subject.surname_rarity")
    rare = view(surname="Featherstonehaugh").value("subject.surname_rarity")
    assert isinstance(smith, float)
    assert isinstance(hamilton, float)
    assert smith < 0.1 < hamilton < 0.5
    assert rare == 1.0


def test_surname_rarity_from_a_frequency_table(
    tmp_path: Path, load_config: Callable[[str, Path], ReferenceConfig]
) -> None:
    """A configured surname table replaces the built-in estimate."""
    (tmp_path / "names.csv").write_text("surname,count\nSmith,500000\nZed,10\n")
    cfg: ReferenceConfig = load_config(
        "reference:\n  sources:\n    - {kind: surnames, path: names.csv}\n", tmp_path
    )
    snap, _ = load_reference(cfg)
    rarity = [
        EventView(snap, {"auditwatch.subject.surname": n}, 0.0).value("subject.surname_rarity")
        for n in ("Smith", "Zed", "Hamilton")
    ]
    assert rarity[0] == 0.0
    assert isinstance(rarity[1], float)
    assert 0.8 < rarity[1] < 1.0
    assert rarity[2] == 1.0


def test_subject_is_staff_by_person_id_or_name_and_dob(view: View) -> None:
    """A colleague matches by person id, or by folded surname, first forename and DOB."""
    by_id = view(user=JANE, pid="P-1002").match("subject_is_staff")
    by_name = view(user=JANE, surname="O'BRIEN", forenames="Sean Patrick", dob="1975-03-04").match(
        "subject_is_staff"
    )
    assert by_id is not None
    assert by_name is not None
    assert by_id.kind == "staff"
    assert by_id.entry["staff_id"] == by_name.entry["staff_id"] == "MP012346"
    assert by_id.summary.startswith("subject matches staff member MP012346 Seán O'BRIEN (DOB 1975-03-04)")
    assert "by name and date of birth in hr.csv as of" in by_name.summary
    other_dob = view(user=JANE, surname="O'Brien", forenames="Sean", dob="1975-03-05")
    assert other_dob.match("subject_is_staff") is None


def test_subject_is_self_and_not_also_a_colleague(view: View) -> None:
    """Looking oneself up is subject_is_self only, not a colleague, surname or address match."""
    v = view(user=JANE, pid="P-1001", surname="Smith", postcode="SW1A 1AA", address="10 High Street")
    assert v.match("subject_is_self") is not None
    for name in ("subject_is_staff", "subject_same_surname", "subject_same_postcode", "subject_same_address"):
        assert v.match(name) is None, name
    by_name = view(user=JANE, surname="SMITH", forenames="jane", dob="1980-02-01").match("subject_is_self")
    assert by_name is not None
    assert "by name and date of birth" in by_name.summary
    assert view(user=SEAN, pid="P-1001").match("subject_is_self") is None


@pytest.mark.parametrize(
    ("fields", "matched_by"),
    [
        ({"pid": "P-2003"}, "person_id"),
        ({"surname": "Muller", "forenames": "Renee", "dob": "1960-12-12"}, "name_dob"),
    ],
)
def test_subject_on_watchlist(view: View, fields: dict[str, str], matched_by: str) -> None:
    """Watchlist matches by person id, or name and DOB; the evidence says which."""
    hit = view(user=JANE, **fields).match("subject_on_watchlist")
    assert hit is not None
    assert hit.kind == "watchlist"
    assert hit.source.endswith("watchlist_latin1.csv")
    assert hit.entry["matched_by"] == matched_by


@pytest.mark.parametrize(
    "fields",
    [
        {"surname": "DUPONT", "forenames": "Gérard"},  # entry without DOB: name alone
        {"name_norm": "gerard dupont"},
    ],
)
def test_watchlist_name_only_is_an_opt_in_signal(view: View, fields: dict[str, str]) -> None:
    """An entry without a DOB matches on the name alone only through subject_on_watchlist_by_name."""
    v = view(user=JANE, **fields)
    assert v.match("subject_on_watchlist") is None
    hit = v.match("subject_on_watchlist_by_name")
    assert hit is not None
    assert hit.entry["matched_by"] == "name_only"
    assert "by name only (the watchlist entry has no date of birth)" in hit.summary


def test_watchlist_name_needs_the_dob_when_the_entry_has_one(view: View) -> None:
    """A name that matches an entry with a DOB does not match without the same DOB."""
    assert view(surname="Müller", forenames="Renée", dob="1961-12-12").match("subject_on_watchlist") is None
    assert view(surname="Müller", forenames="Renée").match("subject_on_watchlist") is None


def test_declared_associate_is_per_user(view: View) -> None:
    """An associate matches only the declaring user's register entries."""
    okafor = {"surname": "OKAFOR", "forenames": "Tom", "dob": "1982-03-03"}
    hit = view(user=JANE, **okafor).match("subject_is_declared_associate")
    assert hit is not None
    assert hit.kind == "associate"
    assert hit.entry["relationship"] == "ex-partner"
    assert view(user=SEAN, **okafor).match("subject_is_declared_associate") is None
    assert view(user=SEAN, pid="P-3001").match("subject_is_declared_associate") is not None
    nowak = view(user=JOSE, surname="Nowak", forenames="Piotr", dob="1980-01-01")  # declared without DOB
    assert nowak.match("subject_is_declared_associate") is None  # name only is opt-in
    by_name = nowak.match("subject_is_declared_associate_by_name")
    assert by_name is not None
    assert by_name.entry["matched_by"] == "name_only"


def test_same_surname_with_rarity_in_the_evidence(view: View) -> None:
    """A subject sharing the user's folded surname matches, with the rarity stated."""
    hit = view(user=ZOE, surname="featherstonehaugh", forenames="Max").match("subject_same_surname")
    assert hit is not None
    assert "surname rarity 1.00" in hit.summary
    assert view(user=JANE, surname="Smyth").match("subject_same_surname") is None


def test_same_address_and_same_postcode(view: View) -> None:
    """Same postcode and address (abbreviations unified) is the same address; postcode alone is weaker."""
    home = view(user=JANE, postcode="sw1a1aa", address="10 High St, LONDON")
    assert home.match("subject_same_address") is not None
    assert home.match("subject_same_postcode") is not None
    neighbour = view(user=JANE, postcode="SW1A 1AA", address="12 High Street")
    assert neighbour.match("subject_same_address") is None
    assert neighbour.match("subject_same_postcode") is not None
    flat = view(user=SEAN, postcode="M1 1AE", address="2/5 Mill Lane")  # same numbers, other spelling
    assert flat.match("subject_same_address") is not None
    elsewhere = view(user=JANE, postcode="SW1A 2AA", address="10 High Street")
    assert elsewhere.match("subject_same_postcode") is None
    assert elsewhere.match("subject_same_address") is None


def test_user_restricted_names_the_status_and_date(view: View) -> None:
    """A suspended user's access carries the HR entry and the effective date as evidence."""
    hit = view("2026-11-25T12:00:00", user=JOSE).match("user_restricted")
    assert hit is not None
    assert "was suspended since 2026-11-20 (access on 2026-11-25)" in hit.summary
    assert view("2026-11-19T12:00:00", user=JOSE).match("user_restricted") is None
    assert view(user=JANE).match("user_restricted") is None


@pytest.mark.parametrize(
    ("user", "fields", "at", "explained"),
    [
        (JANE, {"pid": "P-4001"}, "2026-11-01T00:30:00", True),  # first day of the assignment
        (JANE, {"pid": "P-4001"}, "2026-10-31T23:30:00", False),  # before it
        (SEAN, {"pid": "P-4002"}, "2026-10-31T22:00:00", True),  # last day of the assignment
        (SEAN, {"pid": "P-4002"}, "2026-11-01T00:30:00", False),  # after it
        (ZOE, {"record": "REC-77"}, "2026-11-10T12:00:00", True),  # linked by record id
        (JANE, {"record": "cr/2026/001"}, "2026-11-10T12:00:00", True),  # the record is the case itself
        (JANE, {"pid": "P-4002"}, "2026-11-10T12:00:00", False),  # someone else's case
    ],
)
def test_assigned_to_linked_case_date_ranges(
    view: View, user: str, fields: dict[str, str], at: str, explained: bool
) -> None:
    """An assignment covers its from and to days inclusive and links through person or record ids."""
    hit = view(at, user=user, **fields).match("assigned_to_linked_case")
    assert (hit is not None) is explained
    if hit is not None:
        assert hit.kind == "assignment"
        assert "link" in hit.entry


def test_assigned_to_case_ref(view: View) -> None:
    """The reason's case reference is normalised and checked against the user's assignments that day."""
    hit = view(user=JANE, case_ref=" cr/2026/001").match("assigned_to_case_ref")
    assert hit is not None
    assert hit.entry["case_ref"] == "CR/2026/001"
    assert hit.summary.startswith(
        "user MP012345 was assigned to case CR/2026/001 (from 2026-11-01 open-ended)"
    )
    assert view(user=JANE, case_ref="CR/2026/002").match("assigned_to_case_ref") is None
    too_early = view(user=JANE, case_ref="CR/2026/001", at="2026-10-01T12:00:00")
    assert too_early.match("assigned_to_case_ref") is None


@pytest.mark.parametrize(
    ("at", "on_duty"),
    [
        ("2026-11-24T21:35:00", True),  # 25 minutes early: within the 30-minute grace
        ("2026-11-24T21:25:00", False),
        ("2026-11-24T23:59:00", True),
        ("2026-11-25T03:00:00", True),  # after midnight, same shift
        ("2026-11-25T06:25:00", True),  # within grace after the end
        ("2026-11-25T07:00:00", False),
        ("2026-11-26T12:00:00", True),  # the next shift
    ],
)
def test_rostered_on_duty_across_midnight(view: View, at: str, on_duty: bool) -> None:
    """A 22:00-06:00 shift covers the night across midnight, with the configured grace."""
    hit = view(at, user=JANE).match("rostered_on_duty")
    assert (hit is not None) is on_duty
    if hit is not None:
        assert hit.kind == "roster"


def test_roster_evidence_names_the_shift(view: View) -> None:
    """Roster evidence gives the shift in UTC and the export line."""
    hit = view("2026-11-25T03:00:00", user=JANE).match("rostered_on_duty")
    assert hit is not None
    assert hit.entry == {
        "staff_id": "MP012345",
        "start": "2026-11-24T22:00:00.000Z",
        "end": "2026-11-25T06:00:00.000Z",
        "line": 2,
    }


def test_subject_in_same_unit_case(view: View) -> None:
    """A colleague in the user's unit assigned to the subject's case explains team work."""
    v = view(user=JOSE, pid="P-1002")  # Jane (CID North, like José) has CR/2026/001 linking P-1002
    assert v.match("assigned_to_linked_case") is None
    hit = v.match("subject_in_same_unit_case")
    assert hit is not None
    assert "MP012345 Jane SMITH of the user's unit CID North" in hit.summary
    assert view(user=SEAN, pid="P-1002").match("subject_in_same_unit_case") is None


def test_every_value_and_match_answers_for_an_empty_event(view: View) -> None:
    """Every documented name is answerable, and an event with no fields matches nothing."""
    v = view()
    for name in VALUES:
        v.value(name)
    assert all(v.match(name) is None for name in MATCHES)
    with pytest.raises(KeyError, match="unknown reference value"):
        v.value("user.shoe_size")
    with pytest.raises(KeyError, match="unknown reference match"):
        v.match("subject_is_famous")


def test_answers_are_memoised_per_view(view: View) -> None:
    """Asking twice returns the very same evidence object."""
    v = view(user=JANE, pid="P-1002")
    assert v.match("subject_is_staff") is v.match("subject_is_staff")
