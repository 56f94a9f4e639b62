"""`kind: threshold`: N events (or N distinct values of a field) per group within a sliding window.

When the count reaches the threshold the rule alerts and the group's window starts again empty, so
one burst gives one alert; `suppress` quietens the group for longer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from auditwatch.detection.context import EvalContext
from auditwatch.detection.evidence import event_id_of
from auditwatch.detection.kinds.base import EVIDENCE_CAP, Explained, Trigger, group_key
from auditwatch.detection.rule import Rule
from auditwatch.detection.state_codec import key_from_json, key_to_json, sorted_by_key
from auditwatch.detection.windows import CountWindow, DistinctWindow


class ThresholdKind:
    def __init__(self, rule: Rule) -> None:
        spec = rule.spec
        assert spec.window is not None
        assert spec.threshold is not None
        self.span = spec.window
        self.threshold = spec.threshold
        self.getters = rule.group_getters
        self.distinct = rule.distinct_getter
        self.groups: dict[tuple[object, ...], CountWindow | DistinctWindow] = {}
        self.late = 0
        self.next_sweep = float("-inf")
        self.dirty = False
        self.changed: set[tuple[object, ...]] = set()

    def _window(self) -> CountWindow | DistinctWindow:
        return CountWindow(self.span) if self.distinct is None else DistinctWindow(self.span)

    def observe(self, c: EvalContext, explained: Explained) -> Trigger | None:
        if explained(c):  # first: most access is explained, and nothing below it changes state
            return None
        key = group_key(self.getters, c)
        if key is None:
            return None
        value: Any = None
        if self.distinct is not None:
            value = self.distinct(c)
            if value is None:
                return None
            if isinstance(value, list):
                value = tuple(value)
        window = self.groups.get(key)
        if window is None:
            window = self.groups[key] = self._window()
        if not window.add(c.ts, value, c.event):
            self.late += 1
            return None
        self.changed.add(key)
        self.dirty = True
        reached = window.count() if self.distinct is None else window.distinct()
        if reached is None or reached < self.threshold:
            return None
        entries = sorted(window.items(), key=lambda e: e[0])
        trigger = Trigger(
            group=key,
            anchor=event_id_of(entries[0][1]),
            evidence=tuple(item for _, item in entries[:EVIDENCE_CAP]),
            total=window.count(),
            start=entries[0][0],
            end=window.latest,
            distinct=window.distinct(),
        )
        window.clear()
        return trigger

    def sweep(self, now: float) -> None:
        if now < self.next_sweep:  # scan once per window span: amortised O(1) per event
            return
        self.next_sweep = now + max(self.span, 60.0)
        horizon = now - self.span
        stale = [k for k, w in self.groups.items() if w.idle_since(horizon)]
        for k in stale:
            del self.groups[k]
        self.changed.update(stale)
        self.dirty = self.dirty or bool(stale)

    def dump(self) -> Any:
        return {"groups": [[key_to_json(k), w.dump()] for k, w in sorted_by_key(self.groups.items())]}

    def load(self, data: Any) -> None:
        self.groups = {}
        for key, state in data["groups"]:
            window = self._window()
            window.load(state)
            self.groups[key_from_json(key)] = window
        self.dirty = True

    def keys(self) -> Iterable[tuple[object, ...]]:
        return self.groups.keys()

    def row(self, key: tuple[object, ...]) -> Any:
        window = self.groups.get(key)
        return None if window is None else window.dump()

    def meta(self) -> Any:
        return None

    def load_rows(self, meta: Any, rows: Iterable[tuple[tuple[object, ...], Any]]) -> None:
        self.groups = {}
        for key, state in rows:
            window = self._window()
            window.load(state)
            self.groups[key] = window
        self.changed.clear()
        self.dirty = True
