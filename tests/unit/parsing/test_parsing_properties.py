"""Property tests (Hypothesis): every decoder, every shipped parser and the pattern compiler give
an answer or a located error for any input, never another exception, within a bounded time.

Short and deterministic in the suite; ``deploy/dev/fuzz.sh`` runs the same properties longer."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditwatch.model import AccessEvent, DeadLetter, RawLine
from auditwatch.parsing import CompiledParser, load_parsers
from auditwatch.parsing.compile import DefinitionError, check_regex_definition, compile_pattern
from auditwatch.parsing.decoders import DecodeError, NotARecord
from auditwatch.parsing.decoders.csv import csv_decoder
from auditwatch.parsing.decoders.json import decode_json
from auditwatch.parsing.decoders.kv import kv_decoder
from auditwatch.parsing.decoders.syslog import split_syslog
from auditwatch.parsing.pattern import PatternSyntaxError
from auditwatch.testing.fuzzing import PROPERTY, mutated

REPO = Path(__file__).resolve().parents[3]
INGESTED = "2026-11-25T12:00:00.000Z"

SEEDS = {
    "rms_json": [
        '{"audit_id":"R-1","ts":"2026-11-25T09:45:12.000+01:00","action":"VIEW",'
        '"user":{"staff_no":"mp678236","display_name":"PC A"},"record":{"type":"person","id":"P1"},'
        '"subject":{"person_id":"P1","dob":"1960-04-18"}}'
    ],
    "pnc_mainframe": [
        "121026 074438 MP678236 TRM8236 QP  ENQ PERSON BROWN/EMILY/19920315 RSN=03 REF=OCC/26/6 HITS=001",
        "251125 101500 MP054321 TRM0107 QB  BLK PERSON SMI*/J*/* RSN=09 HITS=147",
        "251125 101500 MP054321 TRM0107 QV  ENQ VEHICLE VRM=AB12CDE RSN=09 HITS=1",
    ],
    "custody_syslog": [
        '<134>1 2026-11-25T09:45:12.345Z custody01 custodyd 4242 ACCESS [meta@32473 site="KX" shift="late"] '
        'eid=C-1 user="mp012345" action=view detainee_id=PER/1 detainee_surname="O\'Brien" reason=07',
        "<134>Nov 25 09:45:12 custody-old custodyd[311]: eid=L-77 user=MP012345 action=print custody_ref=C/1",
    ],
    "intel_csv": [
        'INT-000451,25/11/2026 09:45:12,MP012345,"Jones, Alan",Open,Intel,INT/26/00451,"SMITH, John",'
        "01/02/1980,,,07,op/kestrel,WS-INT-07"
    ],
    "pgaudit": [
        "2026-11-25 02:45:38.123 UTC [41235] alice@policedb LOG:  AUDIT: SESSION,2,1,WRITE,UPDATE,TABLE,"
        "public.person,\"UPDATE person SET surname = 'O''Brien' WHERE id = 2\",<not logged>",
        "2026-11-25 02:45:30.001 UTC [41001] LOG:  checkpoint starting: time",
    ],
}
# the characters each format is made of, and a few hostile ones
STRUCTURE = {
    "rms_json": '{}[]":,\\ a1.-\x00é',
    "pnc_mainframe": " /*'-=AZ09\t",
    "custody_syslog": "<>[]\"=\\ -:1aZ@'\x01é\u2028",
    "intel_csv": ',"\n\r a1/:',
    "pgaudit": " @,\"'[]:.-a1AUDIT",
}


@pytest.fixture(scope="module")
def parsers() -> dict[str, CompiledParser]:
    return load_parsers(REPO / "parsers")


def _check_outcome(parser: CompiledParser, data: bytes) -> None:
    raw = RawLine("src", "/x.log", "key", 0, len(data) + 1, data, len(data))
    result = parser.parse(raw, INGESTED)
    assert result is None or isinstance(result, AccessEvent | DeadLetter)
    if isinstance(result, DeadLetter):
        assert not result.reason.startswith("internal error"), result.reason
        assert result.raw.data == data


@pytest.mark.parametrize("name", sorted(SEEDS))
@PROPERTY
@given(data=st.data())
def test_a_shipped_parser_gives_an_event_a_dead_letter_or_a_skip(
    parsers: dict[str, CompiledParser], name: str, data: st.DataObject
) -> None:
    """Mutations of good lines (long repeats of structural characters included): an outcome, fast."""
    line = data.draw(mutated(SEEDS[name], STRUCTURE[name]))
    _check_outcome(parsers[name], line.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("name", sorted(SEEDS))
@PROPERTY
@given(blob=st.binary(max_size=2000))
def test_a_shipped_parser_survives_arbitrary_bytes(
    parsers: dict[str, CompiledParser], name: str, blob: bytes
) -> None:
    """Any bytes at all (invalid UTF-8, NULs, control characters): an outcome, never an exception."""
    _check_outcome(parsers[name], blob)


def _decodes_or_refuses(decode: object, text: str) -> None:
    assert callable(decode)
    try:
        index, parsed = decode(text)
    except (DecodeError, NotARecord):
        return
    assert index == 0
    assert isinstance(parsed, dict)
    assert all(isinstance(key, str) for key in parsed)


KV_TEXT = mutated(["a=1 b=\"x y\" c='q' d=", 'a = 1 ; b = "x;y" ; c=z'], "=;\"' \\ab\x01\t")


@PROPERTY
@given(
    text=KV_TEXT,
    pair_separator=st.sampled_from([" ", ";", " | ", ","]),
    quotes=st.sampled_from(["\"'", '"', ""]),
    lenient=st.booleans(),
    fast=st.booleans(),
)
def test_the_kv_decoder_reads_or_refuses(
    text: str, pair_separator: str, quotes: str, lenient: bool, fast: bool
) -> None:
    """Any text, any separators, strict or lenient, fast path or pair loop: pairs or a DecodeError."""
    decode = kv_decoder("=", pair_separator, quotes, lenient=lenient, fast=fast)
    _decodes_or_refuses(decode, text)


@PROPERTY
@given(text=KV_TEXT, quotes=st.sampled_from(["\"'", '"']))
def test_the_kv_fast_path_reads_what_the_pair_loop_reads(text: str, quotes: str) -> None:
    """The one-regex fast path and the pair-by-pair loop agree on every record either accepts."""
    results: list[dict[str, object] | None] = []
    for fast in (True, False):
        try:
            results.append(kv_decoder("=", " ", quotes, fast=fast)(text)[1])
        except DecodeError:
            results.append(None)
    assert results[0] == results[1]


@PROPERTY
@given(text=mutated(SEEDS["custody_syslog"], STRUCTURE["custody_syslog"]), lenient=st.booleans())
def test_the_syslog_envelope_splits_or_refuses(text: str, lenient: bool) -> None:
    """Any text: (header fields, message) or a DecodeError."""
    try:
        fields, message = split_syslog(text, lenient)
    except DecodeError:
        return
    assert isinstance(message, str)
    assert all(key.startswith("syslog.") for key in fields)


@PROPERTY
@given(text=mutated(SEEDS["intel_csv"], STRUCTURE["intel_csv"]), header=st.booleans())
def test_the_csv_decoder_reads_or_refuses(text: str, header: bool) -> None:
    """Any text: a row of 14 cells, a header skip or a DecodeError."""
    columns = [f"c{i}" for i in range(14)]
    _decodes_or_refuses(csv_decoder(columns, skip_header=header), text)


@PROPERTY
@given(text=mutated(SEEDS["rms_json"], STRUCTURE["rms_json"]))
def test_the_json_decoder_reads_or_refuses(text: str) -> None:
    """Any text: a flat object or a DecodeError (deep nesting included)."""
    _decodes_or_refuses(decode_json, text)


# --- the pattern compiler -----------------------------------------------------------------------

PATTERN_TOKENS = [
    "%{WORD:a}", "%{NOTSPACE:b}", "%{DATA:c}", "%{GREEDYDATA:d}", "%{INT}", "%{8:e}", "%{3}",
    "%{QUOTEDSTRING:q}", "%{IP:i}", "%{USERNAME:u}", "%{TIMESTAMP_ISO8601:t}", "%{R1:r}", "%{R2}",
    "%{D1:x}", "%{UNKNOWN}", " ", "  ", "x", "=", ":", "@", "/", "[", "]", "\\[", "%", "%{", "}",
]  # fmt: skip
REGEX_TOKENS = ["a", "b", "+", "*", "?", "(", ")", "(?:", "|", "\\d", "\\s", ".", "{2,}", "[ab]", "++", "(?>"]


@st.composite
def _pattern_and_definitions(draw: st.DrawFn) -> tuple[str, dict[str, str], dict[str, str]]:
    pattern = "".join(draw(st.lists(st.sampled_from(PATTERN_TOKENS), min_size=1, max_size=12)))
    regexes = {
        name: "".join(draw(st.lists(st.sampled_from(REGEX_TOKENS), min_size=1, max_size=8)))
        for name in ("R1", "R2")
    }
    definitions = {
        "D1": "".join(draw(st.lists(st.sampled_from([*PATTERN_TOKENS[:8], " ", "-"]), max_size=4)))
    }
    return pattern, definitions, regexes


@PROPERTY
@given(spec=_pattern_and_definitions(), loose=st.booleans(), data=st.data())
def test_the_pattern_compiler_compiles_or_locates_the_problem(
    spec: tuple[str, dict[str, str], dict[str, str]], loose: bool, data: st.DataObject
) -> None:
    """Any pattern, definitions and regex definitions: a compiled regex that matches hostile text in
    bounded time, or an error naming the column or the definition; nothing else."""
    pattern, definitions, regexes = spec
    good_regexes = {}
    for name, regex in regexes.items():
        try:
            good_regexes[name] = check_regex_definition(regex)
        except ValueError:
            continue  # refused at load with the definition's file and line
    try:
        compiled = compile_pattern(pattern, definitions, loose, good_regexes)
    except (PatternSyntaxError, DefinitionError):
        return
    sample = data.draw(st.text(alphabet="ab1 x=:@/[]\"'.-", max_size=20))
    text = sample * data.draw(st.integers(1, 2000)) + data.draw(st.sampled_from(["", "!", " ", "\n"]))
    compiled.regex.fullmatch(text)  # must finish within the deadline whatever the text
