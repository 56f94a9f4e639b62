"""DOMAIN.md's benign look-alikes: each risk signal comes with the explanation that accounts for it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditwatch.reference import EventView, ReferenceConfig, load_reference

JANE, SEAN, JOSE, ZOE = "MP012345", "MP012346", "MP012347", "MP012348"
Make = Callable[..., EventView]


@pytest.fixture
def linked(exports: Path, cfg: ReferenceConfig) -> Make:
    """The sample exports plus links putting a VIP and a declared associate on assigned cases."""
    with (exports / "case_links.csv").open("a") as links:
        links.write("CR/2026/003,P-2001,,Witness\nCR/2026/002,P-3001,,Witness\n")
    snap, _ = load_reference(cfg)

    def make(at: str, **fields: object) -> EventView:
        when = datetime.fromisoformat(at).replace(tzinfo=UTC).timestamp()
        return EventView(snap, fields, when)

    return make


@pytest.mark.parametrize(
    ("scenario", "user", "fields", "at", "signal", "explanation"),
    [
        (
            "colleague is a witness on the user's case",
            JANE,
            {"auditwatch.subject.person_id": "P-1002"},
            "2026-11-25T12:00:00",
            "subject_is_staff",
            "assigned_to_linked_case",
        ),
        (
            "VIP is a witness on the user's case",
            ZOE,
            {"auditwatch.subject.person_id": "P-2001"},
            "2026-11-25T12:00:00",
            "subject_on_watchlist",
            "assigned_to_linked_case",
        ),
        (
            "declared associate on an assigned case (still a conflict of interest)",
            SEAN,
            {"auditwatch.subject.person_id": "P-3001"},
            "2026-10-15T12:00:00",
            "subject_is_declared_associate",
            "assigned_to_linked_case",
        ),
        (
            "same surname, but the subject is on the user's case",
            JANE,
            {"auditwatch.subject.person_id": "P-4001", "auditwatch.subject.surname": "Smith"},
            "2026-11-25T12:00:00",
            "subject_same_surname",
            "assigned_to_linked_case",
        ),
        (
            "neighbour on the user's case",
            JANE,
            {"auditwatch.subject.person_id": "P-4001", "auditwatch.subject.postcode": "SW1A 1AA"},
            "2026-11-25T12:00:00",
            "subject_same_postcode",
            "assigned_to_linked_case",
        ),
        (
            "access in the night on a rostered night shift",
            JANE,
            {"auditwatch.subject.person_id": "P-4001"},
            "2026-11-25T02:00:00",
            None,
            "rostered_on_duty",
        ),
    ],
)
def test_signal_is_explained(  # noqa: PLR0917 (parametrised)
    linked: Make,
    scenario: str,
    user: str,
    fields: dict[str, str],
    at: str,
    signal: str | None,
    explanation: str,
) -> None:
    """The risk signal fires and so does the explanation a reviewer would accept."""
    v = linked(at, **{"user.id": user, **fields})
    if signal is not None:
        assert v.match(signal) is not None, scenario
    assert v.match(explanation) is not None, scenario


@pytest.mark.parametrize(
    ("scenario", "user", "role", "signal", "fields"),
    [
        (
            "vetting/PSD officer checks a colleague",
            JOSE,
            "psd",
            "subject_is_staff",
            {"auditwatch.subject.person_id": "P-1002"},
        ),
        (
            "press office looks up a celebrity",
            ZOE,
            "press_office",
            "subject_on_watchlist",
            {"auditwatch.subject.person_id": "P-2003"},
        ),
        (
            "bulk-check team looks up an unlinked person",
            JANE,
            "intelligence_bulk",
            None,
            {"auditwatch.subject.person_id": "P-9999"},
        ),
    ],
)
def test_role_explains_the_access(  # noqa: PLR0917 (parametrised)
    linked: Make, scenario: str, user: str, role: str, signal: str | None, fields: dict[str, str]
) -> None:
    """Broad-remit roles are exposed as user.roles so rules can explain the access by role."""
    v = linked("2026-11-19T12:00:00", **{"user.id": user, **fields})
    roles = v.value("user.roles")
    assert isinstance(roles, tuple)
    assert role in roles, scenario
    if signal is not None:
        assert v.match(signal) is not None, scenario
    assert v.match("assigned_to_linked_case") is None, scenario


def test_common_surname_weighs_less_than_a_rare_one(linked: Make) -> None:
    """Same-surname hits carry a rarity: Smith counts for little, Featherstonehaugh for a lot."""
    smith = linked("2026-11-25T12:00:00", **{"user.id": JANE, "auditwatch.subject.surname": "Smith"})
    rare = linked(
        "2026-11-25T12:00:00", **{"user.id": ZOE, "auditwatch.subject.surname": "Featherstonehaugh"}
    )
    assert smith.match("subject_same_surname") is not None
    assert rare.match("subject_same_surname") is not None
    common_rarity, rare_rarity = smith.value("subject.surname_rarity"), rare.value("subject.surname_rarity")
    assert isinstance(common_rarity, float)
    assert isinstance(rare_rarity, float)
    assert common_rarity < 0.1
    assert rare_rarity > 0.9


def test_restriction_effective_later_is_not_a_restricted_access(linked: Make) -> None:
    """A restriction recorded in HR but effective after the access does not count against it."""
    before = linked("2026-11-25T12:00:00", **{"user.id": ZOE})
    after = linked("2026-12-02T12:00:00", **{"user.id": ZOE})
    assert before.match("user_restricted") is None
    assert after.match("user_restricted") is not None
