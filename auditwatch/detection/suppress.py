"""Per-key suppression for a duration of event time: one alert per key, then quiet until it lapses.

An alert at time t silences its key over [t, t + duration) only: an earlier event that arrives
later (beyond the engine's lateness bound) is not silenced by it and still alerts. A key may then
hold several intervals; there is almost always one.
"""

from __future__ import annotations

from bisect import insort
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
        self.until: dict[tuple[object, ...], list[float]] = {}  # key -> interval ends, ascending
        self.next_sweep = float("-inf")
        self.dirty = True
        self.changed: set[tuple[object, ...]] = set()  # keys added or removed since the last delta

    def key(self, c: EvalContext) -> tuple[object, ...]:
        return key_of(self.getters, c)

    def suppressed(self, c: EvalContext) -> bool:
        ends = self.until.get(self.key(c))
        if ends is None:
            return False
        ts, duration = c.ts, self.duration
        return any(end - duration <= ts < end for end in ends)

    def record(self, c: EvalContext) -> None:
        key = self.key(c)
        end = c.ts + self.duration
        ends = self.until.get(key)
        if ends is None:
            self.until[key] = [end]
        else:
            insort(ends, end)
        self.changed.add(key)
        self.dirty = True

    def sweep(self, now: float) -> None:
        if now < self.next_sweep:  # scan once per duration: amortised O(1) per alert
            return
        self.next_sweep = now + max(self.duration, 60.0)
        changed: list[tuple[object, ...]] = []
        for k, ends in list(self.until.items()):
            if ends[-1] <= now:
                del self.until[k]
                changed.append(k)
            elif ends[0] <= now:
                ends[:] = [end for end in ends if end > now]
                changed.append(k)
        self.changed.update(changed)
        self.dirty = self.dirty or bool(changed)

    def dump(self) -> list[Any]:
        """[[key, end], ...] in key order; a key with several intervals has one row per interval."""
        return [[key_to_json(k), end] for k, ends in sorted_by_key(self.until.items()) for end in ends]

    def load(self, data: list[Any]) -> None:
        self.until = {}
        for k, end in data:
            self.until.setdefault(key_from_json(k), []).append(float(end))
        for ends in self.until.values():
            ends.sort()
        self.dirty = True

    def keys(self) -> Iterable[tuple[object, ...]]:
        return self.until.keys()

    def row(self, key: tuple[object, ...]) -> Any:
        """The key's interval ends (a list; almost always one)."""
        ends = self.until.get(key)
        return None if ends is None else list(ends)

    def load_rows(self, rows: Iterable[tuple[tuple[object, ...], Any]]) -> None:
        """Rows from `row` (a list of ends), or from a checkpoint written before (a single end)."""
        self.until = {
            key: sorted(float(e) for e in ends) if isinstance(ends, list) else [float(ends)]
            for key, ends in rows
        }
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
