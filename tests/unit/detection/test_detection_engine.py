"""The engine and rule kinds: windows, late events, suppression, severity, explanations, state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from auditwatch.detection import DetectionEngine, RuleSet, reference_from_rows
from auditwatch.detection.testing import alert_section
from auditwatch.detection.testing import make_event as event
from auditwatch.model import AccessEvent, Alert
from auditwatch.reference.snapshot import ReferenceSnapshot, empty_reference

Make = Callable[..., RuleSet]

BULK = """\
kind: threshold
condition: event.action == person_view
group_by: [user.id]
distinct: auditwatch.subject.person_id
threshold: 3
window: 10m
"""


def view(n: int, at: float, user: str = "MP000001", subject: str | None = None) -> AccessEvent:
    return event(
        n, at, user__id=user, event__action="person_view", auditwatch__subject__person_id=subject or f"P{n}"
    )


def run(rules: RuleSet, events: list[AccessEvent], reference: ReferenceSnapshot | None = None) -> list[Alert]:
    return DetectionEngine(rules, reference or empty_reference()).process(events)


doc = alert_section


def test_threshold_counts_distinct_values_inside_the_window_edge(rule: Make) -> None:
    """3 distinct subjects within 600 s fire; the same 3 spread over 601 s do not."""
    rules = rule(BULK)
    assert len(run(rules, [view(1, 0), view(2, 300), view(3, 600)])) == 1
    assert run(rules, [view(1, 0), view(2, 300), view(3, 601)]) == []
    assert run(rules, [view(1, 0, subject="P1"), view(2, 1, subject="P1"), view(3, 2, subject="P1")]) == []


def test_threshold_alert_carries_window_and_evidence(rule: Make) -> None:
    """The alert names the window, the count, the distinct count and each contributing event."""
    [alert] = run(rule(BULK), [view(1, 0), view(2, 10, subject="P1"), view(3, 20), view(4, 30)])
    section = doc(alert)
    assert section["window"]["count"] == 4
    assert section["window"]["distinct"] == 3
    assert [e["event_id"] for e in section["evidence"]] == ["ev2", "ev3", "ev4"]  # latest per subject
    assert section["evidence"][0]["original"] == "line 2"
    assert section["evidence"][0]["offset"] == 200


def test_threshold_restarts_after_firing_and_groups_are_separate(rule: Make) -> None:
    """One burst gives one alert; another user's events never count towards the first user's window."""
    rules = rule(BULK)
    events = [view(i, i) for i in range(1, 6)] + [view(10, 7, user="MP000002"), view(11, 8, user="MP000002")]
    assert len(run(rules, events)) == 1
    assert len(run(rules, [view(i, i) for i in range(1, 7)])) == 2


def test_late_events_inside_the_span_count_older_ones_do_not(rule: Make) -> None:
    """An out-of-order event within the window is counted; one older than the window span is not."""
    rules = rule(BULK)
    assert len(run(rules, [view(1, 100), view(2, 300), view(3, 50)])) == 1
    assert run(rules, [view(1, 700), view(2, 800), view(3, 50)]) == []


def test_repeat_needs_distinct_days_within_the_period(rule: Make) -> None:
    """Three calendar days within the period fire once; three looks on one day do not."""
    rules = rule(
        """\
        kind: repeat
        condition: event.action == person_view
        group_by: [user.id, auditwatch.subject.person_id]
        days: 3
        window: 7d
        """
    )
    day = 86400.0
    assert (
        len(run(rules, [view(1, 0, subject="S"), view(2, day, subject="S"), view(3, 2 * day, subject="S")]))
        == 1
    )
    assert run(rules, [view(1, 0, subject="S"), view(2, 60, subject="S"), view(3, 120, subject="S")]) == []
    assert (
        run(rules, [view(1, 0, subject="S"), view(2, 4 * day, subject="S"), view(3, 8 * day, subject="S")])
        == []
    )


def test_first_seen_learns_then_alerts_once(rule: Make) -> None:
    """During learning nothing alerts; afterwards only a never-seen group does, once."""
    rules = rule(
        """\
        kind: first_seen
        condition: exists(auditwatch.record.type)
        group_by: [user.id, auditwatch.record.type]
        learning: 1d
        """
    )

    def rec(n: int, at: float, kind: str) -> AccessEvent:
        return event(n, at, user__id="U", auditwatch__record__type=kind)

    alerts = run(
        rules,
        [
            rec(1, 0, "person"),
            rec(2, 3600, "vehicle"),
            rec(3, 90000, "vehicle"),
            rec(4, 90001, "firearm"),
            rec(5, 90002, "firearm"),
        ],
    )
    assert [doc(a)["evidence"][0]["event_id"] for a in alerts] == ["ev4"]


def test_suppression_is_per_key_for_event_time(rule: Make) -> None:
    """After an alert the same key is quiet for the duration of event time; other keys are not."""
    rules = rule(
        """\
        condition: event.action == person_view
        suppress: {by: [user.id], for: 1h}
        """
    )
    events = [view(1, 0), view(2, 3599), view(3, 10, user="MP000002"), view(4, 3600)]
    assert [doc(a)["evidence"][0]["event_id"] for a in run(rules, events)] == [
        "ev1",
        "ev3",
        "ev4",
    ]


def test_explanations_silence_or_are_listed_with_why_they_failed(rule: Make) -> None:
    """An explained event does not alert; an alert lists every explanation tried and its result."""
    rules = rule(
        """\
        condition: event.action == person_view
        unless:
          - assigned_to_linked_case
          - when: host.name == "VETTING-PC"
            label: used from the vetting unit's terminal
        """
    )
    assert run(rules, [event(1, user__id="U", event__action="person_view", host__name="VETTING-PC")]) == []
    [alert] = run(rules, [event(1, user__id="U", event__action="person_view", host__name="DESK-1")])
    tried = doc(alert)["explanations_tried"]
    assert [(t["name"], t["matched"]) for t in tried] == [
        ("assigned_to_linked_case", False),
        ("condition", False),
    ]
    assert tried[0]["result"] == "no case assignment links this user to this person or record"
    assert tried[1]["label"] == "used from the vetting unit's terminal"


def test_severity_raise_and_downgrade_with_real_reference(rule: Make) -> None:
    """A raise lifts severity and risk; a downgrade explanation lowers it instead of silencing."""
    rules = rule(
        """\
        condition: event.action == person_view and match(subject_on_watchlist)
        unless:
          - when: assigned_to_linked_case
            label: assigned to the case
            downgrade: {severity: low, risk_score: 20}
        severity_raise:
          - when: subject.watchlist_category == "protected_person"
            label: protected person
            severity: critical
            risk_score: 95
        """
    )
    reference = reference_from_rows(
        {
            "staff": [{"staff_id": "MP000001", "surname": "Reid"}],
            "watchlist": [
                {"person_id": "P-1", "surname": "A", "category": "protected_person"},
                {"person_id": "P-2", "surname": "B", "category": "celebrity"},
            ],
            "assignments": [{"staff_id": "MP000001", "case_ref": "CR-2", "from": "2025-01-01"}],
            "case_links": [{"case_ref": "CR-2", "person_id": "P-2"}],
        }
    )
    raised, lowered = run(rules, [view(1, 0, subject="P-1"), view(2, 1, subject="P-2")], reference)
    assert (
        cast(Any, raised.fields)["event"]["severity"],
        cast(Any, raised.fields)["event"]["risk_score"],
    ) == (4, 95)
    assert (
        cast(Any, lowered.fields)["event"]["severity"],
        cast(Any, lowered.fields)["event"]["risk_score"],
    ) == (1, 20)
    match = doc(raised)["matches"][0]
    assert match["name"] == "subject_on_watchlist"
    assert match["source"].endswith("watchlist.jsonl")


def test_snapshot_restore_mid_window_gives_exactly_one_alert(rule: Make) -> None:
    """Stopping mid-window and restoring the snapshot neither loses nor repeats the alert."""
    rules = rule(BULK)
    events = [view(i, i * 10.0) for i in range(1, 5)]
    whole = DetectionEngine(rules, empty_reference()).process(events)
    first = DetectionEngine(rules, empty_reference())
    assert first.process(events[:2]) == []
    second = DetectionEngine(rules, empty_reference())
    second.restore(first.snapshot())
    resumed = second.process(events[2:])
    assert [a.id for a in resumed] == [a.id for a in whole]
    assert len(whole) == 1
    assert second.snapshot() != first.snapshot()


def test_snapshot_is_deterministic_and_restores_suppression(rule: Make) -> None:
    """The same events give byte-identical snapshots; restored suppression still holds."""
    rules = rule("condition: event.action == person_view\nsuppress: {by: [user.id], for: 1d}\n")
    a, b = DetectionEngine(rules, empty_reference()), DetectionEngine(rules, empty_reference())
    assert len(a.process([view(1, 0)])) == len(b.process([view(1, 0)])) == 1
    assert a.snapshot() == b.snapshot()
    c = DetectionEngine(rules, empty_reference())
    c.restore(a.snapshot())
    assert c.process([view(2, 60)]) == []


def test_replace_rules_keeps_state_only_when_the_window_is_unchanged(rule: Make) -> None:
    """A reload with the same window keeps counting; a changed window starts again."""
    engine = DetectionEngine(rule(BULK), empty_reference())
    engine.process([view(1, 0), view(2, 1)])
    engine.replace_rules(
        rule(BULK.replace("event.action == person_view", "event.action in [person_view, x]"))
    )
    assert len(engine.process([view(3, 2)])) == 1
    engine.process([view(4, 3), view(5, 4)])
    engine.replace_rules(rule(BULK.replace("10m", "11m")))
    assert engine.process([view(6, 5)]) == []


def test_alert_ids_are_deterministic_and_distinct(rule: Make) -> None:
    """Replaying the same events yields the same alert ids; different triggers differ."""
    rules = rule("condition: event.action == person_view\n")
    first = [a.id for a in run(rules, [view(1, 0), view(2, 1)])]
    assert first == [a.id for a in run(rules, [view(1, 0), view(2, 1)])]
    assert len(set(first)) == 2
    assert all(len(i) == 27 for i in first)


def test_prefilter_skips_rules_for_other_actions(rule: Make) -> None:
    """A rule whose condition pins event.action is never evaluated for other actions."""
    rules = rule("condition: event.action == person_view and host.name == 'x'\n")
    assert rules.rules[0].prefilter == ("event.action", frozenset({"person_view"}))
    engine = DetectionEngine(rules, empty_reference())
    engine.process([event(1, event__action="search", host__name="x")])
    assert engine._candidates == {"search": ((), None)}
