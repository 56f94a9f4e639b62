"""Per-key suppression for a duration of event time: one alert per key, then quiet until it lapses."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from auditwatch.detection.context import EvalContext, Getter
from auditwatch.detection.rule import Suppression
from auditwatch.detection.state_codec import key_from_json, key_to_json, sorted_by_key


class Suppressor:
    __slots__ = ("changed", "dirty", "duration", "getters", "next_sweep", "until")

    def __init__(self, spec: Suppression, getters: tuple[Getter, ...]) -> None:
        self.duration = spec.duration
        self.getters = getters
        self.until: dict[tuple[object, ...], float] = {}
        self.next_sweep = float("-inf")
        self.dirty = True
        self.changed: set[tuple[object, ...]] = set()  # keys added or removed since the last delta

    def key(self, c: EvalContext) -> tuple[object, ...]:
        return key_of(self.getters, c)

    def suppressed(self, c: EvalContext) -> bool:
        until = self.until.get(self.key(c))
        return until is not None and c.ts < until

    def record(self, c: EvalContext) -> None:
        key = self.key(c)
        self.until[key] = c.ts + self.duration
        self.changed.add(key)
        self.dirty = True

    def sweep(self, now: float) -> None:
        if now < self.next_sweep:  # scan once per duration: amortised O(1) per alert
            return
        self.next_sweep = now + max(self.duration, 60.0)
        stale = [k for k, until in self.until.items() if until <= now]
        for k in stale:
            del self.until[k]
        self.changed.update(stale)
        self.dirty = self.dirty or bool(stale)

    def dump(self) -> list[Any]:
        return [[key_to_json(k), until] for k, until in sorted_by_key(self.until.items())]

    def load(self, data: list[Any]) -> None:
        self.until = {key_from_json(k): float(until) for k, until in data}
        self.dirty = True

    def keys(self) -> Iterable[tuple[object, ...]]:
        return self.until.keys()

    def row(self, key: tuple[object, ...]) -> Any:
        return self.until.get(key)

    def load_rows(self, rows: Iterable[tuple[tuple[object, ...], Any]]) -> None:
        self.until = {key: float(until) for key, until in rows}
        self.changed.clear()
        self.dirty = True


def key_of(getters: tuple[Getter, ...], c: EvalContext) -> tuple[object, ...]:
    """The values of `getters` as a hashable key (lists become tuples); unrolled for the usual few."""
    if len(getters) == 1:
        v = getters[0](c)
        return (tuple(v) if isinstance(v, list) else v,)
    if len(getters) == 2:
        a, b = getters[0](c), getters[1](c)
        return (tuple(a) if isinstance(a, list) else a, tuple(b) if isinstance(b, list) else b)
    if len(getters) == 3:
        a, b, d = getters[0](c), getters[1](c), getters[2](c)
        return (
            tuple(a) if isinstance(a, list) else a,
            tuple(b) if isinstance(b, list) else b,
            tuple(d) if isinstance(d, list) else d,
        )
    return tuple(tuple(v) if isinstance(v := g(c), list) else v for g in getters)
