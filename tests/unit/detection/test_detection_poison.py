"""No poison event: detection never raises on an event a parser let through, and goes on after it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from auditwatch.detection import DetectionEngine, DetectionFailure, RuleSet
from auditwatch.detection.context import EvalContext, LocalClock
from auditwatch.detection.testing import BASE_TIME, make_event
from auditwatch.model import AccessEvent, RawLine
from auditwatch.parsing import CompiledParser
from auditwatch.pipeline import Pipeline
from auditwatch.reference.snapshot import empty_reference
from auditwatch.sources.config import InputConfig

Make = Callable[..., RuleSet]

YEAR_0001 = -62_135_596_800.0  # 0001-01-01T00:00:00Z
YEAR_9999 = 253_402_300_799.0  # 9999-12-31T23:59:59Z
EXTREMES = [YEAR_0001, YEAR_9999, -1e20, 1e20, float("inf"), float("-inf"), float("nan")]

REPEAT_AND_HOURS = """\
kind: repeat
condition: event.action == person_view and (hour(Pacific/Kiritimati) >= 0 or weekday(America/Adak) == mon)
group_by: [user.id]
days: 2
window: 5d
timezone: Pacific/Kiritimati
"""


def _at(n: int, ts: float) -> AccessEvent:
    ev = make_event(n, 0, user__id="MP000001", event__action="person_view")
    return ev._replace(timestamp=ts)


@pytest.mark.parametrize("ts", EXTREMES)
def test_local_time_helpers_never_raise_on_any_time(ts: float) -> None:
    """hour, day, weekday (zones either side of UTC) and the reference's local day answer any float."""
    for zone in ("Pacific/Kiritimati", "America/Adak", "Europe/London"):
        clock = LocalClock(zone)
        assert 0 <= clock.hour(ts) <= 23
        assert isinstance(clock.day(ts), int)
        assert clock.weekday(ts) in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    assert len(empty_reference().local_day(ts)) == 10


@pytest.mark.parametrize("ts", EXTREMES)
def test_an_event_outside_the_evaluable_time_range_is_reported_and_detection_goes_on(
    rule: Make, ts: float
) -> None:
    """A year-0001/9999 (or non-finite) event is a failure, not an exception; the next events still alert."""
    engine = DetectionEngine(rule(REPEAT_AND_HOURS), empty_reference())
    failures: list[DetectionFailure] = []
    alerts = engine.process([_at(1, BASE_TIME), _at(2, ts), _at(3, BASE_TIME + 86400)], failures)
    assert [f.event.id for f in failures] == ["ev2"]
    assert failures[0].index is False
    assert "outside the range detection can evaluate" in failures[0].reason
    assert len(alerts) == 1  # days 1 and 2 of the good events
    # the poison event did not move the watermark: a later snapshot restores and sweeps normally
    restored = DetectionEngine(rule(REPEAT_AND_HOURS), empty_reference())
    restored.restore(engine.snapshot())
    assert restored.process([_at(4, BASE_TIME + 2 * 86400)]) == []


def test_an_unexpected_error_in_a_rule_fails_that_event_only_with_a_traceback_summary(rule: Make) -> None:
    """A rule that raises on one value: that event is reported (still indexable), the others alert."""
    rules = rule("kind: event\ncondition: event.action == person_view\n")
    [base] = rules.rules

    def condition(c: EvalContext) -> bool:
        if c.f.get("user.id") == "POISON":
            raise ZeroDivisionError("a bug in some rule")
        return True

    broken = RuleSet((dataclasses.replace(base, condition=condition, residual=condition),), rules.lists)
    engine = DetectionEngine(broken, empty_reference())
    events = [
        make_event(1, 0, user__id="MP1", event__action="person_view"),
        make_event(2, 1, user__id="POISON", event__action="person_view"),
        make_event(3, 2, user__id="MP3", event__action="person_view"),
    ]
    failures: list[DetectionFailure] = []
    alerts = engine.process(events, failures)
    assert len(alerts) == 2
    [failure] = failures
    assert failure.event.id == "ev2"
    assert failure.index is True
    assert failure.reason.startswith("detection failed: ZeroDivisionError: a bug in some rule (at ")
    assert "test_detection_poison.py:" in failure.reason
    assert "in condition" in failure.reason
    assert engine.stats["failed"] == 1
    assert len(DetectionEngine(broken, empty_reference()).process(events)) == 2  # no list: logged only


class _FixedParser:
    """Parses every line to an event at a time taken from the line (`<seconds>`)."""

    def parse_batch(self, raws: list[RawLine], ingested: str) -> tuple[list[AccessEvent], list[object]]:
        events = []
        for raw in raws:
            ts = float(raw.data)
            fields = {"user.id": "MP000001", "event.action": "person_view", "auditwatch.parser": "fixed"}
            events.append(AccessEvent(f"id{raw.offset}", ts, fields, raw))
        return events, []


def test_pipeline_dead_letters_an_unevaluable_event_with_stage_detect_and_keeps_the_rest(rule: Make) -> None:
    """Out-of-range times become dead letters (stage "detect", parser named) and leave the events list."""
    engine = DetectionEngine(rule(REPEAT_AND_HOURS), empty_reference())
    spec = InputConfig(name="in", paths=("x",), exclude=(), parser="fixed")
    parser: CompiledParser = _FixedParser()  # type: ignore[assignment]
    pipeline = Pipeline([spec], {"fixed": parser}, engine)
    raws = [
        RawLine("in", "/l", "k", i * 10, i * 10 + 9, repr(ts).encode(), 9)
        for i, ts in enumerate([BASE_TIME, YEAR_0001, YEAR_9999, BASE_TIME + 86400])
    ]
    done = pipeline.process(raws, now=BASE_TIME)
    assert [e.raw.offset for e in done.events] == [0, 30]
    assert sorted(d.raw.offset for d in done.dead) == [10, 20]
    assert {d.stage for d in done.dead} == {"detect"}
    assert {d.parser for d in done.dead} == {"fixed"}
    assert len(done.alerts) == 1
