"""The per-batch path shared by the daemon and `auditwatch scan`: parse, then detect.

An event detection cannot evaluate becomes a dead letter with stage "detect" and the reason (a
summary of the error and where it was raised); it is still indexed unless its time is unusable.

Both detect in event-time order across files: `scan` merges its files' parsed events by event time;
the daemon tells the tailer how far each file has been read in event time, so the chain furthest
behind is read first and detection waits for chains with unread data (the engine's reorder buffer).
So a scan of a set of files and the daemon reading the same files raise the same alerts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING

from auditwatch.detection import DetectionEngine, DetectionFailure
from auditwatch.model import AccessEvent, Alert, DeadLetter, RawLine
from auditwatch.normalise import iso_utc
from auditwatch.parsing import CompiledParser
from auditwatch.sources import InputConfig

if TYPE_CHECKING:
    from auditwatch.sources import Tailer


@dataclass(frozen=True, slots=True)
class Processed:
    events: list[AccessEvent]
    dead: list[DeadLetter]
    alerts: list[Alert]


class Pipeline:
    """Parses a batch of records with each input's parser and runs detection on the events."""

    def __init__(
        self, inputs: Sequence[InputConfig], parsers: Mapping[str, CompiledParser], engine: DetectionEngine
    ) -> None:
        self.engine = engine
        self._parser_of_input = {i.name: parsers[i.parser] for i in inputs}

    def process(
        self, raws: Sequence[RawLine], now: float | None = None, tailer: Tailer | None = None
    ) -> Processed:
        """Parse and detect one batch. With the `tailer` that read it, the tailer learns how far in
        event time each file has been read, and detection waits for files that still have unread
        data and are behind (a backlog is then detected in event-time order across files)."""
        events, dead = self.parse(raws, now)
        read_to = float("inf")
        if tailer is not None:
            tailer.note_times(newest_by_file(events))
            read_to = tailer.backlog_time()
        failures: list[DetectionFailure] = []
        alerts = self.engine.process(events, failures, read_to)
        if failures:
            events, more = _route_failures(events, failures)
            dead.extend(more)
        return Processed(events, dead, alerts)

    def parse(
        self, raws: Sequence[RawLine], now: float | None = None
    ) -> tuple[list[AccessEvent], list[DeadLetter]]:
        """Events (in event-time order, then id) and dead letters of one batch."""
        ingested = iso_utc(time.time() if now is None else now)
        by_source: dict[str, list[RawLine]] = {}
        for raw in raws:
            group = by_source.get(raw.source)
            if group is None:
                by_source[raw.source] = group = []
            group.append(raw)
        events: list[AccessEvent] = []
        dead: list[DeadLetter] = []
        for source, group in by_source.items():
            parsed, failed = self._parser_of_input[source].parse_batch(group, ingested)
            events.extend(parsed)
            dead.extend(failed)
        events.sort(key=event_order)  # detection sees each batch in event-time order
        return events, dead


def _route_failures(
    events: list[AccessEvent], failures: list[DetectionFailure]
) -> tuple[list[AccessEvent], list[DeadLetter]]:
    """Dead letters (stage "detect") for events detection could not evaluate; events whose time is
    unusable leave the batch (they exist only as dead letters), the others are still indexed."""
    dead = [DeadLetter(f.event.raw, "detect", f.reason, _parser_of(f.event)) for f in failures]
    unfit = {id(f.event) for f in failures if not f.index}
    if unfit:
        events = [e for e in events if id(e) not in unfit]
    return events, dead


def _parser_of(event: AccessEvent) -> str:
    parser = event.fields.get("auditwatch.parser")
    return parser if isinstance(parser, str) else ""


# Event time, then id: the order detection sees events in, whatever order they arrived in.
event_order = attrgetter("timestamp", "id")


_FIRST_LINES = 10  # lines tried for a file's first event time (a header line is not a record)


def first_event_time(parsers: Mapping[str, CompiledParser]) -> Callable[[InputConfig, bytes], float | None]:
    """For the tailer's rotation order: the event time of the first record in a file's first bytes,
    parsed with the input's own parser (None when none of the first lines parses)."""

    def first_time(cfg: InputConfig, head: bytes) -> float | None:
        parser = parsers.get(cfg.parser)
        if parser is None:
            return None
        lines = head.split(b"\n")[:-1][:_FIRST_LINES]  # complete lines only
        raws = [RawLine(cfg.name, "", "", 0, 0, line.rstrip(b"\r"), len(line)) for line in lines]
        events, _dead = parser.parse_batch(raws, iso_utc(time.time()))
        return events[0].timestamp if events else None

    return first_time


def newest_by_file(events: Sequence[AccessEvent]) -> dict[str, float]:
    """The newest event time per file key, for the tailer's `note_times`; `events` in event-time
    order (as `parse` returns them), so the last one of each file is its newest."""
    return {event.raw.file_key: event.timestamp for event in events}
