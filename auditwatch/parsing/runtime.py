"""The compiled parser: RawLine -> AccessEvent | DeadLetter, with nothing interpreted per event.

Per record type the document's constant part (event.kind, module, dataset, parser, defaults and
`value:` constants) is built once; per line the runtime decodes, runs the record type's field
closures, hashes the line and derives the deterministic id. Nothing here raises on bad input.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from auditwatch.errors import Problem
from auditwatch.model import AccessEvent, DeadLetter, RawLine
from auditwatch.parsing.decoders import DecodeError, Decoder
from auditwatch.parsing.decoders.csv import csv_decoder
from auditwatch.parsing.decoders.json import decode_json
from auditwatch.parsing.decoders.kv import kv_decoder
from auditwatch.parsing.decoders.pattern import pattern_decoder
from auditwatch.parsing.decoders.syslog import split_syslog
from auditwatch.parsing.definition import ParserDefinition
from auditwatch.parsing.mapping import (
    FieldError,
    Getter,
    MemoField,
    compile_getter,
    compile_memo,
    constant,
    is_memoisable,
    is_plain_copy,
    to_keyword,
)
from auditwatch.parsing.timestamps import TimestampParser, iso_utc

_sha1 = hashlib.sha1
_b64 = binascii.b2a_base64
_URLSAFE: Final = bytes.maketrans(b"+/", b"-_")
_DEFAULTS: Final[dict[str, Any]] = {"event.category": ["database"], "event.type": ["access"]}
_ISO = TimestampParser(["iso8601"])
_MISS: Final = object()


@dataclass(frozen=True, slots=True)
class _Record:
    name: str
    static: dict[str, Any]  # copied into every document of this record type
    timestamp: Getter
    copies: tuple[tuple[str, str], ...]  # (target, parsed field) of optional keywords copied as they are
    memos: tuple[tuple[str, str, dict[str, Any], Callable[[str], Any], Getter], ...]
    getters: tuple[tuple[str, Getter], ...]
    sets_related_user: bool


def _record(definition: ParserDefinition, index: int) -> _Record:
    record = definition.records[index]
    static: dict[str, Any] = {
        "event.kind": "event",
        "event.module": "auditwatch",
        "event.dataset": definition.dataset,
        "auditwatch.parser": definition.name,
        **_DEFAULTS,
    }
    getters: list[tuple[str, Getter]] = []
    copies: list[tuple[str, str]] = []
    memos: list[MemoField] = []
    timestamp: Getter | None = None
    for spec in record.fields:
        if spec.source is None:
            static[spec.target] = constant(spec)
        elif is_plain_copy(spec):
            copies.append((spec.target, spec.source))
        elif is_memoisable(spec):
            memos.append(compile_memo(spec))
        elif spec.target == "@timestamp":
            timestamp = compile_getter(spec)
        else:
            getters.append((spec.target, compile_getter(spec)))
    if timestamp is None:  # a constant @timestamp (odd, but allowed): ISO-8601 text
        timestamp = _constant_timestamp(str(static.pop("@timestamp", "")))
    return _Record(
        record.name,
        static,
        timestamp,
        tuple(copies),
        tuple((m.target, m.source, m.cache, m.fill, m.getter) for m in memos),
        tuple(getters),
        any(spec.target == "related.user" for spec in record.fields),
    )


def _url_id(key: bytes) -> str:
    """URL-safe base64 of SHA-1(key), 27 characters, no padding: a deterministic Elasticsearch _id."""
    return _b64(_sha1(key).digest())[:27].translate(_URLSAFE).decode()


def _constant_timestamp(text: str) -> Getter:
    epoch = _ISO(text)

    def fixed(_: dict[str, Any], __: float) -> Any:
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
        inner = kv_decoder(kv.value_separator, kv.pair_separator, kv.quotes)
    else:
        records = [(r.name, r.pattern) for r in definition.records if r.pattern is not None]
        inner = pattern_decoder(records)
    if definition.envelope != "syslog":
        return inner

    def with_syslog(text: str) -> tuple[int, dict[str, Any]]:
        envelope, message = split_syslog(text)
        index, parsed = inner(message)
        parsed.update(envelope)
        return index, parsed

    return with_syslog


class CompiledParser:
    """One parser definition compiled for the hot path."""

    def __init__(self, definition: ParserDefinition) -> None:
        self.name: str = definition.name
        self.dataset: str = definition.dataset
        self.path: str = definition.file
        self.definition = definition
        self._decode = _decoder(definition)
        self._records = tuple(_record(definition, i) for i in range(len(definition.records)))
        self._id_field = definition.id_field
        self._id_prefix = (definition.dataset + "\x00").encode()
        self._reference_text = ""
        self._reference = 0.0

    def __repr__(self) -> str:
        return f"CompiledParser({self.name!r}, {self.path!r})"

    def parse(self, raw: RawLine, ingested: str) -> AccessEvent | DeadLetter:
        """One record -> an event, or a dead letter saying precisely why not. Never raises."""
        if ingested != self._reference_text:
            self._set_reference(ingested)
        try:
            return self._parse(raw, ingested)
        except Exception as exc:  # a bug must not stop the pipeline: the line is kept with the reason
            return DeadLetter(raw, "parse", f"internal error: {type(exc).__name__}: {exc}", self.name)

    def parse_batch(
        self, raws: Sequence[RawLine], ingested: str
    ) -> tuple[list[AccessEvent], list[DeadLetter]]:
        """Parse a batch read together (one `ingested` time); events and dead letters in input order."""
        if ingested != self._reference_text:
            self._set_reference(ingested)
        events: list[AccessEvent] = []
        dead: list[DeadLetter] = []
        parse = self._parse
        add_event = events.append
        for raw in raws:
            try:
                result = parse(raw, ingested)
            except Exception as exc:
                reason = f"internal error: {type(exc).__name__}: {exc}"
                dead.append(DeadLetter(raw, "parse", reason, self.name))
                continue
            if isinstance(result, AccessEvent):
                add_event(result)
            else:
                dead.append(result)
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
                problems.append(Problem(definition.file, at, where, message))

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
                got = result.fields.get(key)
                if got != want or type(got) is not type(want):
                    problem(f"field {key}: expected {want!r}, got {got!r}")
        return problems

    def _set_reference(self, ingested: str) -> None:
        self._reference = _ISO(ingested) or 0.0
        self._reference_text = ingested

    def _parse(self, raw: RawLine, ingested: str) -> AccessEvent | DeadLetter:
        data = raw.data
        b64: str | None = None
        try:
            text = data.decode()
        except UnicodeDecodeError:
            text = data.decode("utf-8", "backslashreplace")
            b64 = base64.b64encode(data).decode("ascii")
        if text.endswith("\r"):
            text = text[:-1]
        if not text or text.isspace():
            return self._dead(raw, "empty line")
        try:
            index, parsed = self._decode(text)
            record = self._records[index]
            reference = self._reference
            epoch = record.timestamp(parsed, reference)
            doc = record.static.copy()
            doc["@timestamp"] = iso_utc(epoch)
            for target, source in record.copies:
                value = parsed.get(source)
                if value.__class__ is str:
                    if value:
                        doc[target] = value
                elif value is not None:
                    value = to_keyword(value)
                    if value is not None:
                        doc[target] = value
            for target, source, cache, fill, getter in record.memos:
                value = parsed.get(source)
                if value.__class__ is str:
                    value = cache.get(value, _MISS)
                    if value is _MISS:
                        value = fill(parsed[source])
                else:
                    value = getter(parsed, reference)
                if value is not None:
                    doc[target] = value
            for target, getter in record.getters:
                value = getter(parsed, reference)
                if value is not None:
                    doc[target] = value
        except (DecodeError, FieldError) as exc:
            return self._dead(raw, str(exc))
        line_hash = raw.full_sha1 or _sha1(data).hexdigest()
        audit_id = parsed.get(self._id_field) if self._id_field else None
        if audit_id is not None and audit_id != "":
            audit_text = audit_id if audit_id.__class__ is str else str(audit_id)
            event_id = _url_id(self._id_prefix + audit_text.encode())
            doc["event.id"] = audit_text
        else:
            key = f"{raw.file_key}\x00{raw.offset}\x00{line_hash}".encode()
            event_id = _url_id(key)
            doc["event.id"] = event_id
        doc["event.ingested"] = ingested
        doc["event.original"] = text
        doc["event.hash"] = line_hash
        doc["log.file.path"] = raw.path
        doc["log.offset"] = raw.offset
        if not record.sets_related_user:
            user = doc.get("user.id")
            if user is not None:
                doc["related.user"] = [user]
        if b64 is not None:
            doc["auditwatch.line.original_b64"] = b64
        if raw.full_size > len(data):
            doc["auditwatch.line.truncated"] = True
            doc["auditwatch.line.size"] = raw.full_size
        return AccessEvent(event_id, epoch, doc, raw)

    def _dead(self, raw: RawLine, reason: str) -> DeadLetter:
        if raw.full_size > len(raw.data):
            reason = f"{reason} (line truncated to {len(raw.data)} of {raw.full_size} bytes)"
        return DeadLetter(raw, "parse", reason, self.name)
