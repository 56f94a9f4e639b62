"""Hostile lines and hostile config: timestamps outside the window, crafted lines that made the
shipped parsers backtrack for seconds, regexes that could hang, strict decoding and its opt-out."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import structlog

from auditwatch.commands.cli import main
from auditwatch.errors import ConfigError
from auditwatch.model import AccessEvent, DeadLetter, RawLine
from auditwatch.parsing import CompiledParser, load_parser, load_parsers
from auditwatch.parsing.decoders import kv as kv_module
from auditwatch.parsing.decoders import syslog as syslog_module
from auditwatch.regexsafety import check_regex
from auditwatch.timefmt import format_to_regex

REPO = Path(__file__).resolve().parents[3]
PARSERS = REPO / "parsers"
INGESTED = "2026-11-25T12:00:00.000Z"
MIB = 1 << 20
BUDGET = 0.010  # seconds: the bound for one crafted line

# one good line per shipped parser with the year as {Y} (4 digits) or {y} (2 digits)
TEMPLATES = {
    "rms_json": (
        '{{"audit_id":"R-1","ts":"{Y}-11-25T09:45:12Z","action":"VIEW","user":{{"staff_no":"MP012345"}}}}'
    ),
    "custody_syslog": (
        "<134>1 {Y}-11-25T09:45:12.345Z custody01 custodyd 42 ACCESS - eid=C-1 user=MP012345 action=view"
    ),
    "pgaudit": (
        "{Y}-11-25 02:45:38.123 UTC [41235] alice@policedb LOG:  AUDIT: "
        "SESSION,1,1,READ,SELECT,TABLE,public.person,SELECT 1,<not logged>"
    ),
    "intel_csv": 'INT-1,25/11/{Y} 09:45:12,MP012345,"Jones, Alan",Open,Intel,INT/1,"SMITH, John",,,,07,,WS-1',
    "pnc_mainframe": "2511{y} 094512 MP012345 TRM0042 QP  ENQ PERSON SMITH/JOHN/19800201 RSN=07 HITS=003",
}


def _raw(data: bytes, source: str = "src") -> RawLine:
    return RawLine(source, "/var/log/x.log", "key", 0, len(data) + 1, data, len(data))


def _parse(parser: CompiledParser, line: str | bytes, ingested: str = INGESTED) -> AccessEvent | DeadLetter:
    data = line.encode() if isinstance(line, str) else line
    result = parser.parse(_raw(data), ingested)
    assert result is not None
    return result


def _best_of_three(action: Callable[[], object]) -> float:
    """The fastest of three runs: a scheduling hiccup on a busy machine does not fail the bound,
    a backtracking regex is slow every time."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def _copy_with(tmp_path: Path, name: str, extra: str) -> Path:
    path = tmp_path / f"{name}.yml"
    path.write_text((PARSERS / f"{name}.yml").read_text(encoding="utf-8") + "\n" + extra, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def parsers() -> dict[str, CompiledParser]:
    return load_parsers(PARSERS)


@pytest.fixture(autouse=True)
def _structlog_defaults() -> Iterator[None]:
    """The CLI binds its log output to the (captured) stderr of the moment; undo that afterwards so
    later tests do not log into a closed capture."""
    yield
    structlog.reset_defaults()


# --- timestamps outside the window ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_a_good_line_of_each_parser_is_inside_the_window(
    parsers: dict[str, CompiledParser], name: str
) -> None:
    """The template line parses with this year's date (so the failures below are about the year)."""
    assert isinstance(_parse(parsers[name], TEMPLATES[name].format(Y="2026", y="26")), AccessEvent)


@pytest.mark.parametrize("name", sorted(set(TEMPLATES) - {"pnc_mainframe"}))
@pytest.mark.parametrize(
    ("year", "bound"), [("0001", "earliest"), ("1969", "earliest"), ("9999", "max_future")]
)
def test_a_year_outside_the_window_is_a_dead_letter(
    parsers: dict[str, CompiledParser], name: str, year: str, bound: str
) -> None:
    """Year 0001 and 9999 (and 1969) become dead letters naming the bound, for every 4-digit-year parser."""
    result = _parse(parsers[name], TEMPLATES[name].format(Y=year))
    assert isinstance(result, DeadLetter)
    assert result.reason.startswith(f"field @timestamp: {year}-")
    assert f"timestamp_window.{bound}" in result.reason


@pytest.mark.parametrize(("yy", "bound"), [("69", "earliest"), ("68", "max_future")])
def test_two_digit_years_at_both_ends_are_dead_letters(
    parsers: dict[str, CompiledParser], yy: str, bound: str
) -> None:
    """pnc_mainframe's %y cannot say 0001 or 9999: its extremes (1969, 2068) are refused instead."""
    result = _parse(parsers["pnc_mainframe"], TEMPLATES["pnc_mainframe"].format(y=yy))
    assert isinstance(result, DeadLetter)
    assert f"timestamp_window.{bound}" in result.reason


def test_the_window_is_configurable_per_parser(tmp_path: Path) -> None:
    """`earliest` and `max_future` move the bounds; the default allowance is one day ahead."""
    path = _copy_with(tmp_path, "rms_json", 'timestamp_window: {earliest: "2020-01-01", max_future: 1h}\n')
    parser = load_parser(path)
    line = TEMPLATES["rms_json"]
    assert isinstance(_parse(parser, line.format(Y="2019")), DeadLetter)
    assert isinstance(_parse(parser, line.format(Y="2020")), AccessEvent)
    ingested_before = "2026-11-25T08:00:00.000Z"  # the event (09:45:12) is 1h45m after it
    assert isinstance(_parse(parser, line.format(Y="2026"), ingested_before), DeadLetter)
    assert isinstance(_parse(parser, line.format(Y="2026"), "2026-11-25T09:00:00.000Z"), AccessEvent)
    shipped = load_parser(PARSERS / "rms_json.yml")
    assert isinstance(_parse(shipped, line.format(Y="2026"), ingested_before), AccessEvent)
    assert isinstance(_parse(shipped, line.format(Y="2026"), "2026-11-24T09:00:00.000Z"), DeadLetter)


def test_a_bad_window_is_a_located_config_error(tmp_path: Path) -> None:
    """A window that cannot be read names the file, line and key."""
    path = _copy_with(tmp_path, "rms_json", "timestamp_window: {earliest: soon, max_future: 3 days}\n")
    with pytest.raises(ConfigError) as caught:
        load_parser(path)
    text = str(caught.value)
    line = path.read_text().count("\n")
    assert f"{path}:{line}:20: AW104 [timestamp_window.earliest] must be an ISO-8601 date or time" in text
    assert f"{path}:{line}:36: AW104 [timestamp_window.max_future] invalid duration '3 days'" in text


def test_event_created_is_checked_against_the_window_too(tmp_path: Path) -> None:
    """Every date field is range-checked, not only @timestamp."""
    path = _copy_with(tmp_path, "rms_json", "")
    text = path.read_text().replace(
        "fields:\n", "fields:\n  event.created: {from: created, formats: [iso8601], required: false}\n", 1
    )
    path.write_text(text)
    parser = load_parser(path)
    good = TEMPLATES["rms_json"].format(Y="2026")
    assert isinstance(_parse(parser, good[:-1] + ',"created":"2026-11-25T09:00:00Z"}'), AccessEvent)
    dead = _parse(parser, good[:-1] + ',"created":"9999-01-01T00:00:00Z"}')
    assert isinstance(dead, DeadLetter)
    assert dead.reason.startswith("field event.created: 9999-01-01")


# --- crafted lines: each parses or dead-letters within the budget ------------------------------

# the lines from the issue: seconds to minutes of backtracking before
CRAFTED = [
    ("pnc_mainframe", "2511" + " " * 400),
    ("pnc_mainframe", "2511" + " " * 1100),
    (
        "custody_syslog",
        '<134>1 2026-11-25T09:45:12Z h a p m [x@1 k="' + "a" * 40_000 + '"] eid=1 user=MP1 action=view',
    ),
    (
        "custody_syslog",
        "<134>1 2026-11-25T09:45:12Z h a p m [x@1 " + "a" * 40_000 + "] eid=1 user=MP1 action=view",
    ),
    ("pgaudit", "2026-11-25 02:45:38.123 UTC [41235] " + "e@" * 12_000),
]
# 1 MiB lines (max_line_bytes) of the same and other shapes: linear work, so a generous bound
BIG = [
    ("pnc_mainframe", "251125 094512 " + " " * MIB),
    ("pnc_mainframe", "251125 094512 MP012345 TRM0042 QP  ENQ PERSON " + "A/" * (MIB // 2)),
    ("custody_syslog", "<134>1 2026-11-25T09:45:12Z h a p m [x@1 k=" + "a" * MIB + "] eid=1"),
    ("custody_syslog", '<134>1 2026-11-25T09:45:12Z h a p m - user="' + "\\a" * (MIB // 2)),
    ("custody_syslog", "<134>1 2026-11-25T09:45:12Z h a p m - " + "k=" * (MIB // 2)),
    ("custody_syslog", "<134>Nov 25 09:45:12 h app: " + "a=b " * (MIB // 4)),
    ("pgaudit", "2026-11-25 02:45:38.123 UTC [41235] " + "e@" * (MIB // 2)),
    ("pgaudit", "2026-11-25 02:45:38.123 UTC [41235] a@b LOG:  AUDIT: S,1,1,R," + '"",' * (MIB // 3)),
    ("pgaudit", "2026-11-25 02:45:38.123 UTC [41235] a@b LOG:  AUDIT: S,1,1,R," + "," * MIB),
    ("intel_csv", '"' + "a" * MIB),
    ("intel_csv", "," * MIB),
    ("rms_json", "[" * MIB),
    ("rms_json", '{"a":' * 100_000),
]
BIG_BOUND = 2.0  # seconds; backtracking on 1 MiB would take minutes to hours


@pytest.mark.parametrize(("name", "line"), CRAFTED, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CRAFTED)])
def test_a_crafted_line_takes_less_than_10_ms(
    parsers: dict[str, CompiledParser], name: str, line: str
) -> None:
    """The issue's lines that made the shipped parsers backtrack for seconds now end within 10 ms."""
    parser = parsers[name]
    raw = _raw(line.encode())
    result = parser.parse(raw, INGESTED)  # an event, a dead letter or a skip; never an exception
    assert result is None or isinstance(result, AccessEvent | DeadLetter)
    assert _best_of_three(lambda: parser.parse(raw, INGESTED)) < BUDGET


@pytest.mark.parametrize(("name", "line"), BIG, ids=[f"{n}-{i}" for i, (n, _) in enumerate(BIG)])
def test_a_1_mib_crafted_line_ends_in_linear_time(
    parsers: dict[str, CompiledParser], name: str, line: str
) -> None:
    """1 MiB lines of hostile shapes parse or dead-letter within a generous bound (no backtracking)."""
    parser = parsers[name]
    raw = _raw(line.encode())
    result = parser.parse(raw, INGESTED)
    assert result is None or isinstance(result, AccessEvent | DeadLetter)
    assert _best_of_three(lambda: parser.parse(raw, INGESTED)) < BIG_BOUND


# --- regexes that could hang are refused or run on RE2 -----------------------------------------


def test_a_parser_regex_with_nested_repeats_is_refused_with_file_and_line(tmp_path: Path) -> None:
    """`{regex: "(?:a+)+b"}` in a parser is refused at load, naming the file, line and definition."""
    path = tmp_path / "p.yml"
    path.write_text(
        "name: p\ndataset: x.y\ndecoder: pattern\n"
        "definitions:\n"
        '  BAD: {regex: "(?:a+)+b"}\n'
        'pattern: "%{TIMESTAMP_ISO8601:ts} %{BAD:x}"\n'
        'fields: {"@timestamp": {from: ts, formats: [iso8601]}}\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_parser(path)
    assert (
        f"{path}:5:9: AW203 [definitions.BAD.regex] regex refused (it could hang on a crafted line): nested"
        in str(caught.value)
    )


@pytest.mark.parametrize(
    ("pattern", "where", "line"),
    [
        ("%{DATA:a} %{DATA:b} end", "pattern", 5),  # adjacent lazy runs: quadratic on a failing line
        ("%{USERNAME:u}@%{NOTSPACE:h} %{WORD:w}", "pattern", 5),  # '@' inside both: split every way
    ],
)
def test_a_pattern_that_composes_into_a_backtracking_regex_is_refused(
    tmp_path: Path, pattern: str, where: str, line: int
) -> None:
    """Pieces that are each fine but can split the same text every way are refused at the pattern."""
    path = tmp_path / "p.yml"
    path.write_text(
        f"name: p\ndataset: x.y\ndecoder: pattern\nwhitespace: strict\npattern: {pattern!r}\n"
        'fields: {"@timestamp": {from: a, formats: [iso8601]}}\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_parser(path)
    at = f"{path}:{line}:11: AW203 [{where}]"  # column 1 of the pattern, quoted from column 10
    assert f"{at} refused: it could hang on a crafted line" in str(caught.value)


def test_check_config_refuses_a_hanging_skip_regex(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`check-config` names the file and line of a `skip:` regex that could hang."""
    parsers_dir = tmp_path / "parsers"
    parsers_dir.mkdir()
    (tmp_path / "rules").mkdir()
    path = _copy_with(parsers_dir, "rms_json", 'skip: ["(\\\\w+\\\\s?)+$"]\n')
    line = path.read_text().count("\n")
    cfg = tmp_path / "aw.yml"
    cfg.write_text(
        "inputs: [{name: a, paths: [x.log], parser: rms_json}]\n"
        "elasticsearch: {hosts: ['http://127.0.0.1:9200']}\n"
    )
    assert main(["check-config", "--config", str(cfg)]) == 2
    _out, err = capsys.readouterr()
    assert f"{path}:{line}:8: AW203 [skip[0]] regex refused (it could hang on a crafted line): nested" in err


RULE = """\
id: regex-probe
title: probe
description: a rule whose regex Python's re would backtrack on
severity: low
risk_score: 10
kind: event
condition: auditwatch.search.terms matches /{regex}/
reasons: ["{{user.id}} searched for {{auditwatch.search.terms}}"]
tests:
  should_fire:
    - name: all a
      events: [{{user.id: MP000101, event.action: search, auditwatch.search.terms: aaaa}}]
  should_not_fire:
    - name: ends in b
      events: [{{user.id: MP000101, event.action: search, auditwatch.search.terms: aaab}}]
"""


def test_a_rule_regex_re_would_hang_on_runs_on_re2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`matches /(a+)+$/` lints and tests clean, and runs in linear time (RE2) on the crafted value."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "probe.yml").write_text(RULE.format(regex="(a+)+$"))
    assert main(["rules", "lint", "--rules-dir", str(rules)]) == 0
    assert main(["rules", "test", "--rules-dir", str(rules)]) == 0
    from auditwatch.regexsafety import linear_search

    search = linear_search("(a+)+$")
    hostile = "a" * 100_000 + "!"
    assert search(hostile) is None
    assert _best_of_three(lambda: search(hostile)) < BUDGET


def test_a_rule_regex_neither_engine_can_run_safely_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A backtracking regex RE2 cannot run (a backreference) is refused by lint with file and line."""
    rules = tmp_path / "rules"
    rules.mkdir()
    path = rules / "probe.yml"
    path.write_text(RULE.format(regex="(a+)+\\1"))
    assert main(["rules", "lint", "--rules-dir", str(rules)]) != 0
    out, err = capsys.readouterr()
    assert f"{path}:7:44: AW302 [condition] regex refused: nested" in out + err
    assert "RE2" in out + err


# --- every regex the decoders and compilers build is linear-time --------------------------------


def test_every_decoder_regex_passes_the_linear_time_check() -> None:
    """The syslog envelope's and the kv decoder's own regexes pass the same check as user regexes."""
    for regex in syslog_module.REGEXES:
        check_regex(regex.pattern, regex.flags, full_match=True)
    for args in [("=", " ", "\"'"), ("=", ";", "\"'"), (":", " | ", '"'), ("=", " ", "")]:
        for lenient in (False, True):
            regexes = kv_module.kv_regexes(*args, lenient=lenient)
            for kv_regex in (regexes.pair, regexes.whole, regexes.split):
                if kv_regex is not None:
                    check_regex(kv_regex.pattern, kv_regex.flags, full_match=True)


def test_every_shipped_pattern_and_timestamp_format_passes(parsers: dict[str, CompiledParser]) -> None:
    """The compiled record patterns and the timestamp format regexes are linear-time by the same check."""
    for parser in parsers.values():
        for record in parser.definition.records:
            if record.pattern is not None:
                check_regex(record.pattern.regex.pattern, record.pattern.regex.flags, full_match=True)
    for fmt in ["iso8601", "%d/%m/%Y %H:%M:%S", "%b %d %H:%M:%S", "%d%m%y %H%M%S", "%Y-%m-%d %H:%M:%S.%f"]:
        check_regex(r"\s*" + format_to_regex(fmt) + r"\s*", full_match=True)


# --- strict decoding and the lenient opt-out ---------------------------------------------------

CUSTODY = "<134>1 2026-11-25T09:45:12Z custody01 custodyd 42 ACCESS - eid=C-1 user=MP012345 action=view"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (CUSTODY + " detainee_id=PER\x01123", "control character U+0001 at column 109"),
        (CUSTODY + ' detainee_id=PER"123', "kv: a quote character inside an unquoted key or value"),
        (CUSTODY + " user=MP054321", "kv: the key 'user' is given twice"),
        (CUSTODY + " detainee_id", "kv: expected key=value"),
        (CUSTODY.replace(" - ", " [meta@1 site=KX] "), "syslog: RFC 5424 structured data does not follow"),
        (CUSTODY.replace(" - ", ' [meta@1 site="K]X"] '), "syslog: RFC 5424 structured data does not follow"),
        (CUSTODY.replace("custody01", "cust\u00f6dy01"), "syslog: an RFC 5424 header field is too long"),
        (CUSTODY + " note=caf\x85", "control character U+0085"),
    ],
)
def test_malformed_custody_lines_are_dead_letters(
    parsers: dict[str, CompiledParser], line: str, reason: str
) -> None:
    """A control character, a stray quote, a repeated key or bad structured data: never guessed at."""
    result = _parse(parsers["custody_syslog"], line)
    assert isinstance(result, DeadLetter)
    assert reason in result.reason
    assert result.raw.data == line.encode()


def test_the_lenient_custody_parser_reads_what_it_can(tmp_path: Path) -> None:
    """`lenient: true` reads the same lines as they stand (the last of a repeated key wins)."""
    parser = load_parser(_copy_with(tmp_path, "custody_syslog", "lenient: true\n"))
    control = _parse(parser, CUSTODY + " detainee_id=PER\x01123")
    assert isinstance(control, AccessEvent)
    assert control.fields["auditwatch.subject.person_id"] == "PER\x01123"
    quote = _parse(parser, CUSTODY + ' detainee_id=PER"123')
    assert isinstance(quote, AccessEvent)
    assert quote.fields["auditwatch.subject.person_id"] == 'PER"123'
    twice = _parse(parser, CUSTODY + " user=MP054321")
    assert isinstance(twice, AccessEvent)
    assert twice.fields["user.id"] == "MP054321"
    sd = _parse(parser, CUSTODY.replace(" - ", ' [meta@1 site="K]X" bad] '))
    assert isinstance(sd, AccessEvent)


def test_well_formed_structured_data_is_read_with_escapes(parsers: dict[str, CompiledParser]) -> None:
    """RFC 5424 escapes inside a PARAM-VALUE are undone; several elements and parameters are read."""
    line = CUSTODY.replace(" - ", r' [meta@1 site="K\]X" note="say \"hi\" \\ ok"][b@2 n="1"] ')
    event = _parse(parsers["custody_syslog"], line)
    assert isinstance(event, AccessEvent)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_invalid_utf8_is_a_dead_letter_in_every_parser(parsers: dict[str, CompiledParser], name: str) -> None:
    """A byte that is not UTF-8 makes the line a dead letter that keeps the exact bytes."""
    good = TEMPLATES[name].format(Y="2026", y="26").encode()
    data = good[:-3] + b"\xe9" + good[-3:]  # inside the last value of each format
    result = _parse(parsers[name], data)
    assert isinstance(result, DeadLetter)
    assert result.reason.startswith("invalid UTF-8 at byte ")
    assert result.raw.data == data


def test_a_character_cut_by_the_line_cap_is_not_invalid_utf8(parsers: dict[str, CompiledParser]) -> None:
    """A line capped at max_line_bytes inside a multi-byte character is read up to the cut."""
    line = TEMPLATES["pnc_mainframe"].format(y="26").replace("SMITH", "SMÏTH").encode()
    cut = line.index("Ï".encode()) + 1
    raw = RawLine("src", "/x", "key", 0, len(line) + 1, line[:cut], len(line), "0" * 40)
    result = parsers["pnc_mainframe"].parse(raw, INGESTED)
    assert isinstance(result, DeadLetter)  # the cut line no longer matches the pattern ...
    assert "invalid UTF-8" not in result.reason  # ... but that is not what it is blamed on
    assert "line truncated" in result.reason
