"""`kind: event`: every matching, unexplained event alerts (subject to suppression)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from auditwatch.detection.context import EvalContext
from auditwatch.detection.kinds.base import Explained, Trigger
from auditwatch.detection.rule import Rule
from auditwatch.detection.suppress import key_of


class EventKind:
    def __init__(self, rule: Rule) -> None:
        self.getters = rule.group_getters
        self.dirty = False
        self.next_sweep = float("inf")  # nothing to sweep
        self.changed: set[tuple[object, ...]] = set()  # stays empty: no state

    def observe(self, c: EvalContext, explained: Explained) -> Trigger | None:
        if explained(c):
            return None
        key = key_of(self.getters, c)
        return Trigger(key, c.event.id, (c.event,), 1, c.ts, c.ts)

    def sweep(self, now: float) -> None:
        return None

    def dump(self) -> Any:
        return {}

    def load(self, data: Any) -> None:
        return None

    def keys(self) -> Iterable[tuple[object, ...]]:
        return ()

    def row(self, key: tuple[object, ...]) -> Any:
        return None

    def meta(self) -> Any:
        return None

    def load_rows(self, meta: Any, rows: Iterable[tuple[tuple[object, ...], Any]]) -> None:
        return None
