"""The compiled parser at work: shipped parsers' examples, hostile input, ids, truncation, encoding."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from auditwatch.model import AccessEvent, DeadLetter, RawLine
from auditwatch.parsing import CompiledParser, load_parser, load_parsers
from auditwatch.schema import EVENT_FIELDS, LIST_FIELDS

PARSERS = Path(__file__).resolve().parents[3] / "parsers"
SHIPPED = sorted(p.stem for p in PARSERS.glob("*.yml"))
INGESTED = "2026-11-25T12:00:00.000Z"
RMS_LINE = (
    '{"audit_id":"RMS-1","ts":"2026-11-25T09:45:12.345+00:00","action":"VIEW",'
    '"user":{"staff_no":"mp 12345"},"record":{"type":"PERSON","id":"PER/1"}}'
)
PNC_LINE = "251125 094512 MP012345 TRM0042 QP  ENQ PERSON SMITH/JOHN/19800201 RSN=07 REF=CR/1234/26 HITS=003"


def _raw(data: bytes, offset: int = 0, full_size: int | None = None, full_sha1: str | None = None) -> RawLine:
    size = len(data) if full_size is None else full_size
    return RawLine("src", "/var/log/x.log", "file-key-1", offset, offset + size + 1, data, size, full_sha1)


@pytest.fixture(scope="module")
def parsers() -> dict[str, CompiledParser]:
    return load_parsers(PARSERS)


def test_all_five_parsers_ship() -> None:
    """The five required source formats each have a parser file."""
    assert SHIPPED == ["custody_syslog", "intel_csv", "pgaudit", "pnc_mainframe", "rms_json"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_parser_examples_pass(parsers: dict[str, CompiledParser], name: str) -> None:
    """Every example in every shipped parser comes out as declared, with some that must not parse."""
    parser = parsers[name]
    examples = parser.definition.examples
    assert len(examples) >= 5
    assert sum(1 for e in examples if e.error is not None) >= 2
    assert parser.check_examples() == []


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_parser_events_hold_only_canonical_fields(
    parsers: dict[str, CompiledParser], name: str
) -> None:
    """Every field of every example event is canonical, list fields are lists and values are set."""
    parser = parsers[name]
    for index, example in enumerate(parser.definition.examples):
        if example.expect is None:
            continue
        result = parser.parse(_raw(example.line.encode(), index), example.ingested)
        assert isinstance(result, AccessEvent)
        for key, value in result.fields.items():
            assert key in EVENT_FIELDS
            assert value is not None
            assert value != ""
            assert isinstance(value, list) == (key in LIST_FIELDS)


def test_check_examples_reports_a_wrong_expectation(tmp_path: Path) -> None:
    """An example whose expectation is wrong gives a Problem naming the file, line and example."""
    text = (PARSERS / "rms_json.yml").read_text().replace("event.action: view", "event.action: print", 1)
    path = tmp_path / "rms.yml"
    path.write_text(text)
    problems = load_parser(path).check_examples()
    assert len(problems) == 1
    assert problems[0].file == str(path)
    assert problems[0].field == "examples[0]"
    assert problems[0].line is not None
    assert problems[0].message == "field event.action: expected 'print', got 'view'"


def test_event_document_has_the_runtime_fields(parsers: dict[str, CompiledParser]) -> None:
    """The runtime adds kind, module, dataset, ingested, original, hash, file, offset, parser, user."""
    event = parsers["rms_json"].parse(_raw(RMS_LINE.encode(), 1234), INGESTED)
    assert isinstance(event, AccessEvent)
    fields = event.fields
    assert fields["@timestamp"] == "2026-11-25T09:45:12.345Z"
    assert event.timestamp == pytest.approx(1795599912.345)
    assert (fields["event.kind"], fields["event.module"], fields["event.dataset"]) == (
        "event",
        "auditwatch",
        "rms.audit",
    )
    assert (fields["event.category"], fields["event.type"]) == (["database"], ["access"])
    assert fields["event.ingested"] == INGESTED
    assert fields["event.original"] == RMS_LINE
    assert fields["event.hash"] == hashlib.sha1(RMS_LINE.encode()).hexdigest()
    assert (fields["log.file.path"], fields["log.offset"]) == ("/var/log/x.log", 1234)
    assert fields["auditwatch.parser"] == "rms_json"
    assert fields["related.user"] == ["MP012345"]
    assert "auditwatch.line.truncated" not in fields
    assert "auditwatch.line.original_b64" not in fields


def test_id_from_the_source_audit_id_is_stable(parsers: dict[str, CompiledParser]) -> None:
    """With an audit id the _id is base64url(SHA-1(dataset NUL audit id)), the same wherever the line is."""
    parser = parsers["rms_json"]
    first = parser.parse(_raw(RMS_LINE.encode(), 0), INGESTED)
    again = parser.parse(_raw(RMS_LINE.encode(), 999), "2027-01-01T00:00:00.000Z")
    expected = base64.urlsafe_b64encode(hashlib.sha1(b"rms.audit\x00RMS-1").digest()).decode().rstrip("=")
    assert isinstance(first, AccessEvent)
    assert isinstance(again, AccessEvent)
    assert first.id == again.id == expected
    assert first.id == "DEI6vq2_z6nfTsaswFbY2SrIyCg"  # the contract across releases (test_document_ids)
    assert len(first.id) == 27
    assert first.fields["event.id"] == "RMS-1"


def test_id_without_audit_id_comes_from_file_offset_and_hash(parsers: dict[str, CompiledParser]) -> None:
    """Without an audit id the _id hashes file key, offset and line hash: stable, and offset-sensitive."""
    parser = parsers["pnc_mainframe"]
    data = PNC_LINE.encode()
    one = parser.parse(_raw(data, 500), INGESTED)
    same = parser.parse(_raw(data, 500), "2030-01-01T00:00:00.000Z")
    moved = parser.parse(_raw(data, 501), INGESTED)
    line_hash = hashlib.sha1(data).hexdigest()
    expected = base64.urlsafe_b64encode(hashlib.sha1(f"file-key-1\x00500\x00{line_hash}".encode()).digest())
    assert isinstance(one, AccessEvent)
    assert isinstance(same, AccessEvent)
    assert isinstance(moved, AccessEvent)
    assert one.id == same.id == expected.decode()[:27]
    assert one.id == "6iPrUe-V7hzWfXlWStZfyXMSPjM"  # the contract across releases (test_document_ids)
    assert one.id != moved.id
    assert one.fields["event.id"] == one.id


def test_truncated_line_that_still_parses_is_flagged(parsers: dict[str, CompiledParser]) -> None:
    """A capped line that parses is an event flagged truncated with the full size and full hash."""
    full_hash = "ab" * 20
    event = parsers["pnc_mainframe"].parse(
        _raw(PNC_LINE.encode(), 0, full_size=5_000_000, full_sha1=full_hash), INGESTED
    )
    assert isinstance(event, AccessEvent)
    assert event.fields["auditwatch.line.truncated"] is True
    assert event.fields["auditwatch.line.size"] == 5_000_000
    assert event.fields["event.hash"] == full_hash


def test_truncated_line_that_does_not_parse_says_so(parsers: dict[str, CompiledParser]) -> None:
    """A capped JSON line cannot parse: the reason says it was truncated and by how much."""
    data = RMS_LINE.encode()[:60]
    dead = parsers["rms_json"].parse(_raw(data, 0, full_size=70_000, full_sha1="cd" * 20), INGESTED)
    assert isinstance(dead, DeadLetter)
    assert dead.stage == "parse"
    assert dead.parser == "rms_json"
    assert dead.reason.startswith("json: ")
    assert dead.reason.endswith("(line truncated to 60 of 70000 bytes)")


def test_invalid_utf8_is_a_dead_letter_by_default(parsers: dict[str, CompiledParser]) -> None:
    """Invalid UTF-8 makes a strict parser's line a dead letter naming the byte; the raw bytes are kept."""
    data = PNC_LINE.replace("CR/1234", "CR/12\xff34").encode("latin-1")
    dead = parsers["pnc_mainframe"].parse(_raw(data), INGESTED)
    assert isinstance(dead, DeadLetter)
    assert dead.reason == "invalid UTF-8 at byte 82 (the exact bytes are kept)"
    assert dead.raw.data == data


def test_invalid_utf8_is_kept_exactly_when_lenient(tmp_path: Path) -> None:
    """With `lenient: true` invalid UTF-8 is shown backslash-escaped and kept byte-exact in base64."""
    lenient = tmp_path / "pnc.yml"
    lenient.write_text((PARSERS / "pnc_mainframe.yml").read_text() + "\nlenient: true\n")
    data = PNC_LINE.replace("CR/1234", "CR/12\xff34").encode("latin-1")
    event = load_parser(lenient).parse(_raw(data), INGESTED)
    assert isinstance(event, AccessEvent)
    assert "CR/12\\xff34/26" in str(event.fields["event.original"])
    assert event.fields["auditwatch.reason.case_ref"] == "CR/12\\xff34/26"
    assert base64.b64decode(str(event.fields["auditwatch.line.original_b64"])) == data
    assert event.fields["event.hash"] == hashlib.sha1(data).hexdigest()


def test_trailing_carriage_return_is_stripped(parsers: dict[str, CompiledParser]) -> None:
    """A CRLF line parses, without the CR in event.original, and hashes the bytes as read."""
    data = (PNC_LINE + "\r").encode()
    event = parsers["pnc_mainframe"].parse(_raw(data), INGESTED)
    assert isinstance(event, AccessEvent)
    assert event.fields["event.original"] == PNC_LINE
    assert event.fields["event.hash"] == hashlib.sha1(data).hexdigest()


HOSTILE = [
    b"",
    b"   ",
    b"\r",
    b"\x00" * 100,
    b"\xff\xfe\xfd",
    b'{"a": "\x00"}',
    b'{"audit_id": 1, "ts": 5, "action": ["VIEW"], "user": {"staff_no": {"x": 1}}}',
    b'{"audit_id": null, "ts": "2026-11-25T09:45:12Z", "action": "VIEW", "user": {"staff_no": 12345}}',
    b"[" * 10_000,
    b'{"a":' * 1000 + b"1" + b"}" * 1000,
    b"x" * 5_000_000,
    b"%{WORD:x}",
    b"<134>1 - - - - - - " + b"a=" * 1000,
    b"251125 094512 MP012345 TRM0042 QP  ENQ PERSON " + b"/" * 100_000,
    b"HITS=003 RSN=07 PERSON ENQ QP TRM0042 MP012345 094512 251125",
    b"AuditRef,Timestamp,UserId",
    b'"unterminated,csv',
    b'2026-11-25 02:45:38.123 UTC [1] u@d LOG:  AUDIT: SESSION,1,1,READ,SELECT,TABLE,t,"unterminated',
    "Zoë O’Brien 💥".encode(),
]


@pytest.mark.parametrize("name", SHIPPED)
def test_hostile_lines_never_raise(parsers: dict[str, CompiledParser], name: str) -> None:
    """Empty, NUL, invalid UTF-8, huge, truncated and shuffled lines give an event or a dead letter."""
    parser = parsers[name]
    for index, data in enumerate(HOSTILE):
        result = parser.parse(_raw(data, index), INGESTED)
        assert isinstance(result, AccessEvent | DeadLetter)
        if isinstance(result, DeadLetter):
            assert result.reason
            assert result.parser == name
            assert not result.reason.startswith("internal error"), result.reason


def test_empty_line_reason(parsers: dict[str, CompiledParser]) -> None:
    """An empty line is dead-lettered as such."""
    dead = parsers["pgaudit"].parse(_raw(b""), INGESTED)
    assert isinstance(dead, DeadLetter)
    assert dead.reason == "empty line"


def test_json_values_of_the_wrong_type_are_converted_or_dropped(parsers: dict[str, CompiledParser]) -> None:
    """A numeric staff number is normalised; a null audit id falls back to the computed id."""
    result = parsers["rms_json"].parse(_raw(HOSTILE[7]), INGESTED)
    assert isinstance(result, AccessEvent)
    assert result.fields["user.id"] == "MP012345"
    assert result.fields["event.id"] == result.id


def test_parse_batch_splits_events_and_dead_letters_in_order(parsers: dict[str, CompiledParser]) -> None:
    """parse_batch returns the events and the dead letters, each in input order."""
    lines = [PNC_LINE, "garbage", PNC_LINE.replace("094512", "094513"), ""]
    raws = [_raw(line.encode(), i * 1000) for i, line in enumerate(lines)]
    events, dead = parsers["pnc_mainframe"].parse_batch(raws, INGESTED)
    assert [e.raw.offset for e in events] == [0, 2000]
    assert [d.raw.offset for d in dead] == [1000, 3000]
    assert events[1].fields["@timestamp"] == "2025-11-25T09:45:13.000Z"


def test_example_reason_wording(parsers: dict[str, CompiledParser]) -> None:
    """Dead-letter reasons say which decoder or field failed and why."""
    pnc = parsers["pnc_mainframe"].parse(_raw(b"251125 094512 MP012345 TRM0042 QX  DEL PERSON X"), INGESTED)
    assert isinstance(pnc, DeadLetter)
    assert pnc.reason == (
        "pattern: no record type matched "
        "(tried PERSON_ENQUIRY, PERSON_SEARCH, VEHICLE_ENQUIRY, PERSON_UPDATE, PRINT)"
    )
    rms = parsers["rms_json"].parse(_raw(b'{"audit_id":"A","ts":"x","action":"VIEW"}'), INGESTED)
    assert isinstance(rms, DeadLetter)
    assert rms.reason == "field @timestamp: 'x' does not match iso8601"
