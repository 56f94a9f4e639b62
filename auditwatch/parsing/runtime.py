"""The compiled parser: RawLine -> AccessEvent | DeadLetter | None (skipped), nothing interpreted per event.

Per record type the document's constant part (event.kind, module, dataset, parser, defaults and
`value:` constants) is built once, and the fields are sorted into three groups: keywords copied
as they are (for decoders whose every field is a string that is always present, one `itemgetter`
and one `dict.update`), fields that are a pure function of one string (looked up in a bounded
cache per source field first) and the rest (closures); `specialise` turns that into one
straight-line function per record type. Per line the runtime decodes, runs it, hashes the line
once and derives the deterministic id. Nothing here raises on bad input.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Sequence
from functools import partial
from operator import itemgetter
from typing import Any, Final

import orjson

from auditwatch import schema
from auditwatch.errors import EXAMPLE_FAILED, Problem
from auditwatch.model import AccessEvent, DeadLetter, RawLine
from auditwatch.parsing.decoders import DecodeError, Decoder, NotARecord
from auditwatch.parsing.decoders.csv import csv_decoder
from auditwatch.parsing.decoders.json import decode_json
from auditwatch.parsing.decoders.kv import kv_decoder
from auditwatch.parsing.decoders.pattern import pattern_decoder
from auditwatch.parsing.decoders.syslog import split_syslog
from auditwatch.parsing.definition import ParserDefinition
from auditwatch.parsing.mapping import (
    FieldError,
    Getter,
    compile_getter,
    constant,
    is_memoisable,
    is_plain_copy,
)
from auditwatch.parsing.specialise import Fill, NestedFill, RecordPlan, generate, generate_nested
from auditwatch.timefmt import TimestampParser, iso_utc

_sha1 = hashlib.sha1
_b64 = binascii.b2a_base64
_URLSAFE: Final = bytes.maketrans(b"+/", b"-_")
_DEFAULTS: Final[dict[str, Any]] = {"event.category": ["database"], "event.type": ["access"]}
_ISO = TimestampParser(["iso8601"])
# C0 controls other than tab, LF (multi-line records) and CR, DEL and the C1 controls
_CONTROL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_C0_BYTES: Final = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])

# one record type: its generated field mapping, whether the mapping sets related.user, and (JSON
# records) the mapping reading the decoded object without flattening it, when it can
_Record = tuple[Fill, bool, NestedFill | None]
Outcome = AccessEvent | DeadLetter | None
_LineParser = Callable[[RawLine, str, float], Outcome]


def _picker(sources: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    if len(sources) == 1:
        only = sources[0]
        return lambda parsed: (parsed[only],)
    return itemgetter(*sources)


def _record(definition: ParserDefinition, index: int, present: frozenset[str] | None) -> _Record:
    """`present`: the parsed fields every decoded record of this type has, all strings (pattern and
    CSV decoders without an envelope); None when fields may be missing or of other types."""
    record = definition.records[index]
    static: dict[str, Any] = {
        "event.kind": "event",
        "event.module": "auditwatch",
        "event.dataset": definition.dataset,
        "auditwatch.parser": definition.name,
        **_DEFAULTS,
    }
    getters: list[tuple[str, str, Getter]] = []
    copies: list[tuple[str, str]] = []
    memos: list[tuple[str, str, Getter]] = []
    timestamp: Getter | None = None
    timestamp_source: str | None = None
    for spec in record.fields:
        if spec.source is None:
            static[spec.target] = constant(spec)
        elif is_plain_copy(spec):
            if present is None or spec.source in present:
                copies.append((spec.target, spec.source))
            # else: never captured by this record type, and optional: never set
        elif is_memoisable(spec):
            memos.append((spec.target, spec.source, compile_getter(spec)))
        elif spec.target == "@timestamp":
            timestamp, timestamp_source = compile_getter(spec), spec.source
        elif spec.kind == schema.DATE:
            getter = _windowed(compile_getter(spec), spec.target, definition)
            getters.append((spec.target, spec.source, getter))
        else:
            getters.append((spec.target, spec.source, compile_getter(spec)))
    if timestamp is None:  # a constant @timestamp (odd, but allowed): ISO-8601 text
        timestamp = _constant_timestamp(str(static.pop("@timestamp", "")))
    pick = _picker(tuple(s for _, s in copies)) if present is not None and copies else None
    plan = RecordPlan(
        static=static,
        timestamp_source=timestamp_source,
        timestamp=timestamp,
        window=partial(_window_at_timestamp, definition=definition),
        earliest=definition.earliest,
        max_future=definition.max_future,
        pick=pick,
        copies=tuple(copies),
        memos=tuple(memos),
        getters=tuple(getters),
        id_field=definition.id_field,
    )
    nested = generate_nested(plan) if definition.decoder == "json" and definition.envelope is None else None
    return generate(plan), any(spec.target == "related.user" for spec in record.fields), nested


def _window_at_timestamp(epoch: float, reference: float, definition: ParserDefinition) -> str | None:
    return window_reason("@timestamp", epoch, reference, definition)


def window_reason(target: str, epoch: float, reference: float, definition: ParserDefinition) -> str | None:
    """Why `epoch` is outside the parser's timestamp window (None when inside it)."""
    if epoch < definition.earliest:
        return (
            f"field {target}: {_shown(epoch)} is before the earliest accepted time "
            f"{_shown(definition.earliest)} (timestamp_window.earliest)"
        )
    latest = reference + definition.max_future
    if epoch > latest:
        return (
            f"field {target}: {_shown(epoch)} is more than {_span(definition.max_future)} after the line "
            f"was read ({_shown(reference)}; timestamp_window.max_future)"
        )
    return None


def _shown(epoch: float) -> str:
    try:
        return iso_utc(epoch)
    except (OverflowError, OSError, ValueError):  # beyond what a datetime can hold
        return f"{epoch:.0f} s from 1970"


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:g}s"


def _windowed(getter: Getter, target: str, definition: ParserDefinition) -> Getter:
    """A date field other than @timestamp (an ISO text) checked against the timestamp window."""
    parse_iso = _ISO

    def checked(value: Any, reference: float) -> Any:
        value = getter(value, reference)
        if value is not None:
            epoch = parse_iso(value)
            reason = window_reason(target, epoch, reference, definition) if epoch is not None else None
            if reason is not None:
                raise FieldError(reason)
        return value

    return checked


def _present_fields(definition: ParserDefinition, index: int) -> frozenset[str] | None:
    if definition.envelope is not None:
        return None
    if definition.decoder == "csv":
        assert definition.csv is not None
        return frozenset(definition.csv.columns)
    pattern = definition.records[index].pattern
    if definition.decoder == "pattern" and pattern is not None:
        return frozenset(pattern.fields)
    return None


def _url_id(key: bytes) -> str:
    """URL-safe base64 of SHA-1(key), 27 characters, no padding: a deterministic Elasticsearch _id."""
    return _b64(_sha1(key).digest())[:27].translate(_URLSAFE).decode()


def _constant_timestamp(text: str) -> Getter:
    epoch = _ISO(text)

    def fixed(_: Any, __: float) -> Any:
        if epoch is None:
            raise FieldError(f"field @timestamp: constant {text!r} is not ISO-8601")
        return epoch

    return fixed


def _decoder(definition: ParserDefinition) -> Decoder:
    inner: Decoder
    if definition.decoder == "json":
        inner = decode_json
    elif definition.decoder == "csv":
        assert definition.csv is not None
        options = definition.csv
        inner = csv_decoder(options.columns, options.delimiter, options.quote, options.skip_header)
    elif definition.decoder == "kv":
        assert definition.kv is not None
        kv = definition.kv
        inner = kv_decoder(kv.value_separator, kv.pair_separator, kv.quotes, lenient=definition.lenient)
    else:
        records = [(r.name, r.pattern) for r in definition.records if r.pattern is not None]
        inner = pattern_decoder(records)
    if definition.envelope != "syslog":
        return inner
    lenient = definition.lenient

    def with_syslog(text: str) -> tuple[int, dict[str, Any]]:
        envelope, message = split_syslog(text, lenient)
        index, parsed = inner(message)
        parsed.update(envelope)
        return index, parsed

    return with_syslog


def _line_parser(definition: ParserDefinition, decode: Decoder, records: tuple[_Record, ...]) -> _LineParser:
    """The whole per-line path as one closure, everything it needs bound as closure cells."""
    name = definition.name
    id_prefix = (definition.dataset + "\x00").encode()
    skip = definition.skip.search if definition.skip is not None else None
    sha1, b64, urlsafe = _sha1, _b64, _URLSAFE
    lenient = definition.lenient
    control = None if lenient else _CONTROL.search
    nested = records[0][2] if len(records) == 1 else None
    make = tuple.__new__  # AccessEvent(...) through NamedTuple's Python-level __new__ costs ~3x
    loads, JSONDecodeError = orjson.loads, orjson.JSONDecodeError
    c0_bytes = _C0_BYTES

    def dead(raw: RawLine, reason: str) -> DeadLetter:
        if raw.full_size > len(raw.data):
            reason = f"{reason} (line truncated to {len(raw.data)} of {raw.full_size} bytes)"
        return DeadLetter(raw, "parse", reason, name)

    def parse_line(raw: RawLine, ingested: str, reference: float) -> Outcome:
        data = raw.data
        original_b64: str | None = None
        try:
            text = data.decode()
        except UnicodeDecodeError as exc:
            if raw.full_size > len(data) and exc.end == len(data) and exc.reason == "unexpected end of data":
                text = data[: exc.start].decode("utf-8", "backslashreplace")  # cut inside a character
            elif not lenient:
                return dead(raw, f"invalid UTF-8 at byte {exc.start} (the exact bytes are kept)")
            else:
                text = data.decode("utf-8", "backslashreplace")
                original_b64 = base64.b64encode(data).decode("ascii")
        if text.endswith("\r"):
            text = text[:-1]
        if not text or text.isspace():
            return dead(raw, "empty line")
        # control characters: a cheap C-level test on the bytes first (C0 and DEL deleted: same
        # length means none; C1 controls are U+0080-U+009F, in UTF-8 always after a 0xC2 byte)
        if control is not None and (len(data.translate(None, c0_bytes)) != len(data) or b"\xc2" in data):
            bad = control(text)
            if bad is not None:
                return dead(raw, f"control character U+{ord(bad.group()):04X} at column {bad.start() + 1}")
        result = None
        if nested is not None:  # a JSON object of the usual shape: read without flattening it
            try:
                obj = loads(text)
            except JSONDecodeError:
                obj = None  # decode() below says why
            if obj.__class__ is dict:
                try:
                    result = nested(obj, reference, text)
                except FieldError as exc:
                    return dead(raw, str(exc))
        if result is None:
            try:
                index, parsed = decode(text)
            except DecodeError as exc:
                if skip is not None and skip(text) is not None:
                    return None
                return dead(raw, str(exc))
            except NotARecord:
                return None
            fill, sets_related_user, _ = records[index]
            try:
                result = fill(parsed, reference)
            except FieldError as exc:
                return dead(raw, str(exc))
        else:
            sets_related_user = records[0][1]
        epoch, doc, audit_id = result
        line_hash = raw.full_sha1 or sha1(data).hexdigest()
        if audit_id is not None and audit_id != "":
            audit_text = audit_id if audit_id.__class__ is str else str(audit_id)
            event_id = b64(sha1(id_prefix + audit_text.encode()).digest())[:27].translate(urlsafe).decode()
            doc["event.id"] = audit_text
        else:
            key = f"{raw.file_key}\x00{raw.offset}\x00{line_hash}".encode()
            event_id = b64(sha1(key).digest())[:27].translate(urlsafe).decode()
            doc["event.id"] = event_id
        doc["event.ingested"] = ingested
        doc["event.original"] = text
        doc["event.hash"] = line_hash
        doc["log.file.path"] = raw.path
        doc["log.offset"] = raw.offset
        if not sets_related_user:
            user = doc.get("user.id")
            if user is not None:
                doc["related.user"] = [user]
        if original_b64 is not None:
            doc["auditwatch.line.original_b64"] = original_b64
        if raw.full_size > len(data):
            doc["auditwatch.line.truncated"] = True
            doc["auditwatch.line.size"] = raw.full_size
        return make(AccessEvent, (event_id, epoch, doc, raw))

    return parse_line


class CompiledParser:
    """One parser definition compiled for the hot path."""

    def __init__(self, definition: ParserDefinition) -> None:
        self.name: str = definition.name
        self.dataset: str = definition.dataset
        self.path: str = definition.file
        self.definition = definition
        records = tuple(
            _record(definition, i, _present_fields(definition, i)) for i in range(len(definition.records))
        )
        self._line = _line_parser(definition, _decoder(definition), records)
        self._reference_text = ""
        self._reference = 0.0

    def __repr__(self) -> str:
        return f"CompiledParser({self.name!r}, {self.path!r})"

    def parse(self, raw: RawLine, ingested: str) -> AccessEvent | DeadLetter | None:
        """One record -> an event, a dead letter saying precisely why not, or None when the line is
        not a record (a CSV header, a `skip:` line). Never raises."""
        if ingested != self._reference_text:
            self._set_reference(ingested)
        try:
            return self._line(raw, ingested, self._reference)
        except Exception as exc:  # a bug must not stop the pipeline: the line is kept with the reason
            return DeadLetter(raw, "parse", f"internal error: {type(exc).__name__}: {exc}", self.name)

    def parse_batch(
        self, raws: Sequence[RawLine], ingested: str
    ) -> tuple[list[AccessEvent], list[DeadLetter]]:
        """Parse a batch read together (one `ingested` time); events and dead letters in input order,
        skipped lines (not records) in neither."""
        if ingested != self._reference_text:
            self._set_reference(ingested)
        reference = self._reference
        events: list[AccessEvent] = []
        dead: list[DeadLetter] = []
        parse_line = self._line
        add_event = events.append
        event_type = AccessEvent
        for raw in raws:
            try:
                result = parse_line(raw, ingested, reference)
            except Exception as exc:
                reason = f"internal error: {type(exc).__name__}: {exc}"
                dead.append(DeadLetter(raw, "parse", reason, self.name))
                continue
            if result.__class__ is event_type:
                add_event(result)
            elif result is not None:
                dead.append(result)  # type: ignore[arg-type]
        return events, dead

    def check_examples(self) -> list[Problem]:
        """Run every example in the file; a Problem for each that does not come out as declared."""
        problems: list[Problem] = []
        definition = self.definition
        for index, example in enumerate(definition.examples):
            data = example.line.encode("utf-8", "surrogateescape")
            raw = RawLine(self.name, "<example>", "example", index, len(data) + 1, data, len(data))
            result = self.parse(raw, example.ingested)

            def problem(message: str, where: str = example.path, at: int | None = example.file_line) -> None:
                problems.append(Problem(definition.file, at, where, message, code=EXAMPLE_FAILED))

            if example.skip:
                if result is not None:
                    got = "an event" if isinstance(result, AccessEvent) else f"dead letter {result.reason!r}"
                    problem(f"should be skipped (not a record) but gave {got}")
                continue
            if result is None:
                problem("was skipped (not a record)")
                continue
            if example.error is not None:
                if isinstance(result, AccessEvent):
                    problem(f"should not parse (expected an error containing {example.error!r}) but did")
                elif example.error not in result.reason:
                    problem(f"error {result.reason!r} does not contain {example.error!r}")
                continue
            if isinstance(result, DeadLetter):
                problem(f"does not parse: {result.reason}")
                continue
            for key, want in (example.expect or {}).items():
                got_value = result.fields.get(key)
                if got_value != want or type(got_value) is not type(want):
                    problem(f"field {key}: expected {want!r}, got {got_value!r}")
        return problems

    def _set_reference(self, ingested: str) -> None:
        self._reference = _ISO(ingested) or 0.0
        self._reference_text = ingested
