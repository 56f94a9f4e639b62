"""The per-batch path shared by the daemon and `auditwatch scan`: parse, then detect.

An event detection cannot evaluate becomes a dead letter with stage "detect" and the reason (a
summary of the error and where it was raised); it is still indexed unless its time is unusable.

Both callers feed it the same tailer batches, so a scan of a set of files and the daemon reading
the same files raise the same alerts.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from auditwatch.detection import DetectionEngine, DetectionFailure
from auditwatch.model import AccessEvent, Alert, DeadLetter, RawLine
from auditwatch.parsing import CompiledParser
from auditwatch.parsing.normalise import iso_utc
from auditwatch.sources.config import InputConfig


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

    def process(self, raws: Sequence[RawLine], now: float | None = None) -> Processed:
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
        events.sort(key=_event_time)  # detection sees each batch in event-time order
        failures: list[DetectionFailure] = []
        alerts = self.engine.process(events, failures)
        if failures:
            events, more = _route_failures(events, failures)
            dead.extend(more)
        return Processed(events, dead, alerts)


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


def _event_time(event: AccessEvent) -> float:
    return event.timestamp
