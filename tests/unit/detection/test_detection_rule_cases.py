"""Every inline case of every shipped rule as its own pytest item, `rule-id::case name`, so a
failure names the rule and the case (`pytest -k 'after-hours-access'` runs one rule's cases)."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditwatch.detection import load_ruleset, run_rule_tests
from auditwatch.detection.casetest import CaseResult

REPO = Path(__file__).resolve().parents[3]
RULES = load_ruleset(REPO / "rules")
CASES = [
    (rule.id, case.name, case.should_fire)
    for rule in RULES
    if rule.status != "deprecated"
    for case in rule.tests
]


@pytest.fixture(scope="module")
def results() -> dict[tuple[str, str, bool], CaseResult]:
    return {(r.rule_id, r.case, r.should_fire): r for r in run_rule_tests(RULES)}


def test_every_case_has_a_unique_id() -> None:
    assert len(CASES) >= 60  # the shipped pack's cases, not an empty list
    assert len(set(CASES)) == len(CASES)


@pytest.mark.parametrize(
    ("rule_id", "case", "should_fire"), CASES, ids=[f"{rule_id}::{case}" for rule_id, case, _ in CASES]
)
def test_rule_case(
    results: dict[tuple[str, str, bool], CaseResult], rule_id: str, case: str, should_fire: bool
) -> None:
    result = results[(rule_id, case, should_fire)]
    assert result.passed, str(result)
