"""The shipped relationship rules on a force whose HR export carries no person ids.

Audit lines carry only the records system's person id; the person table (upper-cased, ASCII-folded
names, unspaced postcodes) ties it to HR, the watchlist and the integrity register by name and
date of birth. Each rule must fire through the production engine, and say how the subject matched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auditwatch.detection import DetectionEngine, RuleSet, load_ruleset
from auditwatch.detection.casetest import reference_from_rows
from auditwatch.detection.testing import alert_section, make_event
from auditwatch.reference import ReferenceSnapshot

REPO = Path(__file__).resolve().parents[3]

ROWS: dict[str, list[dict[str, Any]]] = {
    "staff": [  # no person ids: HR knows nothing of the records system
        {
            "staff_id": "MP000101",
            "surname": "Ó Súilleabháin",
            "forenames": "Seán",
            "dob": "1984-05-06",
            "postcode": "AB1 2CD",
            "address": "12 Mill Lane, Ashford",
            "unit": "Response",
            "status": "active",
        },
        {
            "staff_id": "MP000202",
            "surname": "Nørgaard",
            "forenames": "Zoë",
            "dob": "1979-12-01",
            "unit": "Custody",
            "status": "active",
        },
    ],
    "persons": [
        {
            "person_id": "N-1",
            "surname": "O SUILLEABHAIN",
            "forenames": "SEAN",
            "dob": "1984-05-06",
            "postcode": "ab12cd",
            "address": "12 MILL LANE ASHFORD",
        },
        {"person_id": "N-2", "surname": "NORGAARD", "forenames": "ZOE", "dob": "1979-12-01"},
        {"person_id": "N-3", "surname": "HALE", "forenames": "RHIANNON", "dob": "1975-05-05"},
        {
            "person_id": "N-4",
            "surname": "PATEL",
            "forenames": "RAJ",
            "dob": "1970-01-01",
            "postcode": "AB12CD",
            "address": "14 MILL LANE ASHFORD",
        },
        {"person_id": "N-5", "surname": "KOWALCZYK", "forenames": "LUCJA", "dob": "1992-06-15"},
        {"person_id": "N-6", "surname": "KOWALCZYK", "forenames": "LUCJA", "dob": "1970-01-01"},
    ],
    "watchlist": [
        {"name": "HALE, Rhiannon", "dob": "1975-05-05", "category": "politician", "added_on": "2025-12-01"}
    ],
    "associates": [
        {
            "staff_id": "MP000101",
            "surname": "Kowalczyk",
            "forenames": "Łucja",
            "dob": "1992-06-15",
            "relationship": "partner",
            "declared_on": "2025-01-01",
        }
    ],
    "surnames": [{"surname": "Ó Súilleabháin", "count": 15}, {"surname": "Smith", "count": 546000}],
}


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_ruleset(REPO / "rules")


@pytest.fixture(scope="module")
def reference() -> ReferenceSnapshot:
    return reference_from_rows(ROWS)


def _alerts(rules: RuleSet, reference: ReferenceSnapshot, user: str, pid: str) -> dict[str, Any]:
    engine = DetectionEngine(rules, reference)
    event = make_event(1, user__id=user, event__action="view", auditwatch__subject__person_id=pid)
    return {a.rule_id: alert_section(a) for a in engine.process([event])}


@pytest.mark.parametrize(
    "case",
    [
        ("colleague-lookup", "MP000101", "N-2", True),
        ("self-lookup", "MP000101", "N-1", True),
        ("vip-watchlist", "MP000202", "N-3", True),
        ("declared-associate", "MP000101", "N-5", True),
        ("neighbour-lookup", "MP000101", "N-4", False),
    ],
)
def test_relationship_rules_fire_on_person_id_only_events(
    rules: RuleSet, reference: ReferenceSnapshot, case: tuple[str, str, str, bool]
) -> None:
    """Person id only, HR without person ids: the rule meant for the case fires, evidence says how."""
    rule_id, user, pid, via = case
    alerts = _alerts(rules, reference, user, pid)
    assert rule_id in alerts, sorted(alerts)
    evidence = [e for e in alerts[rule_id]["matches"] if e.get("kind") in ("staff", "watchlist", "associate")]
    assert evidence, alerts[rule_id]["matches"]
    if via:
        assert evidence[0]["entry"]["matched_by"] == "name_dob"
        assert evidence[0]["entry"]["via"]["person_id"] == pid
    else:  # the neighbour: the postcode came from the person table
        assert f"(from person {pid} in persons.jsonl)" in evidence[0]["summary"]


def test_family_surname_fires_on_a_person_id_with_the_person_tables_surname(
    rules: RuleSet, reference: ReferenceSnapshot
) -> None:
    """A rare surname known only from the person table (upper-case, no accents) is the user's."""
    engine = DetectionEngine(
        rules,
        reference_from_rows(
            {
                **ROWS,
                "persons": [
                    *ROWS["persons"],
                    {
                        "person_id": "N-9",
                        "surname": "O SUILLEABHAIN",
                        "forenames": "PADRAIG",
                        "dob": "1950-01-01",
                    },
                ],
            }
        ),
    )
    event = make_event(1, user__id="MP000101", event__action="view", auditwatch__subject__person_id="N-9")
    assert "family-surname" in {a.rule_id for a in engine.process([event])}


def test_a_namesake_of_a_declared_associate_raises_no_associate_alert(
    rules: RuleSet, reference: ReferenceSnapshot
) -> None:
    """Same name as the declared partner, another date of birth: no declared-associate alert."""
    assert "declared-associate" not in _alerts(rules, reference, "MP000101", "N-6")
