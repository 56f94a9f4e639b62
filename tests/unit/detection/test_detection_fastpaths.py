"""The engine's shortcuts change cost only: residual conditions, cheap-first operands, idle sweeps."""

from __future__ import annotations

import gc
from collections.abc import Callable

import orjson
import pytest

from auditwatch.detection import DetectionEngine, RuleSet
from auditwatch.detection import nodes as n
from auditwatch.detection.analysis import residual
from auditwatch.detection.compile import Scope, compile_condition
from auditwatch.detection.context import EvalContext
from auditwatch.detection.grammar import parse_condition
from auditwatch.detection.testing import make_event as event
from auditwatch.model import AccessEvent
from auditwatch.reference import MATCHES, VALUES
from auditwatch.reference.snapshot import empty_reference

Make = Callable[..., RuleSet]
CONDITIONS = [
    "event.action == person_view",
    "event.action in [person_view, print] and host.name == 'x'",
    "host.name == 'x' and event.action == person_view and not exists(auditwatch.reason.case_ref)",
    "event.action == person_view and (host.name == 'x' or match(subject_is_staff))",
]
EVENTS: list[dict[str, object]] = [
    {"event__action": "person_view", "host__name": "x"},
    {"event__action": "person_view", "host__name": "y", "auditwatch__reason__case_ref": "CR-1"},
    {"event__action": "print", "host__name": "x"},
    {"event__action": ["person_view", "other"], "host__name": "x"},
    {"event__action": "person_view"},
]


@pytest.mark.parametrize("text", CONDITIONS)
def test_residual_agrees_with_the_condition_on_admitted_events(rule: Make, text: str) -> None:
    """On every event the prefilter admits, the residual condition equals the whole condition."""
    compiled = rule(f'condition: "{text}"\n').rules[0]
    assert compiled.prefilter is not None
    field, values = compiled.prefilter
    for i, fields in enumerate(EVENTS):
        c = EvalContext(event(i, 0.0, **fields), empty_reference())
        value = c.f.get(field)
        admitted = any(v in values for v in (value if isinstance(value, list) else [value]))
        if admitted:
            assert compiled.residual(c) == compiled.condition(c), (text, fields)


def test_residual_drops_only_the_prefilter_conjunct() -> None:
    """The prefilter's own conjunct goes; a condition that is only the prefilter leaves nothing."""
    rest = residual(parse_condition("host.name == 'x' and event.action == v"), VALUES)
    assert isinstance(rest, n.Compare)
    assert isinstance(rest.left, n.Field)
    assert rest.left.name == "host.name"
    assert residual(parse_condition("event.action in [a, b]"), VALUES) is None
    plain = parse_condition("exists(user.id)")
    assert residual(plain, VALUES) is plain


def test_cheap_operands_run_before_reference_matches() -> None:
    """`match(...) and field test` tests the field first: a false field test asks the reference nothing."""
    scope = Scope(VALUES, MATCHES, {}, {}, "r1")
    predicate = compile_condition(parse_condition("match(subject_is_staff) and host.name == 'x'"), scope)
    c = EvalContext(event(1, host__name="y", auditwatch__subject__person_id="P1"), empty_reference())
    assert predicate(c) is False
    assert "subject_is_staff" not in c.answers
    c = EvalContext(event(2, host__name="x", auditwatch__subject__person_id="P1"), empty_reference())
    assert predicate(c) is False
    assert c.answers["subject_is_staff"] is False


def test_idle_groups_are_still_swept(rule: Make) -> None:
    """Windows idle for longer than their span leave the state, as before the sweep shortcut."""
    rules = rule(
        """\
        kind: threshold
        condition: event.action == person_view
        distinct: auditwatch.subject.person_id
        threshold: 5
        window: 10m
        """
    )
    engine = DetectionEngine(rules, empty_reference())

    def view(n: int, at: float, user: str) -> AccessEvent:
        return event(n, at, user__id=user, event__action="person_view", auditwatch__subject__person_id="P")

    engine.process([view(1, 0, "A")])
    assert b'"A"' in engine.snapshot()
    engine.process([view(i, 3600 + i * 61, "B") for i in range(2, 6)])
    state = orjson.loads(engine.snapshot())
    groups = state["rules"]["r1"]["kind"]["groups"]
    assert [g[0] for g in groups] == [["B"]]


def test_process_restores_the_collector_state(rule: Make) -> None:
    """The engine leaves the cyclic collector as it was, also on error (the loops pause it around
    a batch: service/tuning.py)."""
    engine = DetectionEngine(rule("condition: event.action == person_view\n"), empty_reference())
    was = gc.isenabled()
    try:
        gc.enable()
        assert len(engine.process([event(1, event__action="person_view")])) == 1
        assert gc.isenabled()
        gc.disable()
        engine.process([event(2, event__action="person_view")])
        assert not gc.isenabled()
        gc.enable()
        with pytest.raises(AttributeError):
            engine.process([None])  # type: ignore[list-item]
        assert gc.isenabled()
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()
