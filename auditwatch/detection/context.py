"""What a compiled condition reads for one event: its fields, its time and a lazy reference view."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from auditwatch.model import AccessEvent
from auditwatch.reference import EventView, ReferenceSnapshot


class EvalContext(EventView):
    """One event as the rules see it: its fields, its time, and (being the event's reference view)
    the reference answers about it, memoised and shared by all rules."""

    __slots__ = ("event", "f", "ts")

    def __init__(self, event: AccessEvent, reference: ReferenceSnapshot) -> None:
        fields = event.fields
        EventView.__init__(self, reference, fields, event.timestamp)
        self.event = event
        self.f: Mapping[str, object] = fields
        self.ts = event.timestamp

    def view(self) -> EventView:
        return self


Predicate = Callable[[EvalContext], bool]
Getter = Callable[[EvalContext], object]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_BUCKET = 900  # zone offsets only change on quarter-hour boundaries
# Epoch seconds `datetime` can convert in every zone (0001-01-02 .. 9999-12-30 UTC); times outside
# are clamped to it, so no event time can make a local-time helper raise.
MIN_TS = -62_135_596_800.0 + 86_400.0
MAX_TS = 253_402_300_799.0 - 86_400.0


def clamp_time(ts: float) -> float:
    """`ts` limited to [MIN_TS, MAX_TS]; NaN becomes 0 (1970-01-01)."""
    if MIN_TS <= ts <= MAX_TS:
        return ts
    if math.isnan(ts):
        return 0.0
    return MIN_TS if ts < MIN_TS else MAX_TS


class LocalClock:
    """Local time of day and date in one timezone, with the UTC offset cached per quarter hour."""

    __slots__ = ("_cache", "zone")

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)  # raises ZoneInfoNotFoundError / ValueError for unknown zones
        self._cache: dict[int, float] = {}

    def local_seconds(self, ts: float) -> float:
        """`ts` shifted by the zone's UTC offset at that time (clamped to the representable range)."""
        if not MIN_TS <= ts <= MAX_TS:
            ts = clamp_time(ts)
        bucket = int(ts // _BUCKET)
        offset = self._cache.get(bucket)
        if offset is None:
            if len(self._cache) > 4096:
                self._cache.clear()
            delta = datetime.fromtimestamp(bucket * _BUCKET, UTC).astimezone(self.zone).utcoffset()
            offset = self._cache[bucket] = delta.total_seconds() if delta is not None else 0.0
        return ts + offset

    def hour(self, ts: float) -> int:
        return int(self.local_seconds(ts) // 3600) % 24

    def day(self, ts: float) -> int:
        """Days since 1970-01-01 in this zone."""
        return int(self.local_seconds(ts) // 86400)

    def weekday(self, ts: float) -> str:
        return WEEKDAYS[(self.day(ts) + 3) % 7]  # 1970-01-01 was a Thursday
