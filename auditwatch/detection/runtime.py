"""One rule as the engine runs it: the compiled rule plus its mutable state (its kind's groups,
its suppressions) and the cached serialisation of that state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from auditwatch.detection.compile import any_of
from auditwatch.detection.context import EvalContext
from auditwatch.detection.kinds import KIND_STATES, KindState
from auditwatch.detection.rule import Rule, WindowSpec
from auditwatch.detection.suppress import Suppressor


class RuleRuntime:
    """A rule plus its mutable state."""

    __slots__ = (
        "cache",
        "condition",
        "explained",
        "full",
        "kind",
        "meta_written",
        "observe",
        "requires",
        "rule",
        "suppressor",
    )

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.requires = rule.requires
        # the engine runs a rule with a prefilter only on events the prefilter admits
        self.condition = rule.residual if rule.prefilter is not None else rule.condition
        self.kind: KindState = KIND_STATES[rule.spec.kind](rule)
        self.suppressor = Suppressor(rule.suppress, rule.suppress_getters) if rule.suppress else None
        self.explained = _explainer(rule)
        self.observe = self.kind.observe
        self.cache: orjson.Fragment | None = None  # serialised state, valid while nothing changed
        self.full = True  # the next delta rewrites this rule's rows whole (new, reloaded, or dropped)
        self.meta_written: bytes | None = None  # the meta row as last put in a delta

    def dump(self) -> orjson.Fragment:
        suppressor = self.suppressor
        if self.cache is None or self.kind.dirty or (suppressor is not None and suppressor.dirty):
            body = {
                "spec": spec_json(self.rule.spec),
                "kind": self.kind.dump(),
                "suppress": suppress_json(self.rule) if suppressor else None,
                "until": suppressor.dump() if suppressor else [],
            }
            self.cache = orjson.Fragment(orjson.dumps(body, option=orjson.OPT_SORT_KEYS))
            self.kind.dirty = False
            if suppressor is not None:
                suppressor.dirty = False
        return self.cache

    def load(self, data: dict[str, Any], same_suppression: bool) -> None:
        self.kind.load(data["kind"])
        if self.suppressor is not None and same_suppression:
            self.suppressor.load(data["until"])


def _explainer(rule: Rule) -> Callable[[EvalContext], bool]:
    return any_of(tuple(e.test for e in rule.unless if e.downgrade_severity is None))


def spec_json(spec: WindowSpec) -> list[Any]:
    """The window definition as stored beside its state: state is kept only while it is equal."""
    return [
        spec.kind,
        list(spec.group_by),
        spec.window,
        spec.threshold,
        spec.distinct,
        spec.days,
        spec.learning,
        spec.timezone,
    ]


def suppress_json(rule: Rule) -> list[Any] | None:
    """The suppression definition as stored beside its state."""
    return None if rule.suppress is None else [list(rule.suppress.by), rule.suppress.duration]
