"""Alert folding (`folds_into`): a generic alert on an event a specific rule alerted on is recorded on
the specific alert instead of being raised; elsewhere it is raised as usual."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from auditwatch.detection import DetectionEngine, lint_ruleset, load_ruleset
from auditwatch.detection.testing import RULE_HEADER, alert_section
from auditwatch.detection.testing import make_event as event
from auditwatch.model import AccessEvent
from auditwatch.reference.snapshot import empty_reference

SPECIFIC = RULE_HEADER.format(id="specific").replace("medium", "high") + (
    'condition: event.action == view and auditwatch.subject.person_id == "P-STAFF"\n'
)
GENERIC = RULE_HEADER.format(id="generic").replace("medium", "low").replace(
    "did it", "opened an unexplained record"
) + ("condition: event.action == view\nfolds_into: [specific]\n")


def _rules(write_rules: Callable[..., Path], generic: str = GENERIC) -> Path:
    return write_rules({"specific.yml": SPECIFIC, "generic.yml": generic})


def _view(n: int, subject: str) -> AccessEvent:
    return event(
        n, n * 60.0, user__id="MP000001", event__action="view", auditwatch__subject__person_id=subject
    )


def test_generic_alert_on_the_same_event_is_folded_into_the_specific_one(
    write_rules: Callable[..., Path],
) -> None:
    """One event both rules fire on gives one alert (the specific one) carrying the generic under `also`;
    an event only the generic rule fires on still gives a generic alert."""
    engine = DetectionEngine(load_ruleset(_rules(write_rules)), empty_reference())
    alerts = engine.process([_view(1, "P-STAFF"), _view(2, "P-OTHER")])
    assert [a.rule_id for a in alerts] == ["specific", "generic"]
    (also,) = alert_section(alerts[0])["also"]
    assert also["rule_id"] == "generic"
    assert also["reason"] == "MP000001 opened an unexplained record"
    assert also["severity"] == "low"
    assert "also" not in alert_section(alerts[1])
    assert alert_section(alerts[0])["case"]["id"] == alert_section(alerts[1])["case"]["id"]


def test_without_folds_into_both_alerts_are_raised(write_rules: Callable[..., Path]) -> None:
    """The same rules without `folds_into` raise two alerts on the event (folding is the rule's choice)."""
    plain = GENERIC.replace("folds_into: [specific]\n", "")
    engine = DetectionEngine(load_ruleset(_rules(write_rules, plain)), empty_reference())
    alerts = engine.process([_view(1, "P-STAFF")])
    assert sorted(a.rule_id for a in alerts) == ["generic", "specific"]


def test_lint_reports_a_fold_target_that_is_not_a_rule(write_rules: Callable[..., Path]) -> None:
    """`folds_into` naming a rule that does not exist is a lint error naming file and field."""
    rules_dir = _rules(write_rules, GENERIC.replace("[specific]", "[specfic]"))
    problems = [p for p in lint_ruleset(rules_dir) if p.field == "folds_into"]
    assert len(problems) == 1
    assert problems[0].file.endswith("generic.yml")
    assert "no rule 'specfic'" in problems[0].message


def test_the_shipped_unrelated_record_rule_folds_into_the_relationship_rules() -> None:
    """rules/unrelated-record.yml declares the specific rules it folds into, and they all exist."""
    rules = load_ruleset(Path(__file__).resolve().parents[3] / "rules")
    generic = rules.get("unrelated-record")
    assert generic is not None
    assert set(generic.folds_into) == {
        "colleague-lookup",
        "declared-associate",
        "vip-watchlist",
        "self-lookup",
        "neighbour-lookup",
        "family-surname",
    }
    assert all(rules.get(t) is not None for t in generic.folds_into)
