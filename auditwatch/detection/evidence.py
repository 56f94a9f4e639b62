"""The evidence kept about one contributing event: enough for a reviewer and for a state snapshot."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditwatch.model import AccessEvent
from auditwatch.timefmt import iso_utc

Item = AccessEvent | Mapping[str, Any]  # live event, or its evidence restored from a snapshot


def evidence_of(item: Item) -> dict[str, Any]:
    if not isinstance(item, AccessEvent):
        return dict(item)
    f = item.fields
    return {
        "event_id": item.id,
        "@timestamp": f.get("@timestamp"),
        "original": f.get("event.original"),
        "hash": f.get("event.hash"),
        "file": f.get("log.file.path", item.raw.path),
        "offset": f.get("log.offset", item.raw.offset),
        "action": f.get("event.action"),
        "record": {"type": f.get("auditwatch.record.type"), "id": f.get("auditwatch.record.id")},
        "subject": f.get("auditwatch.subject.person_id"),
        "user": f.get("user.id"),
    }


def event_id_of(item: Item) -> str:
    return item.id if isinstance(item, AccessEvent) else str(item.get("event_id", ""))


def pack(item: Item) -> list[Any]:
    """Compact evidence for a state snapshot: [event id, file, offset, hash]. The raw line is not
    kept: the events index holds it under that id, and file + offset + hash locate and verify it."""
    if isinstance(item, AccessEvent):
        f = item.fields
        return [
            item.id,
            f.get("log.file.path", item.raw.path),
            f.get("log.offset", item.raw.offset),
            f.get("event.hash"),
        ]
    return [item.get("event_id"), item.get("file"), item.get("offset"), item.get("hash")]


def unpack(ts: float, packed: list[Any]) -> dict[str, Any]:
    """Evidence restored from a snapshot (no raw line; see `pack`)."""
    event_id, file, offset, digest = packed
    return {
        "event_id": event_id,
        "@timestamp": iso_utc(ts),
        "file": file,
        "offset": offset,
        "hash": digest,
        "restored": True,
    }
