"""Sliding event-time windows for one group: expiry is amortised O(1), counts are kept as they change.

Late events: an event older than the newest one seen for the group minus the window span cannot
share a window with it and is not counted (`add` returns False); a late event inside the span is
inserted in time order.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Hashable
from typing import Any

from auditwatch.detection.evidence import Item, pack, unpack


class CountWindow:
    """Every contributing event in the span."""

    __slots__ = ("entries", "latest", "span")

    def __init__(self, span: float) -> None:
        self.span = span
        self.latest = float("-inf")
        self.entries: deque[tuple[float, Item]] = deque()

    def add(self, ts: float, value: Hashable, item: Item) -> bool:
        if ts < self.latest - self.span:
            return False
        entries = self.entries
        if not entries or ts >= entries[-1][0]:
            entries.append((ts, item))
        else:  # late but inside the span: rare, insert in order from the right
            index = len(entries)
            while index > 0 and entries[index - 1][0] > ts:
                index -= 1
            entries.insert(index, (ts, item))
        if ts > self.latest:
            self.latest = ts
            horizon = ts - self.span
            while entries[0][0] < horizon:
                entries.popleft()
        return True

    def count(self) -> int:
        return len(self.entries)

    def distinct(self) -> int | None:
        return None

    def items(self) -> list[tuple[float, Item]]:
        return list(self.entries)

    def clear(self) -> None:
        self.entries.clear()

    def idle_since(self, horizon: float) -> bool:
        return self.latest < horizon

    def dump(self) -> dict[str, Any]:
        return {"latest": self.latest, "entries": [[ts, None, pack(i)] for ts, i in self.entries]}

    def load(self, data: dict[str, Any]) -> None:
        self.latest = float(data["latest"])
        self.entries = deque((float(ts), unpack(ts, item)) for ts, _, item in data["entries"])


class DistinctWindow:
    """The latest event for each distinct value in the span, plus the times of all events."""

    __slots__ = ("latest", "span", "times", "values")

    def __init__(self, span: float) -> None:
        self.span = span
        self.latest = float("-inf")
        self.values: OrderedDict[Hashable, tuple[float, Item]] = OrderedDict()  # oldest first
        self.times: deque[float] = deque()

    def add(self, ts: float, value: Hashable, item: Item) -> bool:
        if ts < self.latest - self.span:
            return False
        values, times = self.values, self.times
        if not times or ts >= times[-1]:
            times.append(ts)
        else:
            index = len(times)
            while index > 0 and times[index - 1] > ts:
                index -= 1
            times.insert(index, ts)
        previous = values.get(value)
        if previous is None or previous[0] <= ts:
            values[value] = (ts, item)
            values.move_to_end(value)
            if ts < self.latest:  # late: keep the oldest first so expiry stays a pop from the left
                ordered = sorted(values.items(), key=lambda kv: kv[1][0])
                values.clear()
                values.update(ordered)
        if ts > self.latest:
            self.latest = ts
            horizon = ts - self.span
            while values and next(iter(values.values()))[0] < horizon:
                values.popitem(last=False)
            while times[0] < horizon:
                times.popleft()
        return True

    def count(self) -> int:
        return len(self.times)

    def distinct(self) -> int | None:
        return len(self.values)

    def items(self) -> list[tuple[float, Item]]:
        return list(self.values.values())

    def clear(self) -> None:
        self.values.clear()
        self.times.clear()

    def idle_since(self, horizon: float) -> bool:
        return self.latest < horizon

    def dump(self) -> dict[str, Any]:
        return {
            "latest": self.latest,
            "entries": [[ts, _plain(v), pack(i)] for v, (ts, i) in self.values.items()],
            "times": list(self.times),
        }

    def load(self, data: dict[str, Any]) -> None:
        self.latest = float(data["latest"])
        self.values = OrderedDict(
            (_hashable(v), (float(ts), unpack(ts, item))) for ts, v, item in data["entries"]
        )
        self.times = deque(float(t) for t in data["times"])


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def _hashable(value: object) -> Hashable:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    assert isinstance(value, Hashable)
    return value
