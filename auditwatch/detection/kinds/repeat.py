"""`kind: repeat`: the same group (e.g. user + subject) matching on N distinct days within a period.

Days are calendar days in the rule's timezone. When N days are reached the rule alerts and the
group starts again; an explained event does not count its day.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from auditwatch.detection.context import EvalContext, LocalClock
from auditwatch.detection.evidence import Item, event_id_of, pack, unpack
from auditwatch.detection.kinds.base import Explained, Trigger, group_key
from auditwatch.detection.rule import Rule
from auditwatch.detection.state_codec import key_from_json, key_to_json, sorted_by_key


class _Days:
    __slots__ = ("days", "latest")

    def __init__(self) -> None:
        self.latest = -(2**62)
        self.days: OrderedDict[int, tuple[float, Item]] = OrderedDict()  # day -> first event that day


class RepeatKind:
    def __init__(self, rule: Rule) -> None:
        spec = rule.spec
        assert spec.window is not None
        assert spec.days is not None
        self.period = math.ceil(spec.window / 86400)
        self.needed = spec.days
        self.getters = rule.group_getters
        self.clock = LocalClock(spec.timezone)
        self.groups: dict[tuple[object, ...], _Days] = {}
        self.late = 0
        self.next_sweep = float("-inf")
        self.dirty = False
        self.changed: set[tuple[object, ...]] = set()

    def observe(self, c: EvalContext, explained: Explained) -> Trigger | None:
        if explained(c):  # first: most access is explained, and nothing below it changes state
            return None
        key = group_key(self.getters, c)
        if key is None:
            return None
        day = self.clock.day(c.ts)
        state = self.groups.get(key)
        if state is not None:
            if day in state.days:
                return None  # this day already counts; nothing new to learn from the event
            if day <= state.latest - self.period:
                self.late += 1  # late and unexplained
                return None
        if state is None:
            state = self.groups[key] = _Days()
        state.days[day] = (c.ts, c.event)
        if day < state.latest:
            ordered = sorted(state.days.items())
            state.days.clear()
            state.days.update(ordered)
        else:
            state.latest = day
            while next(iter(state.days)) <= day - self.period:
                state.days.popitem(last=False)
        self.changed.add(key)
        self.dirty = True
        if len(state.days) < self.needed:
            return None
        entries = list(state.days.values())
        trigger = Trigger(
            group=key,
            anchor=event_id_of(entries[0][1]),
            evidence=tuple(item for _, item in entries),
            total=len(entries),
            start=entries[0][0],
            end=c.ts,
            days=len(entries),
        )
        del self.groups[key]
        return trigger  # `key` is in `changed` already: its row goes

    def sweep(self, now: float) -> None:
        if now < self.next_sweep:  # scan once a day: amortised O(1) per event
            return
        self.next_sweep = now + 86400.0
        today = self.clock.day(now)
        stale = [k for k, s in self.groups.items() if s.latest <= today - self.period]
        for k in stale:
            del self.groups[k]
        self.changed.update(stale)
        self.dirty = self.dirty or bool(stale)

    def dump(self) -> Any:
        groups = []
        for k, s in sorted_by_key(self.groups.items()):
            days = [[d, ts, pack(i)] for d, (ts, i) in s.days.items()]
            groups.append([key_to_json(k), s.latest, days])
        return {"groups": groups}

    def keys(self) -> Iterable[tuple[object, ...]]:
        return self.groups.keys()

    def row(self, key: tuple[object, ...]) -> Any:
        s = self.groups.get(key)
        if s is None:
            return None
        return [s.latest, [[d, ts, pack(i)] for d, (ts, i) in s.days.items()]]

    def meta(self) -> Any:
        return None

    def load_rows(self, meta: Any, rows: Iterable[tuple[tuple[object, ...], Any]]) -> None:
        self.groups = {}
        for key, (latest, days) in rows:
            state = _Days()
            state.latest = int(latest)
            state.days = OrderedDict((int(d), (float(ts), unpack(ts, item))) for d, ts, item in days)
            self.groups[key] = state
        self.changed.clear()
        self.dirty = True

    def load(self, data: Any) -> None:
        self.groups = {}
        for key, latest, days in data["groups"]:
            state = _Days()
            state.latest = int(latest)
            state.days = OrderedDict((int(d), (float(ts), unpack(ts, item))) for d, ts, item in days)
            self.groups[key_from_json(key)] = state
        self.dirty = True
