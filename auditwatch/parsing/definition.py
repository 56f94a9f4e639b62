"""Read a parser YAML file into a frozen, validated `ParserDefinition` (every problem: file, line, field).

Everything that can be wrong in a file is found here, at load time: unknown keys, fields a parser
may not set, pattern grammar errors (with the column), unknown or cyclic definitions, bad
normaliser specs and timestamp formats. Patterns, normalisers and timestamp formats are compiled
on the way, so the runtime only assembles closures.

The file format (see parsers/*.yml for complete examples):

    name: pnc_mainframe            # unique; selects the parser for an input
    description: ...
    dataset: pnc.transactions      # -> event.dataset
    decoder: pattern               # pattern | json | csv | kv
    envelope: syslog               # optional: RFC 5424/3164 header -> syslog.* parsed fields
    id: audit_id                   # optional: the parsed field holding the source's own audit id
    whitespace: loose              # pattern decoder: a blank matches any run of blanks (or strict)
    csv: {columns: [...], delimiter: ",", quote: '"', header: true}   # header: recognise and skip it
    skip: ["^\\S+ \\S+ UTC \\[\\d+\\] (?!.*AUDIT: )"]   # optional: lines that are not records
    kv: {value_separator: "=", pair_separator: " ", quotes: "\"'"}
    lenient: false                 # true: read sloppy lines as far as possible (see below)
    timestamp_window: {earliest: "1970-01-01", max_future: 1d}   # date fields outside: dead letter
    definitions:                   # pattern decoder: named sub-patterns, or plain regexes
      HEAD: "%{13:ts} %{8:user}"
      NAMEPART: {regex: "[A-Z' -]+"}
    pattern: "..."                 # one record type, or:
    records:                       # several, tried in order, the first match wins
      - name: VIEW
        pattern: "%{HEAD} VIEW %{NOTSPACE:rec}"
        fields: {...}              # merged over the shared `fields` below
    fields:                        # canonical field -> how to fill it (auditwatch.schema.PARSER_SETTABLE)
      user.id: user                # shorthand for {from: user}
      "@timestamp": {from: ts, formats: ["%d%m%y %H%M%S"], timezone: Europe/London}
      event.action: {from: verb, normalise: lower, map: {enq: view}, default: other, required: true}
      event.category: {value: [database]}
      auditwatch.search.wildcard: {from: terms, contains_any: ["*", "%"]}
    examples:
      - {line: "...", expect: {user.id: MP012345}, ingested: "2026-11-25T12:00:00.000Z"}
      - {line: "...", error: "substring of the dead-letter reason"}
      - {line: "...", skip: true}    # not a record: neither an event nor a dead letter

A line has one of three outcomes: an event, a dead letter (with the reason), or skipped because
the parser declares it is not a record: the CSV header (`header: true`), or a line the decoder
cannot read that one of the `skip:` regexes finds (``re.search``). Skip regexes are consulted
only for lines that do not decode, so they cost nothing per event and can never hide a record
that parses; a line that decodes but fails a field is always a dead letter, as is an empty line.

Strict by default: a line that is not valid UTF-8 or holds a control character (other than tab,
CR and the newlines of a multi-line record) is a dead letter, as is a key=value body with a quote
inside an unquoted key or value or a key given twice, and RFC 5424 structured data that does not
follow the RFC. `lenient: true` reads such lines as far as it can (invalid bytes become ``\\xNN``
text, the exact bytes go to auditwatch.line.original_b64).

Every date field (``@timestamp``, ``event.created``) must fall inside `timestamp_window`: from
`earliest` (an ISO-8601 date or time, default 1970-01-01T00:00:00Z) to `max_future` (a duration,
default 1d: the allowance for a source clock running ahead) after the time the line was read;
outside it the line is a dead letter saying which bound it broke.

Examples are parsed with `ingested` (default EXAMPLE_INGESTED) as the receive time, which matters
only for year-less timestamps.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

from auditwatch import schema
from auditwatch.config.spec import Reader
from auditwatch.config.yamlsource import PathKey, YamlDocument, dotted
from auditwatch.errors import (
    DUPLICATE_NAME,
    LITERAL_REGEX,
    PATTERN_SYNTAX,
    REGEX_INVALID,
    REGEX_REFUSED,
    UNKNOWN_NAME,
    Problem,
)
from auditwatch.parsing.compile import (
    CompiledPattern,
    DefinitionError,
    check_regex_definition,
    compile_pattern,
)
from auditwatch.parsing.fields import FieldDef, merge, read_fields
from auditwatch.parsing.pattern import PatternSyntaxError, literal_regex_syntax, parse_pattern
from auditwatch.regexsafety import UnsafeRegex, check_regex
from auditwatch.timefmt import TimestampParser

DECODERS: Final = ("pattern", "json", "csv", "kv")
ENVELOPES: Final = ("syslog",)


DEFAULT_MAX_FUTURE: Final = 86400.0  # a day: the allowance for a source clock running ahead


@dataclass(frozen=True, slots=True)
class RecordDef:
    """One record type: its name, compiled pattern (pattern decoder only) and field mapping."""

    name: str
    pattern: CompiledPattern | None
    fields: tuple[FieldDef, ...]


@dataclass(frozen=True, slots=True)
class ExampleDef:
    line: str
    expect: Mapping[str, Any] | None
    error: str | None
    skip: bool
    ingested: str
    file_line: int | None
    path: str


@dataclass(frozen=True, slots=True)
class CsvOptions:
    columns: tuple[str, ...]
    delimiter: str
    quote: str
    skip_header: bool


@dataclass(frozen=True, slots=True)
class KvOptions:
    value_separator: str
    pair_separator: str
    quotes: str


@dataclass(frozen=True, slots=True)
class ParserDefinition:
    file: str
    name: str
    description: str
    dataset: str
    decoder: str
    envelope: str | None
    csv: CsvOptions | None
    kv: KvOptions | None
    records: tuple[RecordDef, ...]
    id_field: str | None
    examples: tuple[ExampleDef, ...]
    skip: re.Pattern[str] | None = None  # `skip:` regexes as one alternation; None when there are none
    warnings: tuple[Problem, ...] = ()  # not errors: e.g. regex syntax a plain-string pattern takes literally
    lenient: bool = False
    earliest: float = 0.0  # epoch seconds: date fields before this are refused
    max_future: float = DEFAULT_MAX_FUTURE  # seconds past the receive time: later dates are refused


EXAMPLE_INGESTED: Final = "2026-11-25T12:00:00.000Z"


def read_definition(doc: YamlDocument) -> ParserDefinition:
    """Validate and compile `doc`; ConfigError listing every problem (file, line, field)."""
    reader = Reader(doc)
    definition = _read(reader)
    reader.done()
    reader.raise_if_any()
    assert definition is not None  # no problems means every required part was read
    return dataclasses.replace(definition, warnings=_literal_regex_warnings(doc))


def _literal_regex_warnings(doc: YamlDocument) -> tuple[Problem, ...]:
    """A warning for each plain-string pattern or definition holding regex syntax it matches literally."""
    data = doc.data if isinstance(doc.data, dict) else {}
    strings: list[tuple[PathKey, str]] = []
    definitions = data.get("definitions")
    if isinstance(definitions, dict):
        strings += [(("definitions", k), v) for k, v in definitions.items() if isinstance(v, str)]
    if isinstance(data.get("pattern"), str):
        strings.append((("pattern",), data["pattern"]))
    records = data.get("records")
    if isinstance(records, list):
        strings += [
            (("records", i, "pattern"), r["pattern"])
            for i, r in enumerate(records)
            if isinstance(r, dict) and isinstance(r.get("pattern"), str)
        ]
    warnings = []
    for path, text in strings:
        piece = literal_regex_syntax(text)
        if piece is not None:
            message = (
                f"{piece!r} is regex syntax, but a plain string is in the pattern language, where it is "
                "literal text ([...] is an optional part): for a regular expression write "
                "{regex: '...'} and use it as %{NAME}"
            )
            line, column = doc.line_of(path), doc.column_of(path)
            warnings.append(Problem(doc.file, line, dotted(path), message, "warning", LITERAL_REGEX, column))
    return tuple(warnings)


def _read(top: Reader) -> ParserDefinition | None:
    name = top.required("name", str)
    description = top.optional("description", str, "")
    dataset = top.required("dataset", str)
    decoder = top.required("decoder", str)
    if decoder is not None and decoder not in DECODERS:
        top.problem(
            ("decoder",), f"unknown decoder '{decoder}' (one of: {', '.join(DECODERS)})", UNKNOWN_NAME
        )
    envelope = top.optional("envelope", str, None)
    if envelope is not None and envelope not in ENVELOPES:
        top.problem(("envelope",), f"unknown envelope '{envelope}' (one of: {', '.join(ENVELOPES)})")
    id_field = top.optional("id", str, None)
    whitespace = top.optional("whitespace", str, "loose")
    if whitespace not in ("loose", "strict"):
        top.problem(("whitespace",), "must be 'loose' (a blank matches any run of blanks) or 'strict'")

    lenient = top.optional("lenient", bool, False)
    earliest, max_future = _timestamp_window(top.section("timestamp_window"))
    csv_options = _csv_options(top.section("csv")) if decoder == "csv" else None
    kv_options = _kv_options(top.section("kv")) if decoder == "kv" else None
    for other in ("csv", "kv"):
        if other != decoder and top.has(other):
            top.problem((other,), f"'{other}' options given but the decoder is '{decoder}'")
            top.optional(other, object, None)

    skip = _skip(top)
    definitions = _definitions(top)
    shared_fields = read_fields(top)
    records: list[RecordDef] = []
    record_paths: list[PathKey] = []
    if decoder == "pattern":
        if top.has("pattern") == top.has("records"):
            top.problem(top.path, "the pattern decoder needs either 'pattern' (one record type) or 'records'")
        if top.has("pattern"):
            compiled = _pattern(top, "pattern", definitions, whitespace == "loose")
            records.append(RecordDef(str(name), compiled, merge(shared_fields, {})))
            record_paths.append(("pattern",))
        for section in top.sections("records"):
            rname = section.required("name", str) or "?"
            compiled = _pattern(section, "pattern", definitions, whitespace == "loose")
            own = read_fields(section)
            section.done()
            records.append(RecordDef(rname, compiled, merge(shared_fields, own)))
            record_paths.append(section.path)
        _unique_record_names(top, records)
    else:
        for key in ("pattern", "records", "definitions"):
            if top.has(key):
                top.problem((key,), f"'{key}' is only for the pattern decoder")
                top.optional(key, object, None)
        records.append(RecordDef(str(decoder), None, merge(shared_fields, {})))
        record_paths.append(("fields",))
    for record, where in zip(records, record_paths, strict=True):
        if not any(f.target == "@timestamp" for f in record.fields):
            top.problem(where, f"record type '{record.name}' does not set @timestamp")
    examples = _examples(top)
    if top.problems or name is None or dataset is None or decoder is None:
        return None
    return ParserDefinition(
        file=top.doc.file,
        name=name,
        description=description,
        dataset=dataset,
        decoder=decoder,
        envelope=envelope,
        csv=csv_options,
        kv=kv_options,
        records=tuple(records),
        id_field=id_field,
        examples=examples,
        skip=skip,
        lenient=bool(lenient),
        earliest=earliest,
        max_future=max_future,
    )


def _timestamp_window(section: Reader) -> tuple[float, float]:
    earliest = section.optional("earliest", object, None)
    max_future = section.optional("max_future", object, None)
    section.done()
    start = 0.0
    if earliest is not None:
        when = _epoch_of(earliest)
        if when is None:
            section.problem((*section.path, "earliest"), "must be an ISO-8601 date or time, e.g. 2015-01-01")
        else:
            start = when
    ahead = DEFAULT_MAX_FUTURE
    if max_future is not None:
        try:
            ahead = _duration(str(max_future))
        except ValueError as exc:
            section.problem((*section.path, "max_future"), str(exc))
    return start, ahead


_DURATION: Final = re.compile(r"(\d+)\s*(s|m|h|d|w)")
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def _duration(text: str) -> float:
    """`"1d"` -> 86400.0 (the rule files' duration syntax)."""
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise ValueError(f"invalid duration '{text}': write e.g. 30s, 10m, 2h, 1d")
    return float(int(match.group(1)) * _UNITS[match.group(2)])


def _epoch_of(value: object) -> float | None:
    """Epoch seconds of a YAML date, datetime or ISO-8601 text (a date or naive time is UTC)."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
    if isinstance(value, str):
        return TimestampParser(["iso8601"])(value.strip())
    return None


def _skip(top: Reader) -> re.Pattern[str] | None:
    regexes = top.string_list("skip")
    good: list[str] = []
    for index, regex in enumerate(regexes):
        try:
            re.compile(regex)
            check_regex(regex)
        except (re.error, RecursionError) as exc:
            top.problem(("skip", index), f"invalid regex: {_regex_error(exc)}", REGEX_INVALID)
            continue
        except UnsafeRegex as exc:
            top.problem(
                ("skip", index), f"regex refused (it could hang on a crafted line): {exc}", REGEX_REFUSED
            )
            continue
        good.append(f"(?:{regex})")
    return re.compile("|".join(good)) if good else None


def _unique_record_names(top: Reader, records: list[RecordDef]) -> None:
    seen: set[str] = set()
    for index, record in enumerate(records):
        if record.name in seen:
            top.problem(("records", index), f"duplicate record type name '{record.name}'", DUPLICATE_NAME)
        seen.add(record.name)


def _csv_options(section: Reader) -> CsvOptions:
    columns = section.string_list("columns")
    if not columns:
        section.problem(section.path or ("csv",), "missing required key 'columns' (column names, in order)")
    delimiter = section.optional("delimiter", str, ",")
    quote = section.optional("quote", str, '"')
    header = section.optional("header", bool, False)
    for key, value in (("delimiter", delimiter), ("quote", quote)):
        if value is not None and len(value) != 1:
            section.problem((*section.path, key), "must be exactly one character")
    section.done()
    return CsvOptions(columns, delimiter or ",", quote or '"', bool(header))


def _kv_options(section: Reader) -> KvOptions:
    value_sep = section.optional("value_separator", str, "=")
    pair_sep = section.optional("pair_separator", str, " ")
    quotes = section.optional("quotes", str, "\"'")
    if not value_sep:
        section.problem((*section.path, "value_separator"), "must not be empty")
    if not pair_sep:
        section.problem((*section.path, "pair_separator"), "must not be empty")
    section.done()
    return KvOptions(value_sep or "=", pair_sep or " ", quotes if quotes is not None else "\"'")


def _definitions(top: Reader) -> tuple[dict[str, str], dict[str, str]]:
    """(pattern definitions, regex definitions): a string is a pattern, ``{regex: ...}`` a plain regex."""
    section = top.section("definitions")
    patterns: dict[str, str] = {}
    regexes: dict[str, str] = {}
    for key in list(section.data):
        where = (*section.path, key)
        if not (key[:1].isalpha() or key[:1] == "_") or not key.replace("_", "a").isalnum():
            section.optional(key, object, None)
            section.problem(where, "a definition name uses letters, digits and '_'")
            continue
        if isinstance(section.data[key], dict):
            inner = section.section(key)
            regex = inner.required("regex", str, check_regex_definition)
            inner.done()
            if regex is not None:
                regexes[key] = regex
            continue
        value: str | None = section.required(key, str)
        if value is None:
            continue
        try:
            parse_pattern(value)
        except PatternSyntaxError as exc:
            section.problem_in(where, (1, exc.column), exc.message, PATTERN_SYNTAX)
            continue
        patterns[key] = value
    return patterns, regexes


def _pattern(
    reader: Reader, key: str, definitions: tuple[dict[str, str], dict[str, str]], loose: bool
) -> CompiledPattern | None:
    text: str | None = reader.required(key, str)
    if text is None:
        return None
    try:
        return compile_pattern(text, definitions[0], loose, definitions[1])
    except PatternSyntaxError as exc:
        reader.problem_in((*reader.path, key), (1, exc.column), exc.message, exc.code or PATTERN_SYNTAX)
    except DefinitionError as exc:
        used_by = f"{exc.message} (used by {dotted((*reader.path, key))})"
        if exc.column is None:
            reader.problem(("definitions", exc.name), used_by, PATTERN_SYNTAX)
        else:
            reader.problem_in(("definitions", exc.name), (1, exc.column), used_by, PATTERN_SYNTAX)
    return None


def _examples(top: Reader) -> tuple[ExampleDef, ...]:
    out: list[ExampleDef] = []
    for example in top.sections("examples"):
        line = example.required("line", str)
        expect = example.optional("expect", dict, None)
        error = example.optional("error", str, None)
        skip = example.optional("skip", bool, False)
        ingested = example.optional("ingested", str, EXAMPLE_INGESTED)
        if (expect is not None) + (error is not None) + bool(skip) != 1:
            example.problem(
                example.path,
                "needs exactly one of 'expect' (fields), 'error' (a reason) or 'skip: true' (not a record)",
            )
        if expect:
            for key in expect:
                if key not in schema.EVENT_FIELDS:
                    example.problem((*example.path, "expect", key), f"'{key}' is not a canonical field")
        example.done()
        if line is not None:
            path = dotted(example.path)
            out.append(
                ExampleDef(line, expect, error, bool(skip), ingested, top.doc.line_of(example.path), path)
            )
    return tuple(out)


def _regex_error(exc: Exception) -> str:
    """re.error's own message, or a plain one for a regex nested too deeply to parse."""
    return "groups nested too deeply" if isinstance(exc, RecursionError) else str(exc)
