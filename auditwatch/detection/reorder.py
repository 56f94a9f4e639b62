"""The reorder buffer: events held until the watermark has passed them, released in event order.

With a `lateness` bound L > 0, events wait here (kept sorted by event time, then event id) and are
released only once the watermark has passed them, so rules see them in exactly that order whatever
order they arrived in, as long as each event is at most L older than the newest event that arrived
before it. The watermark is the newest event time seen minus L; given a wall clock (the daemon) it
also moves to now minus L, and past every event that has waited L seconds, so a quiet system (or a
source whose clock runs ahead) never holds an event longer than L. An event later than what was
already released is counted late (`hold` returns how many) and released at once, out of order. The
buffer is part of the engine's snapshot (`dump`, `load`), so a restart from a checkpoint stays exact.

The buffer holds at most `max_held` events: past that the oldest are released even though the
watermark has not passed them (counted in `forced`). Without the bound a backlog whose lines share
one time (a parser without a time field, a clock stuck in the source, a second-resolution burst)
would be held whole, in memory and in every checkpoint, until the file was read to its end.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from auditwatch.model import AccessEvent, RawLine

_TIME = attrgetter("timestamp")
_ORDER = attrgetter("timestamp", "id")  # the order detection sees events in (`pipeline.event_order`)
MAX_HELD = 20_000  # events (~1.5 KB each in memory): four full batches


class ReorderBuffer:
    """Events read but not yet detected, sorted by (time, id)."""

    def __init__(self, lateness: float, clock: Callable[[], float] | None, max_held: int = MAX_HELD) -> None:
        self.lateness = lateness
        self._clock = clock
        self.max_held = max_held
        self.forced = 0  # events released by the bound before the watermark passed them
        self.events: list[AccessEvent] = []  # sorted by (time, id)
        self._seen = float("-inf")  # newest event time that arrived
        self._released = float("-inf")  # newest event time detected from the buffer
        self._waiting: deque[tuple[float, float]] = deque()  # (wall arrival, newest time then)
        self._waited = float("-inf")  # newest time among arrivals that have waited `lateness`

    def next_release(self) -> float | None:
        """Seconds until the wall clock releases a held event; None when nothing is held (or the
        engine has no clock: then only newer events or `flush` release them)."""
        if not self.events or self._clock is None:
            return None
        now = self._clock()
        due = self.events[0].timestamp + self.lateness
        if self._waiting:
            due = min(due, self._waiting[0][0] + self.lateness)
        return max(0.0, due - now)

    def hold(self, events: Sequence[AccessEvent]) -> int:
        """Add `events` to the held list, kept sorted by (time, id): each batch is one sorted run
        (the pipeline sorts it), so the sort is a linear merge at C speed. Returns how many of them
        come too late to be put in order (at or before an event already released)."""
        if not events:
            return 0
        late = 0
        newest = max(map(_TIME, events))
        released = self._released
        if min(map(_TIME, events)) <= released:
            late = sum(1 for e in events if e.timestamp <= released)
        self._seen = max(self._seen, newest)
        held = self.events
        held.extend(events)
        held.sort(key=_ORDER)
        if self._clock is not None:
            self._waiting.append((self._clock(), self._seen))
        return late

    def bound(self) -> float:
        """The watermark now: held events at or before it are released."""
        bound = self._seen - self.lateness
        if self._clock is not None:
            now = self._clock()
            bound = max(bound, now - self.lateness)
            waiting = self._waiting
            cutoff = now - self.lateness
            while waiting and waiting[0][0] <= cutoff:
                self._waited = max(self._waited, waiting.popleft()[1])
            bound = max(bound, self._waited)
        return bound

    def due(self, bound: float, cap: float = float("inf")) -> list[AccessEvent]:
        """Release held events at or before `bound` and strictly before `cap` (a source with unread
        data has reached `cap`: its next events may share that time)."""
        held = self.events
        cut = bisect_right(held, bound, key=_TIME)
        if cap != float("inf"):
            cut = min(cut, bisect_left(held, cap, key=_TIME))
        over = len(held) - self.max_held
        if over > cut:
            self.forced += over - cut
            cut = over
        out = held[:cut]
        del held[:cut]
        if out:  # an event arriving later than this one now comes too late to be put in order
            self._released = max(self._released, out[-1].timestamp)
        if not held:
            self._waiting.clear()
        return out

    def dump(self) -> dict[str, Any] | None:
        """The reorder buffer: events read (their offsets may be checkpointed) but not yet detected."""
        if not self.events and self._seen == float("-inf"):
            return None
        return {
            "seen": self._seen if self._seen != float("-inf") else None,
            "released": self._released if self._released != float("-inf") else None,
            "events": [_event_json(e) for e in self.events],
        }

    def load(self, data: dict[str, Any] | None) -> None:
        self.events, self._waiting = [], deque()
        self._seen = self._released = self._waited = float("-inf")
        if not data:
            return
        if data.get("seen") is not None:
            self._seen = float(data["seen"])
        if data.get("released") is not None:
            self._released = float(data["released"])
        self.events = [_event_from_json(item) for item in data.get("events", ())]  # already sorted
        if self.events and self._clock is not None:  # restored events wait at most `lateness` more
            self._waiting.append((self._clock(), self._seen))


def _event_json(event: AccessEvent) -> list[Any]:
    """A held event for the snapshot: its document and where it was read from. The raw bytes are
    left out (the document holds `event.original`; detection and evidence use only path and offset)."""
    raw, fields = event.raw, event.fields
    return [
        event.id,
        event.timestamp,
        fields if fields.__class__ is dict else dict(fields),  # no copy to serialise a dict
        [raw.source, raw.path, raw.file_key, raw.offset, raw.end],
    ]


def _event_from_json(item: list[Any]) -> AccessEvent:
    event_id, ts, fields, raw = item
    source, path, file_key, offset, end = raw
    return AccessEvent(event_id, float(ts), fields, RawLine(source, path, file_key, offset, end, b"", 0))
