"""`kind: first_seen`: the first time a group (e.g. user + record type) is seen, after a learning period.

During `learning` (event time from the first matching event the rule sees) groups are remembered
without alerting. An explained first sighting is remembered too, so it is never flagged later.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from auditwatch.detection.context import EvalContext
from auditwatch.detection.kinds.base import Explained, Trigger, group_key
from auditwatch.detection.rule import Rule
from auditwatch.detection.state_codec import key_from_json, key_to_json, sorted_by_key


class FirstSeenKind:
    def __init__(self, rule: Rule) -> None:
        self.learning = rule.spec.learning or 0.0
        self.getters = rule.group_getters
        self.seen: dict[tuple[object, ...], float] = {}
        self.started: float | None = None
        self.dirty = False
        self.next_sweep = float("inf")  # nothing to sweep
        self.changed: set[tuple[object, ...]] = set()

    def observe(self, c: EvalContext, explained: Explained) -> Trigger | None:
        key = group_key(self.getters, c)
        if key is None or key in self.seen:
            return None
        if self.started is None:
            self.started = c.ts
        self.seen[key] = c.ts
        self.changed.add(key)
        self.dirty = True
        if c.ts < self.started + self.learning or explained(c):
            return None
        return Trigger(key, c.event.id, (c.event,), 1, c.ts, c.ts)

    def sweep(self, now: float) -> None:
        return None

    def dump(self) -> Any:
        seen = [[key_to_json(k), ts] for k, ts in sorted_by_key(self.seen.items())]
        return {"started": self.started, "seen": seen}

    def load(self, data: Any) -> None:
        started = data["started"]
        self.started = None if started is None else float(started)
        self.seen = {key_from_json(k): float(ts) for k, ts in data["seen"]}
        self.dirty = True

    def keys(self) -> Iterable[tuple[object, ...]]:
        return self.seen.keys()

    def row(self, key: tuple[object, ...]) -> Any:
        return self.seen.get(key)

    def meta(self) -> Any:
        return {"started": self.started}

    def load_rows(self, meta: Any, rows: Iterable[tuple[tuple[object, ...], Any]]) -> None:
        started = meta["started"] if meta else None
        self.started = None if started is None else float(started)
        self.seen = {key: float(ts) for key, ts in rows}
        self.changed.clear()
        self.dirty = True
