"""Broken parser files: every problem is reported at once with file, line and dotted field."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from auditwatch.errors import ConfigError
from auditwatch.parsing import load_parser, load_parsers

GOOD = """\
name: tiny
dataset: tiny.audit
decoder: pattern
records:
  - name: VIEW
    pattern: "%{TIMESTAMP_ISO8601:ts} %{WORD:user} VIEW %{NOTSPACE:rec}"
    fields:
      event.action: {value: view}
      auditwatch.record.id: rec
fields:
  "@timestamp": {from: ts, formats: [iso8601]}
  user.id: {from: user, required: true}
"""


def _write(tmp_path: Path, text: str, name: str = "p.yml") -> Path:
    path = tmp_path / name
    path.write_text(dedent(text), encoding="utf-8")
    return path


def _problems(path: Path) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ConfigError) as caught:
        load_parser(path)
    for problem in caught.value.problems:
        assert problem.file == str(path)
    return [(p.line, p.field, p.message) for p in caught.value.problems]


def test_good_file_loads(tmp_path: Path) -> None:
    """The minimal file loads with its name, dataset and path."""
    parser = load_parser(_write(tmp_path, GOOD))
    assert (parser.name, parser.dataset, parser.path) == ("tiny", "tiny.audit", str(tmp_path / "p.yml"))


def test_grammar_error_names_line_field_and_column(tmp_path: Path) -> None:
    """A pattern grammar error names the line of the pattern, its dotted field and the column."""
    text = GOOD.replace("VIEW %{NOTSPACE:rec}", "VIEW %{NOTSPACE:rec")
    assert _problems(_write(tmp_path, text)) == [(6, "records[0].pattern", "'%{' is never closed with '}'")]
    with pytest.raises(ConfigError) as caught:
        load_parser(tmp_path / "p.yml")
    assert caught.value.problems[0].column == 57  # column 43 of a pattern that starts at column 15


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    """Unknown keys, bad targets, bad normalisers and an unknown decoder are all collected."""
    text = GOOD.replace("decoder: pattern", "decoder: pattern\ncolour: blue").replace(
        "  user.id: {from: user, required: true}",
        "  user.id: {from: user, required: yes please}\n"
        "  user.colour: user\n"
        "  auditwatch.terminal: {from: user, normalise: shout}\n"
        "  event.ingested: user\n"
        "  auditwatch.reason.code: {from: user, sorted: true}",
    )
    problems = _problems(_write(tmp_path, text))
    fields = {field: (line, message) for line, field, message in problems}
    assert fields["colour"] == (4, "unknown key 'colour'")
    assert fields["fields.user.id.required"][1] == "must be true or false"
    assert fields["fields.user.colour"] == (
        14,
        "'user.colour' is not a field a parser may set (see auditwatch.schema)",
    )
    assert "unknown normaliser 'shout'" in fields["fields.auditwatch.terminal.normalise"][1]
    assert fields["fields.event.ingested"][0] == 16
    assert fields["fields.auditwatch.reason.code.sorted"][1] == "unknown key 'sorted'"


def test_missing_timestamp_and_bad_formats(tmp_path: Path) -> None:
    """A record type without @timestamp, or a timestamp without formats, is reported."""
    text = GOOD.replace('  "@timestamp": {from: ts, formats: [iso8601]}\n', "")
    problems = _problems(_write(tmp_path, text))
    assert (5, "records[0]", "record type 'VIEW' does not set @timestamp") in problems
    text = GOOD.replace("formats: [iso8601]", "timezone: Europe/Paris")
    assert _problems(_write(tmp_path, text))[0][1:] == (
        "fields.@timestamp.formats",
        "a date field read from a parsed field needs 'formats' (a list of formats)",
    )
    text = GOOD.replace("formats: [iso8601]", "formats: [iso8601], timezone: Mars/Base")
    assert _problems(_write(tmp_path, text))[0][1:] == (
        "fields.@timestamp.timezone",
        "unknown time zone 'Mars/Base'",
    )


def test_definition_cycle_and_unknown_reference(tmp_path: Path) -> None:
    """Definition cycles are reported on the definition, unknown names on the pattern with column."""
    text = GOOD.replace("records:", 'definitions:\n  A: "x %{B}"\n  B: "y %{A}"\nrecords:').replace(
        "VIEW %{NOTSPACE:rec}", "VIEW %{A:rec} %{NOPE}"
    )
    problems = _problems(_write(tmp_path, text))
    assert problems[0][1] == "definitions.A"
    assert "cycle: A -> B -> A" in problems[0][2]
    text = GOOD.replace("VIEW %{NOTSPACE:rec}", "VIEW %{NOPE:rec}")
    line, field, message = _problems(_write(tmp_path, text))[0]
    assert (line, field) == (6, "records[0].pattern")
    assert message.startswith("unknown pattern name 'NOPE'")
    with pytest.raises(ConfigError) as caught:
        load_parser(tmp_path / "p.yml")
    assert caught.value.problems[0].column == 57


def test_regex_definition_must_not_capture(tmp_path: Path) -> None:
    """A regex definition with a capturing group is refused (fields are named in patterns)."""
    text = GOOD.replace("records:", 'definitions:\n  R: {regex: "(a|b)"}\nrecords:')
    problems = _problems(_write(tmp_path, text))
    assert problems == [
        (5, "definitions.R.regex", "a regex definition must not capture: write (?:...) instead of (...)")
    ]


def test_wrong_decoder_options_and_examples(tmp_path: Path) -> None:
    """Options for another decoder, a csv without columns and malformed examples are reported."""
    text = """\
    name: c
    dataset: c.audit
    decoder: csv
    csv: {delimiter: ";;"}
    kv: {value_separator: ":"}
    fields:
      "@timestamp": {from: t, formats: [iso8601]}
    examples:
      - line: "a;b"
      - line: "x"
        expect: {no.such.field: 1}
        error: boom
    """
    problems = _problems(_write(tmp_path, text))
    fields = [field for _, field, _ in problems]
    assert "csv" in fields
    assert "csv.delimiter" in fields
    assert "kv" in fields
    assert fields.count("examples[0]") == 1
    assert "examples[1].expect.no.such.field" in fields


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    """A YAML syntax error is a ConfigError with the file and line."""
    path = _write(tmp_path, "name: x\ndataset: [unclosed\n")
    with pytest.raises(ConfigError) as caught:
        load_parser(path)
    assert caught.value.problems[0].file == str(path)
    assert caught.value.problems[0].line is not None


def test_load_parsers_collects_all_files_and_duplicate_names(tmp_path: Path) -> None:
    """Problems from every file come in one ConfigError; a duplicate parser name is one of them."""
    _write(tmp_path, GOOD, "a.yml")
    _write(tmp_path, GOOD, "b.yml")
    _write(tmp_path, GOOD.replace("decoder: pattern", "decoder: xml"), "c.yml")
    (tmp_path / "notes.txt").write_text("not a parser")
    with pytest.raises(ConfigError) as caught:
        load_parsers(tmp_path)
    problems = {(Path(p.file).name, p.field): p.message for p in caught.value.problems}
    assert problems[("b.yml", "name")] == f"parser name 'tiny' is also used by {tmp_path / 'a.yml'}"
    assert problems[("c.yml", "decoder")] == "unknown decoder 'xml' (one of: pattern, json, csv, kv)"


def test_load_parsers_returns_every_parser_by_name(tmp_path: Path) -> None:
    """A directory of good files loads into a dict keyed by parser name."""
    _write(tmp_path, GOOD, "a.yml")
    _write(tmp_path, GOOD.replace("name: tiny", "name: other"), "b.yml")
    assert sorted(load_parsers(tmp_path)) == ["other", "tiny"]
