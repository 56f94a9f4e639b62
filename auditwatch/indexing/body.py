"""Bulk request bodies as bytes: one `create` action line and one document line per operation.

Each operation keeps its own encoded bytes, so a retry resends exactly what was sent before and a
chunk is one `b"".join`. The event path is the hot one (a few µs per event): action-line prefixes
are cached per month and each document is encoded once by orjson.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import orjson

from auditwatch.model import AccessEvent, Alert, DeadLetter, RawLine
from auditwatch.schema import IndexNames
from auditwatch.timefmt import iso_utc

EVENT = "event"
ALERT = "alert"
DEAD = "dead-letter"

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_MAX_REASON = 8000


class Operation(NamedTuple):
    """One bulk item: its kind, the bytes to send, and what it was built from."""

    kind: str
    payload: bytes  # action line + document line, both newline-terminated
    source: AccessEvent | Alert | DeadLetter


def _default(value: Any) -> Any:
    """orjson fallback for read-only mappings and sets in `fields`."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode_fields(fields: Mapping[str, Any]) -> bytes:
    """An event's fields as the JSON document indexed; TypeError when a value cannot be encoded
    (e.g. an integer beyond 64 bits: the daemon dead-letters such an event)."""
    return orjson.dumps(fields, default=_default)


def line_hash(raw: RawLine) -> str:
    """Hex SHA-1 of the whole record (of the capped bytes' original when it was truncated)."""
    return raw.full_sha1 or hashlib.sha1(raw.data, usedforsecurity=False).hexdigest()


class BodyBuilder:
    """Turns stage values into bulk operations for one deployment's indices."""

    def __init__(self, names: IndexNames) -> None:
        self._names = names
        self._month_prefix: dict[str, bytes] = {}  # "2026-11" -> b'{"create":{"_index":"...","_id":'
        self._alerts_prefix = self._prefix(names.alerts)
        self._dead_prefix = self._prefix(names.dead_letter)

    @staticmethod
    def _prefix(index: str) -> bytes:
        return b'{"create":{"_index":%b,"_id":' % orjson.dumps(index)

    def events(self, events: Iterable[AccessEvent]) -> tuple[list[Operation], list[tuple[AccessEvent, str]]]:
        """Operations for `events`, plus the events that cannot even be routed (and why)."""
        ops: list[Operation] = []
        unroutable: list[tuple[AccessEvent, str]] = []
        prefixes = self._month_prefix
        dumps = orjson.dumps
        make = tuple.__new__  # Operation(...) through NamedTuple's Python-level __new__ costs ~3x
        for event in events:
            ts = event.fields.get("@timestamp")
            month = ts[:7] if isinstance(ts, str) else None
            prefix = prefixes.get(month) if month else None
            if prefix is None:
                if month is None or not _MONTH.fullmatch(month):
                    unroutable.append((event, f"routing: @timestamp {ts!r} is not an ISO-8601 UTC time"))
                    continue
                prefix = prefixes[month] = self._prefix(self._names.events_for(month))
            try:
                doc = dumps(event.fields, default=_default)
            except TypeError as exc:
                unroutable.append((event, f"encoding: {exc}"))
                continue
            ops.append(make(Operation, (EVENT, b"%b%b}}\n%b\n" % (prefix, dumps(event.id), doc), event)))
        return ops, unroutable

    def alert(self, alert: Alert) -> Operation:
        doc = alert.fields
        if "@timestamp" not in doc:
            doc = {**doc, "@timestamp": iso_utc(alert.timestamp)}
        body = orjson.dumps(doc, default=_default)
        return Operation(ALERT, b"%b%b}}\n%b\n" % (self._alerts_prefix, orjson.dumps(alert.id), body), alert)

    def dead_letter(
        self, dead: DeadLetter, now: str, *, event_id: str | None = None, target: str | None = None
    ) -> Operation:
        """A dead-letter document whose _id depends only on (file, offset, line hash): replays are 409s."""
        raw = dead.raw
        digest = line_hash(raw)
        doc: dict[str, object] = {
            "@timestamp": now,
            "error.message": dead.reason[:_MAX_REASON],
            "error.type": dead.stage,
            "auditwatch.parser": dead.parser,
            "auditwatch.source": raw.source,
            "auditwatch.file_key": raw.file_key,
            "log.file.path": raw.path,
            "log.offset": raw.offset,
            "event.hash": digest,
            "auditwatch.line.size": raw.full_size,
            "auditwatch.line.truncated": raw.truncated,
        }
        try:
            doc["event.original"] = raw.data.decode("utf-8")
        except UnicodeDecodeError:  # keep the exact bytes, and a readable approximation
            doc["event.original"] = raw.data.decode("utf-8", "replace")
            doc["auditwatch.line.original_b64"] = base64.b64encode(raw.data).decode("ascii")
        if event_id is not None:
            doc["event.id"] = event_id
        if target is not None:
            doc["auditwatch.target_index"] = target
        key = f"{raw.file_key}\x00{raw.offset}\x00{digest}".encode("utf-8", "surrogateescape")
        doc_id = hashlib.sha1(key, usedforsecurity=False).hexdigest()
        return Operation(DEAD, self._dead_payload(doc_id, doc), dead)

    def refused_alert(self, alert: Alert, reason: str, now: str) -> Operation:
        """An alert the alerts index refused, kept whole (as JSON text) in the dead-letter index."""
        encoded = orjson.dumps(alert.fields, default=_default)
        doc = {
            "@timestamp": now,
            "error.message": reason[:_MAX_REASON],
            "error.type": "index",
            "rule.id": alert.rule_id,
            "auditwatch.alert.id": alert.id,
            "auditwatch.target_index": self._names.alerts,
            "event.original": encoded.decode("utf-8"),
            "event.hash": hashlib.sha1(encoded, usedforsecurity=False).hexdigest(),
        }
        doc_id = "alert-" + hashlib.sha1(alert.id.encode(), usedforsecurity=False).hexdigest()
        return Operation(DEAD, self._dead_payload(doc_id, doc), alert)

    def _dead_payload(self, doc_id: str, doc: Mapping[str, object]) -> bytes:
        return b"%b%b}}\n%b\n" % (self._dead_prefix, orjson.dumps(doc_id), orjson.dumps(doc))


def chunks(ops: Sequence[Operation], max_docs: int, max_bytes: int) -> Iterator[list[Operation]]:
    """Consecutive runs of at most `max_docs` operations and `max_bytes` bytes (at least one each)."""
    chunk: list[Operation] = []
    size = 0
    for op in ops:
        n = len(op.payload)
        if chunk and (len(chunk) >= max_docs or size + n > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(op)
        size += n
    if chunk:
        yield chunk


def join(chunk: Sequence[Operation]) -> bytes:
    return b"".join([op.payload for op in chunk])
