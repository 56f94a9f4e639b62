"""Arrival order: suppression covers [alert, alert + duration) only, and the engine's reorder buffer
makes every rule kind give the same alerts whatever the arrival order within the lateness bound."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditwatch.checkpoint import Checkpoint
from auditwatch.detection import DetectionEngine, RuleSet
from auditwatch.detection.testing import BASE_TIME, alert_section
from auditwatch.detection.testing import make_event as event
from auditwatch.model import AccessEvent, Alert
from auditwatch.reference.snapshot import empty_reference

Make = Callable[..., RuleSet]

SUPPRESSED = """\
condition: event.action == person_view
suppress: {by: [user.id], for: 1h}
"""


def view(
    n: int, at: float, user: str = "MP000001", subject: str | None = None, kind: str = "person"
) -> AccessEvent:
    return event(
        n,
        at,
        user__id=user,
        event__action="person_view",
        auditwatch__subject__person_id=subject or f"P{n}",
        auditwatch__record__type=kind,
    )


def at(text: str) -> float:
    """Seconds after BASE_TIME of a UTC time."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() - BASE_TIME


def anchors(alerts: list[Alert]) -> list[str]:
    return [alert_section(a)["evidence"][0]["event_id"] for a in alerts]


# -- suppression ----------------------------------------------------------------------------------


def test_a_suppression_does_not_silence_an_earlier_event_that_arrives_later(rule: Make) -> None:
    """The issue's case: 10-27 10:50 alerts, then 10-24 11:45 arrives; in time order both alert,
    so they must in this order too (the later alert's suppression starts at 10-27 10:50)."""
    rules = rule(SUPPRESSED)
    late = [view(1, at("2026-10-27T10:50:00")), view(2, at("2026-10-24T11:45:00"))]
    assert anchors(DetectionEngine(rules, empty_reference()).process(late)) == ["ev1", "ev2"]
    in_order = DetectionEngine(rules, empty_reference()).process(late[::-1])
    assert sorted(a.id for a in in_order) == sorted(
        a.id for a in DetectionEngine(rules, empty_reference()).process(late)
    )


def test_a_key_with_two_suppression_intervals_silences_both_and_restores_them(rule: Make) -> None:
    """After the out-of-order alert the key holds two intervals; each silences its own hour, and a
    snapshot keeps both."""
    rules = rule(SUPPRESSED)
    engine = DetectionEngine(rules, empty_reference())
    assert len(engine.process([view(1, 100_000), view(2, 0)])) == 2
    restored = DetectionEngine(rules, empty_reference())
    restored.restore(engine.snapshot())
    for e in (engine, restored):
        assert e.process([view(3, 1800), view(4, 100_000 + 1800)]) == []
        assert anchors(e.process([view(5, 3600)])) == ["ev5"]  # the earlier interval has lapsed


def test_suppression_starts_at_the_alert_not_before_it(rule: Make) -> None:
    """An event one second before the alert that set the suppression is not silenced by it."""
    engine = DetectionEngine(rule(SUPPRESSED), empty_reference())
    assert anchors(engine.process([view(1, 3600)])) == ["ev1"]
    assert anchors(engine.process([view(2, 3599)])) == ["ev2"]


# -- the reorder buffer ----------------------------------------------------------------------------


def test_held_events_are_detected_in_time_order_once_the_watermark_passes(rule: Make) -> None:
    """With lateness 1h, the later event waits; the earlier one arriving next alerts first and
    suppresses it, exactly as in time order. Without the buffer both alert."""
    rules = rule(SUPPRESSED)
    arrival = [view(1, 1800), view(2, 0)]
    assert len(DetectionEngine(rules, empty_reference()).process(arrival)) == 2
    engine = DetectionEngine(rules, empty_reference(), lateness=3600)
    assert engine.process(arrival[:1]) == []
    assert engine.process(arrival[1:]) == []
    assert engine.held == 2
    assert anchors(engine.process([view(3, 5401)])) == ["ev2"]  # watermark 1801: ev2, ev1 released
    assert engine.held == 1
    assert anchors(engine.flush()) == ["ev3"]
    assert engine.held == 0


def test_an_event_later_than_the_bound_is_detected_at_once_and_counted(rule: Make) -> None:
    engine = DetectionEngine(rule(SUPPRESSED), empty_reference(), lateness=60)
    assert anchors(engine.process([view(1, 1000), view(2, 5000)])) == ["ev1"]
    assert anchors(engine.process([view(3, 10)])) == ["ev3"]
    assert engine.stats["late"] == 1


def test_the_wall_clock_releases_held_events_on_a_quiet_system(rule: Make) -> None:
    """With a clock, an event is held at most `lateness` seconds: by wall time past its event time,
    or after waiting that long (a source whose clock runs ahead)."""
    now = [BASE_TIME + 100.0]
    engine = DetectionEngine(rule(SUPPRESSED), empty_reference(), lateness=0.5, clock=lambda: now[0])
    assert engine.process([view(1, 100.0)]) == []
    assert engine.next_release() == pytest.approx(0.5)
    now[0] += 0.4
    assert engine.tick() == []
    now[0] += 0.2
    assert anchors(engine.tick()) == ["ev1"]
    assert engine.next_release() is None
    assert engine.process([view(2, 100_000.0, user="MP000002")]) == []  # stamped a day ahead
    now[0] += 0.3
    assert engine.tick() == []
    now[0] += 0.3
    assert anchors(engine.tick()) == ["ev2"]


def test_an_event_read_long_after_it_happened_is_not_held(rule: Make) -> None:
    now = BASE_TIME + 86400.0
    engine = DetectionEngine(rule(SUPPRESSED), empty_reference(), lateness=0.5, clock=lambda: now)
    assert anchors(engine.process([view(1, 0)])) == ["ev1"]


def test_events_wait_for_a_source_with_unread_data_that_is_behind(rule: Make) -> None:
    """Catching up (the wall clock is far past every event), an event is still held while a source
    with unread data has been read only up to an earlier time (`read_to`)."""
    now = BASE_TIME + 10 * 86400.0
    engine = DetectionEngine(rule(SUPPRESSED), empty_reference(), lateness=1, clock=lambda: now)
    assert engine.process([view(2, 1800)], read_to=float("-inf")) == []  # the other source: no time yet
    assert engine.process([view(1, 0, user="MP000002")], read_to=BASE_TIME) == []
    assert engine.held == 2
    assert anchors(engine.process([], read_to=BASE_TIME + 1000)) == ["ev1"]
    assert anchors(engine.tick(read_to=float("inf"))) == ["ev2"]


def test_the_buffer_holds_at_most_max_held_events_releasing_the_oldest(rule: Make) -> None:
    """A backlog whose lines share one time (`read_to` never passes it) is not held whole: past
    `max_held` the oldest go to detection, in (time, id) order, counted in stats["forced"]."""
    engine = DetectionEngine(rule(SUPPRESSED), empty_reference(), max_held=3)
    read_to = BASE_TIME + 60
    alerts = engine.process([view(n, 60, user=f"MP{n:06d}") for n in range(1, 6)], read_to=read_to)
    assert anchors(alerts) == ["ev1", "ev2"]
    assert engine.held == 3
    assert engine.stats["forced"] == 2
    assert anchors(engine.process([view(6, 60, user="MP000006")], read_to=read_to)) == ["ev3"]
    assert engine.held == 3
    assert anchors(engine.flush()) == ["ev4", "ev5", "ev6"]
    assert engine.stats["forced"] == 3
    unbounded = DetectionEngine(rule(SUPPRESSED), empty_reference())
    assert unbounded.process([view(n, 60, user=f"MP{n:06d}") for n in range(1, 6)], read_to=read_to) == []
    assert unbounded.held == 5


def test_held_events_survive_a_snapshot_exactly(rule: Make) -> None:
    """Events read but not yet detected are in the snapshot: a restored engine raises the same
    alerts as one that never stopped, with evidence from the held events' own lines."""
    rules = rule(SUPPRESSED)
    events = [view(2, 1800), view(1, 0), view(3, 7200), view(4, 9000)]
    whole = DetectionEngine(rules, empty_reference(), lateness=3600)
    expected = whole.process(events) + whole.flush()
    first = DetectionEngine(rules, empty_reference(), lateness=3600)
    assert first.process(events[:2]) == []
    second = DetectionEngine(rules, empty_reference(), lateness=3600)
    second.restore(first.snapshot())
    assert second.held == 2
    resumed = second.process(events[2:]) + second.flush()
    assert [a.id for a in resumed] == [a.id for a in expected]
    assert [a.fields for a in resumed] == [a.fields for a in expected]
    assert anchors(resumed) == ["ev1", "ev3"]


# -- the property: same alerts for any arrival order within the bound -------------------------------

HOUR, DAY = 3600, 86400

KINDS: dict[str, tuple[str, int, int]] = {  # rule body, event-time span of the events, lateness
    "event+suppress": (SUPPRESSED, 4 * HOUR, 30 * 60),
    "threshold-distinct": (
        "kind: threshold\ncondition: event.action == person_view\ngroup_by: [user.id]\n"
        "distinct: auditwatch.subject.person_id\nthreshold: 3\nwindow: 10m\n"
        "suppress: {by: [user.id], for: 15m}\n",
        HOUR,
        5 * 60,
    ),
    "threshold-count": (
        "kind: threshold\ncondition: event.action == person_view\n"
        "group_by: [auditwatch.subject.person_id]\nthreshold: 3\nwindow: 10m\n",
        HOUR,
        5 * 60,
    ),
    "repeat": (
        "kind: repeat\ncondition: event.action == person_view\n"
        "group_by: [user.id, auditwatch.subject.person_id]\ndays: 2\nwindow: 3d\n"
        "suppress: {by: [user.id], for: 2d}\n",
        8 * DAY,
        DAY,
    ),
    "first_seen": (
        "kind: first_seen\ncondition: event.action == person_view\n"
        "group_by: [user.id, auditwatch.subject.person_id]\nlearning: 1h\n",
        DAY,
        12 * HOUR,
    ),
}


@st.composite
def arrivals(draw: st.DrawFn, span: int, lateness: int) -> tuple[list[AccessEvent], list[list[AccessEvent]]]:
    """Events, and the same events delivered in batches, each at most `lateness` older than the newest
    event delivered before it (arrival = event time + a delay below the bound)."""
    n = draw(st.integers(1, 40))
    events = [
        view(
            i,
            draw(st.integers(0, span)),
            user=draw(st.sampled_from(["U1", "U2"])),
            subject=draw(st.sampled_from(["S1", "S2", "S3", "S4"])),
            kind=draw(st.sampled_from(["person", "vehicle", "firearm"])),
        )
        for i in range(n)
    ]
    delays = [draw(st.integers(0, lateness - 1)) for _ in events]
    tie = draw(st.permutations(range(n)))
    order = sorted(range(n), key=lambda i: (events[i].timestamp + delays[i], tie[i]))
    shuffled = [events[i] for i in order]
    batches: list[list[AccessEvent]] = []
    while shuffled:
        size = draw(st.integers(1, len(shuffled)))
        batches.append(shuffled[:size])
        shuffled = shuffled[size:]
    return events, batches


@pytest.mark.parametrize("kind", list(KINDS))
def test_any_arrival_order_within_the_lateness_gives_the_same_alerts(rule: Make, kind: str) -> None:
    """For every rule kind: events delivered shuffled within the bound, in random batches, with a
    snapshot/restore at a random point, raise exactly the alerts of the events detected in time
    order: the same ids in the same order (and, without a restore, the same documents)."""
    body, span, lateness = KINDS[kind]
    rules = rule(body)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(case=arrivals(span, lateness), restart=st.integers(0, 40))
    def check(case: tuple[list[AccessEvent], list[list[AccessEvent]]], restart: int) -> None:
        events, batches = case
        ordered = sorted(events, key=lambda e: (e.timestamp, e.id))
        expected = DetectionEngine(rules, empty_reference()).process(ordered)
        engine = DetectionEngine(rules, empty_reference(), lateness=lateness)
        got: list[Alert] = []
        for index, batch in enumerate(batches):
            if index == restart:
                snapshot = engine.snapshot()
                engine = DetectionEngine(rules, empty_reference(), lateness=lateness)
                engine.restore(snapshot)
            got += engine.process(batch)
        got += engine.flush()
        assert [a.id for a in got] == [a.id for a in expected]
        if restart >= len(batches):  # (restored window evidence is compact: no raw line)
            assert [a.fields for a in got] == [a.fields for a in expected]
        assert engine.stats["late"] == 0
        unbuffered = DetectionEngine(rules, empty_reference())
        as_arrived = [a.id for batch in batches for a in unbuffered.process(batch)]
        fired.append(len(expected))
        differs.append(sorted(as_arrived) != sorted(a.id for a in expected))

    fired: list[int] = []
    differs: list[bool] = []
    check()
    # the generated cases must alert, and arrival order must matter without the buffer
    assert sum(1 for n in fired if n > 0) >= 30
    assert sum(differs) >= 5


def test_held_events_survive_the_row_checkpoint_exactly(rule: Make, tmp_path: Path) -> None:
    """The daemon's checkpoint (deltas committed as rows in SQLite) keeps the reorder buffer: an
    engine restored from it raises what one that never stopped raises."""
    rules = rule(SUPPRESSED)
    events = [view(2, 1800), view(1, 0), view(3, 7200), view(4, 9000)]
    whole = DetectionEngine(rules, empty_reference(), lateness=3600)
    expected = whole.process(events) + whole.flush()
    cp = Checkpoint(tmp_path / "cp.sqlite")
    try:
        first = DetectionEngine(rules, empty_reference(), lateness=3600)
        assert first.process(events[:2]) == []
        cp.commit({"f": 2}, delta=first.state_delta())
        second = DetectionEngine(rules, empty_reference(), lateness=3600)
        assert second.restore_rows(cp.rule_state()) is True
    finally:
        cp.close()
    assert second.held == 2
    resumed = second.process(events[2:]) + second.flush()
    assert [a.id for a in resumed] == [a.id for a in expected]
