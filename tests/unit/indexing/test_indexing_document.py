"""The event document both ways (auditwatch.indexing.document): event -> document -> event is the
same event, for every shipped parser, a capped record and a record that is not UTF-8; and the
document is byte for byte what the bulk body sends."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from auditwatch.indexing.body import BodyBuilder
from auditwatch.indexing.document import event_document, event_from_document, event_from_hit
from auditwatch.model import AccessEvent, RawLine
from auditwatch.parsing import CompiledParser, load_parser, load_parsers
from auditwatch.schema import IndexNames

PARSERS = Path(__file__).resolve().parents[3] / "parsers"
INGESTED = "2026-11-25T12:00:00.000Z"

LINES = {
    "rms_json": (
        b'{"audit_id":"R-1","ts":"2026-11-25T09:45:12Z","action":"VIEW","user":{"staff_no":"MP012345"}}'
    ),
    "custody_syslog": (
        b"<134>1 2026-11-25T09:45:12.345Z custody01 custodyd 42 ACCESS - eid=C-1 user=MP012345 action=view"
    ),
    "pgaudit": (
        b"2026-11-25 02:45:38.123 UTC [41235] alice@policedb LOG:  AUDIT: "
        b"SESSION,1,1,READ,SELECT,TABLE,public.person,SELECT 1,<not logged>"
    ),
    "intel_csv": (
        b'INT-1,25/11/2026 09:45:12,MP012345,"Jones, Alan",Open,Intel,INT/1,"SMITH, John",,,,07,,WS-1'
    ),
    "pnc_mainframe": b"251126 094512 MP012345 TRM0042 QP  ENQ PERSON SMITH/JOHN/19800201 RSN=07 HITS=003",
}


@pytest.fixture(scope="module")
def parsers() -> dict[str, CompiledParser]:
    return load_parsers(PARSERS)


def _parse(parser: CompiledParser, raw: RawLine) -> AccessEvent:
    event = parser.parse(raw, INGESTED)
    assert isinstance(event, AccessEvent), event
    return event


def _stored(event: AccessEvent) -> AccessEvent:
    """What a search hit of the stored document reads back as (the JSON as Elasticsearch returns it)."""
    doc_id, document = event_document(event)
    return event_from_hit({"_id": doc_id, "_source": orjson.loads(document)})


def _unstored(raw: RawLine, dataset: str) -> RawLine:
    """The raw record as far as the document carries it: no input name (the dataset stands in), no
    file identity."""
    return raw._replace(source=dataset, file_key="")


@pytest.mark.parametrize("name", sorted(LINES))
def test_event_document_event_is_the_same_event(parsers: dict[str, CompiledParser], name: str) -> None:
    data = LINES[name]
    raw = RawLine("input-a", "/var/log/a.log", "dev:1:ino:2", 4096, 4096 + len(data) + 1, data, len(data))
    event = _parse(parsers[name], raw)
    back = _stored(event)
    assert back.id == event.id
    assert back.timestamp == event.timestamp
    assert back.fields == event.fields
    assert back.raw == _unstored(event.raw, str(event.fields["event.dataset"]))


def test_a_record_that_is_not_utf8_comes_back_as_its_exact_bytes(tmp_path: Path) -> None:
    """A lenient parser indexes a record that is not UTF-8, keeping its bytes in base64."""
    lenient = tmp_path / "custody_syslog.yml"
    lenient.write_text(
        (PARSERS / "custody_syslog.yml").read_text(encoding="utf-8") + "\nlenient: true\n", "utf-8"
    )
    data = LINES["custody_syslog"].replace(b"MP012345", b"MP0\xef12345")
    raw = RawLine("input-a", "/var/log/a.log", "k", 0, len(data) + 1, data, len(data))
    event = _parse(load_parser(lenient), raw)
    assert "auditwatch.line.original_b64" in event.fields
    back = _stored(event)
    assert back.raw.data == data
    assert back.raw == _unstored(event.raw, str(event.fields["event.dataset"]))


def test_a_capped_record_keeps_its_full_size_and_hash(parsers: dict[str, CompiledParser]) -> None:
    """A record capped at max_line_bytes: the document says how long it was and the whole record's
    SHA-1; both come back on the raw line (and the checkpoint end is past the whole record)."""
    data = LINES["rms_json"]
    raw = RawLine("input-a", "/var/log/a.log", "k", 100, 100 + 5000 + 1, data, 5000, "ab" * 20)
    event = _parse(parsers["rms_json"], raw)
    assert event.fields["auditwatch.line.truncated"] is True
    back = _stored(event)
    assert back.raw == _unstored(event.raw, str(event.fields["event.dataset"]))
    assert (back.raw.full_size, back.raw.full_sha1, back.raw.end) == (5000, "ab" * 20, 5101)


def test_the_document_is_what_the_bulk_body_sends(parsers: dict[str, CompiledParser]) -> None:
    data = LINES["custody_syslog"]
    event = _parse(parsers["custody_syslog"], RawLine("in", "/a.log", "k", 0, len(data) + 1, data, len(data)))
    (op,), unroutable = BodyBuilder(IndexNames("t")).events([event])
    assert unroutable == []
    action, document, rest = op.payload.split(b"\n")
    assert rest == b""
    doc_id, expected = event_document(event)
    assert orjson.loads(action)["create"]["_id"] == doc_id
    assert document == expected


def test_a_document_without_raw_fields_still_reads_back() -> None:
    """An older or hand-made document with only a time: the raw record is empty, not an error."""
    event = event_from_document("x", {"@timestamp": "2026-11-25T09:45:12.345Z"})
    assert event.id == "x"
    assert event.timestamp == 1795599912.345
    assert (event.raw.data, event.raw.offset, event.raw.end, event.raw.full_sha1) == (b"", 0, 1, None)
