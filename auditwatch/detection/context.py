"""What a compiled condition reads for one event: its fields, its time and a lazy reference view."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from auditwatch.model import AccessEvent
from auditwatch.reference.enrich import EventView
from auditwatch.reference.snapshot import ReferenceSnapshot


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


class LocalClock:
    """Local time of day and date in one timezone, with the UTC offset cached per quarter hour."""

    __slots__ = ("_cache", "zone")

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)  # raises ZoneInfoNotFoundError / ValueError for unknown zones
        self._cache: dict[int, float] = {}

    def local_seconds(self, ts: float) -> float:
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
