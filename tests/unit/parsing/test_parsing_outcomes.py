"""Skipped lines, batch/line equivalence, local-time ISO-8601 and the key=value fast path."""

from __future__ import annotations

import random
from pathlib import Path
from textwrap import dedent

import pytest

from auditwatch.errors import ConfigError
from auditwatch.model import AccessEvent, DeadLetter, RawLine
from auditwatch.parsing import CompiledParser, load_parser, load_parsers
from auditwatch.parsing.decoders import DecodeError
from auditwatch.parsing.decoders.kv import kv_decoder
from auditwatch.timefmt import compile_timestamp, iso_utc

PARSERS = Path(__file__).resolve().parents[3] / "parsers"
SHIPPED = sorted(p.stem for p in PARSERS.glob("*.yml"))
INGESTED = "2026-11-25T12:00:00.000Z"
INTEL_HEADER = (
    "AuditRef,Timestamp,UserId,UserName,Action,RecordType,RecordId,SubjectName,SubjectDob,"
    "SearchTerms,Results,Reason,CaseRef,Workstation"
)
SKIPPING = """\
name: skipper
dataset: skipper.audit
decoder: pattern
skip: ["^# ", "^-- (?!AUDIT)"]
pattern: "%{TIMESTAMP_ISO8601:ts} %{WORD:user} VIEW"
fields:
  "@timestamp": {from: ts, formats: [iso8601]}
  user.id: {from: user, required: true}
examples:
  - {line: "2026-11-25T10:00:00Z alice VIEW", expect: {user.id: alice}}
  - {line: "# a comment", skip: true}
  - {line: "-- AUDIT broken", error: "pattern: no record type matched"}
"""


def _raw(data: bytes, offset: int = 0) -> RawLine:
    return RawLine("src", "/var/log/x.log", "file-key-1", offset, offset + len(data) + 1, data, len(data))


@pytest.fixture(scope="module")
def parsers() -> dict[str, CompiledParser]:
    return load_parsers(PARSERS)


@pytest.mark.parametrize("name", SHIPPED)
def test_parse_batch_equals_parse_line_by_line(parsers: dict[str, CompiledParser], name: str) -> None:
    """A batch of every example line (each twice, shuffled) gives exactly what parse() gives per line."""
    parser = parsers[name]
    lines = [e.line for e in parser.definition.examples] * 2
    random.Random(7).shuffle(lines)
    raws = [_raw(line.encode(), i * 1000) for i, line in enumerate(lines)]
    singles = [parser.parse(raw, INGESTED) for raw in raws]
    events, dead = parser.parse_batch(raws, INGESTED)
    assert events == [r for r in singles if isinstance(r, AccessEvent)]
    assert dead == [r for r in singles if isinstance(r, DeadLetter)]
    assert events
    assert dead


def test_csv_header_is_skipped_not_dead_lettered(parsers: dict[str, CompiledParser]) -> None:
    """The intel CSV header line is neither an event nor a dead letter; the data line after it parses."""
    parser = parsers["intel_csv"]
    assert parser.parse(_raw(INTEL_HEADER.encode()), INGESTED) is None
    line = "INT-1,25/11/2026 09:45:12,MP012345,x,Open,Intel,INT/1,,,,,07,,WS-1"
    events, dead = parser.parse_batch([_raw(INTEL_HEADER.encode()), _raw(line.encode(), 200)], INGESTED)
    assert [e.raw.offset for e in events] == [200]
    assert dead == []


def test_empty_lines_stay_dead_letters_even_for_a_skipping_parser(tmp_path: Path) -> None:
    """Empty and blank lines are dead letters "empty line", whatever the skip regexes say."""
    path = tmp_path / "skip.yml"
    path.write_text(SKIPPING.replace('"^# "', '"^\\\\s*$"'), encoding="utf-8")
    parser = load_parser(path)
    for data in (b"", b"   ", b"\r"):
        result = parser.parse(_raw(data), INGESTED)
        assert isinstance(result, DeadLetter)
        assert result.reason == "empty line"


def test_skip_regexes_apply_only_to_lines_that_do_not_decode(tmp_path: Path) -> None:
    """A skip regex skips a line that does not decode, never a record that parses or a field error."""
    path = tmp_path / "skip.yml"
    path.write_text(SKIPPING.replace('"^# "', '"alice|^# "'), encoding="utf-8")
    parser = load_parser(path)
    assert parser.check_examples() == []
    assert isinstance(parser.parse(_raw(b"2026-11-25T10:00:00Z alice VIEW"), INGESTED), AccessEvent)
    assert parser.parse(_raw(b"-- something else"), INGESTED) is None
    bad_time = parser.parse(_raw(b"2026-13-45T10:00:00Z alice VIEW"), INGESTED)
    assert isinstance(bad_time, DeadLetter)
    assert bad_time.reason.startswith("field @timestamp")


def test_skip_example_that_is_not_skipped_is_a_problem(tmp_path: Path) -> None:
    """`skip: true` on a line that parses, and an `error:` example that is skipped, are both reported."""
    text = SKIPPING.replace(
        '{line: "# a comment", skip: true}', '{line: "2026-11-25T10:00:00Z bob VIEW", skip: true}'
    )
    text = text.replace('"-- AUDIT broken", error', '"-- other", error')
    path = tmp_path / "skip.yml"
    path.write_text(text, encoding="utf-8")
    messages = [p.message for p in load_parser(path).check_examples()]
    assert messages == ["should be skipped (not a record) but gave an event", "was skipped (not a record)"]


def test_bad_skip_regex_and_ambiguous_example_are_config_errors(tmp_path: Path) -> None:
    """An invalid skip regex and an example with both skip and error name their fields."""
    text = SKIPPING.replace('"^# "', '"(unclosed"').replace("skip: true}", 'skip: true, error: "x"}')
    path = tmp_path / "skip.yml"
    path.write_text(dedent(text), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_parser(path)
    fields = [p.field for p in caught.value.problems]
    assert "skip[0]" in fields
    assert "examples[1]" in fields


def test_pgaudit_server_lines_are_skipped_but_broken_audit_lines_are_not(
    parsers: dict[str, CompiledParser],
) -> None:
    """PostgreSQL's own log lines are skipped; a line that says AUDIT but does not match is dead."""
    parser = parsers["pgaudit"]
    for line in (
        "2026-11-25 02:45:30.001 UTC [41001] LOG:  database system is ready to accept connections",
        "2026-11-25 02:45:31.001 UTC [41002] alice@policedb STATEMENT:  SELECT * FROM persons",
    ):
        assert parser.parse(_raw(line.encode()), INGESTED) is None
    broken = "2026-11-25 02:45:38.123 UTC [41235] alice@policedb LOG:  AUDIT: SESSION,1"
    assert isinstance(parser.parse(_raw(broken.encode()), INGESTED), DeadLetter)
    assert isinstance(parser.parse(_raw(b"random junk"), INGESTED), DeadLetter)


def test_iso8601_without_offset_is_read_in_the_configured_zone() -> None:
    """An ISO-8601 text without an offset is local time; with one (or Z) it is read as written."""
    parse = compile_timestamp(["iso8601"], "Europe/London")
    for _ in range(2):  # the second pass goes through the hour cache
        assert iso_utc(parse("2026-07-02T06:00:00") or 0) == "2026-07-02T05:00:00.000Z"
        assert iso_utc(parse("2026-07-02T06:00:00Z") or 0) == "2026-07-02T06:00:00.000Z"
        assert iso_utc(parse("2026-07-02T06:00:00+02:00") or 0) == "2026-07-02T04:00:00.000Z"
        assert iso_utc(parse("2026-07-02 06:00") or 0) == "2026-07-02T05:00:00.000Z"
        assert iso_utc(parse("2026-01-02T06:00:00.5") or 0) == "2026-01-02T06:00:00.500Z"
    assert iso_utc(compile_timestamp(["iso8601"])("2026-07-02T06:00:00") or 0) == "2026-07-02T06:00:00.000Z"


@pytest.mark.parametrize(
    "line",
    [
        'a=1 b="x y" c=\'q\\\'s\' d= e="esc \\"in\\"" a=2',
        '  k=v   z="" ',
        "k=v=w m=1",
        'user="unterminated x=1',
        "novalue here=1",
        'ok=1 "weird"=2',
    ],
)
def test_kv_fast_path_reads_what_the_pair_loop_reads(line: str) -> None:
    """The one-regex fast path and the pair-by-pair loop agree on every record, good or bad."""
    results: list[object] = []
    for decode in (
        kv_decoder(),
        kv_decoder(fast=False),
        kv_decoder(pair_separator=";"),
        kv_decoder(pair_separator=";", fast=False),
    ):
        try:
            results.append(decode(line))
        except DecodeError as exc:
            results.append(f"error: {exc}")
    assert results[0] == results[1]
    assert results[2] == results[3]
