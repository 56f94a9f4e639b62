"""Bulk bodies: routing by the event's own month, deterministic ids, chunk limits, exact raw lines."""

from __future__ import annotations

import base64
import hashlib

import orjson

from auditwatch.indexing.body import DEAD, EVENT, BodyBuilder, Operation, chunks, join
from auditwatch.model import AccessEvent, Alert, DeadLetter, RawLine
from auditwatch.schema import IndexNames
from auditwatch.timefmt import iso_utc as utc_iso

NAMES = IndexNames("t")


def _raw(data: bytes = b"2026-11-25 10:00:00|MP1|VIEW", offset: int = 0) -> RawLine:
    return RawLine("pnc", "/logs/a.log", "dev:1:ino:2", offset, offset + len(data) + 1, data, len(data))


def _event(ts: object, event_id: str = "e1") -> AccessEvent:
    return AccessEvent(event_id, 0.0, {"@timestamp": ts, "user.id": "MP1"}, _raw())


def _lines(op: Operation) -> tuple[dict[str, object], dict[str, object]]:
    action, doc, rest = op.payload.split(b"\n")
    assert rest == b""
    return orjson.loads(action), orjson.loads(doc)


def test_events_route_to_the_month_of_their_own_timestamp() -> None:
    """Two months give two indices; the action is a create with the event id."""
    ops, bad = BodyBuilder(NAMES).events(
        [_event("2026-10-31T23:59:59.999Z", "a"), _event("2026-11-01T00:00:00Z", "b")]
    )
    assert bad == []
    actions = [_lines(op)[0] for op in ops]
    assert actions == [
        {"create": {"_index": "t-events-2026.10", "_id": "a"}},
        {"create": {"_index": "t-events-2026.11", "_id": "b"}},
    ]
    assert _lines(ops[0])[1] == {"@timestamp": "2026-10-31T23:59:59.999Z", "user.id": "MP1"}
    assert {op.kind for op in ops} == {EVENT}


def test_ids_needing_escapes_stay_valid_json() -> None:
    """A source audit id with quotes or backslashes is escaped, not spliced raw into the action."""
    ops, _ = BodyBuilder(NAMES).events([_event("2026-11-01T00:00:00Z", 'x"y\\z')])
    assert _lines(ops[0])[0] == {"create": {"_index": "t-events-2026.11", "_id": 'x"y\\z'}}


def test_unroutable_timestamps_are_reported_not_sent() -> None:
    """A missing or malformed @timestamp cannot pick an index, so the event is handed back with why."""
    events = [_event(None, "a"), _event("yesterday", "b"), _event("2026-13-01T00:00:00Z", "c")]
    ops, bad = BodyBuilder(NAMES).events(events)
    assert ops == []
    assert [e.id for e, _ in bad] == ["a", "b", "c"]
    assert all("@timestamp" in why for _, why in bad)


def test_dead_letter_id_depends_only_on_file_offset_and_line() -> None:
    """The same line dead-lettered twice (a replay, later, other reason) gets the same _id."""
    builder = BodyBuilder(NAMES)
    first = builder.dead_letter(DeadLetter(_raw(), "parse", "no pattern matched", "pnc"), utc_iso(1.0))
    again = builder.dead_letter(DeadLetter(_raw(), "index", "mapping", "pnc"), utc_iso(99.0))
    other = builder.dead_letter(DeadLetter(_raw(offset=100), "parse", "no pattern matched"), utc_iso(1.0))
    ids = [_lines(op)[0]["create"]["_id"] for op in (first, again, other)]  # type: ignore[index]
    assert ids[0] == ids[1] != ids[2]
    action, doc = _lines(first)
    assert action["create"]["_index"] == "t-deadletter"  # type: ignore[index]
    assert doc == {
        "@timestamp": "1970-01-01T00:00:01.000Z",
        "error.message": "no pattern matched",
        "error.type": "parse",
        "auditwatch.parser": "pnc",
        "auditwatch.source": "pnc",
        "auditwatch.file_key": "dev:1:ino:2",
        "log.file.path": "/logs/a.log",
        "log.offset": 0,
        "event.hash": hashlib.sha1(b"2026-11-25 10:00:00|MP1|VIEW").hexdigest(),
        "auditwatch.line.size": 28,
        "auditwatch.line.truncated": False,
        "event.original": "2026-11-25 10:00:00|MP1|VIEW",
    }
    assert first.kind == DEAD


def test_invalid_utf8_is_kept_exactly_in_base64() -> None:
    """Bytes that are not UTF-8 survive byte for byte in original_b64, readable text beside them."""
    data = b"caf\xe9|MP1"
    _, doc = _lines(BodyBuilder(NAMES).dead_letter(DeadLetter(_raw(data), "parse", "bad"), utc_iso(0)))
    assert base64.b64decode(str(doc["auditwatch.line.original_b64"])) == data
    assert doc["event.original"] == "caf\ufffd|MP1"


def test_alert_gets_timestamp_and_goes_to_alerts_index() -> None:
    """An alert without @timestamp gets one from its trigger time; its id is the alert id."""
    alert = Alert("al-1", 1_795_000_000.0, "colleague", {"rule.id": "colleague", "event.severity": 3})
    action, doc = _lines(BodyBuilder(NAMES).alert(alert))
    assert action == {"create": {"_index": "t-alerts", "_id": "al-1"}}
    assert doc["@timestamp"] == utc_iso(1_795_000_000.0)
    assert doc["event.severity"] == 3


def test_chunks_respect_doc_and_byte_limits() -> None:
    """No chunk exceeds either limit, an oversized op still travels alone, and order is kept."""
    ops = [Operation(EVENT, b"x" * size, _event("2026-11-01")) for size in (10, 10, 10, 50, 10, 10, 10)]
    by_docs = list(chunks(ops, 3, 10_000))
    assert [len(c) for c in by_docs] == [3, 3, 1]
    by_bytes = list(chunks(ops, 100, 25))
    assert [[len(op.payload) for op in c] for c in by_bytes] == [[10, 10], [10], [50], [10, 10], [10]]
    assert join(ops) == b"".join(op.payload for op in ops)
