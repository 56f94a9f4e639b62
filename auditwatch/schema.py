"""The canonical event: every field a parser may produce, with its Elasticsearch type.

This is the single source of truth used by parser validation (a mapping may only target these),
rule validation (a condition may only read these or enrichment fields) and the index templates.
ECS names where ECS has a field, `auditwatch.*` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# type names are Elasticsearch core field types (server module only)
KEYWORD: Final = "keyword"
DATE: Final = "date"
LONG: Final = "long"
IP: Final = "ip"
BOOLEAN: Final = "boolean"
TEXT: Final = "text"
ORIGINAL: Final = "original"  # keyword, not indexed, not aggregatable: the raw line kept as evidence

# Fields read by name outside the parsers (the reference view); each is a key of EVENT_FIELDS below.
USER_ID: Final = "user.id"
RECORD_ID: Final = "auditwatch.record.id"
SUBJECT_PERSON_ID: Final = "auditwatch.subject.person_id"
SUBJECT_SURNAME: Final = "auditwatch.subject.surname"
SUBJECT_FORENAMES: Final = "auditwatch.subject.forenames"
SUBJECT_DOB: Final = "auditwatch.subject.dob"
SUBJECT_POSTCODE: Final = "auditwatch.subject.postcode"
SUBJECT_ADDRESS: Final = "auditwatch.subject.address"
SUBJECT_NAME_NORM: Final = "auditwatch.subject.name_norm"
REASON_CASE_REF: Final = "auditwatch.reason.case_ref"

EVENT_FIELDS: Final[dict[str, str]] = {
    "@timestamp": DATE,
    "event.kind": KEYWORD,
    "event.category": KEYWORD,
    "event.type": KEYWORD,
    "event.action": KEYWORD,
    "event.outcome": KEYWORD,
    "event.dataset": KEYWORD,
    "event.module": KEYWORD,
    "event.id": KEYWORD,
    "event.created": DATE,
    "event.ingested": DATE,
    "event.original": ORIGINAL,
    "event.hash": KEYWORD,
    USER_ID: KEYWORD,
    "user.name": KEYWORD,
    "user.roles": KEYWORD,
    "source.ip": IP,
    "host.name": KEYWORD,
    "service.name": KEYWORD,
    "log.file.path": KEYWORD,
    "log.offset": LONG,
    "related.user": KEYWORD,
    "auditwatch.record.type": KEYWORD,
    RECORD_ID: KEYWORD,
    SUBJECT_PERSON_ID: KEYWORD,
    SUBJECT_SURNAME: KEYWORD,
    SUBJECT_FORENAMES: KEYWORD,
    SUBJECT_DOB: KEYWORD,  # ISO yyyy-mm-dd; kept keyword so partial DOBs survive
    SUBJECT_POSTCODE: KEYWORD,
    SUBJECT_ADDRESS: KEYWORD,
    SUBJECT_NAME_NORM: KEYWORD,
    "auditwatch.search.terms": KEYWORD,
    "auditwatch.search.wildcard": BOOLEAN,
    "auditwatch.search.result_count": LONG,
    "auditwatch.reason.code": KEYWORD,
    REASON_CASE_REF: KEYWORD,
    "auditwatch.session.id": KEYWORD,
    "auditwatch.terminal": KEYWORD,
    "auditwatch.function_code": KEYWORD,
    "auditwatch.parser": KEYWORD,
    "auditwatch.line.truncated": BOOLEAN,
    "auditwatch.line.size": LONG,
    "auditwatch.line.original_b64": ORIGINAL,  # the exact bytes when the line was not valid UTF-8
}

# Fields a parser mapping may set. The rest are filled in by the parsing runtime itself.
PARSER_SETTABLE: Final[frozenset[str]] = frozenset(EVENT_FIELDS) - {
    "event.kind",
    "event.module",
    "event.dataset",
    "event.ingested",
    "event.original",
    "event.hash",
    "log.file.path",
    "log.offset",
    "auditwatch.parser",
    "auditwatch.line.truncated",
    "auditwatch.line.size",
    "auditwatch.line.original_b64",
}

# Fields that hold lists in the document.
LIST_FIELDS: Final[frozenset[str]] = frozenset({"event.category", "event.type", "user.roles", "related.user"})

DEFAULT_INDEX_PREFIX: Final = "auditwatch"


@dataclass(frozen=True, slots=True)
class IndexNames:
    """Index names for one deployment; the prefix lets several deployments (or tests) share a cluster."""

    prefix: str = DEFAULT_INDEX_PREFIX

    @property
    def events_pattern(self) -> str:
        return f"{self.prefix}-events-*"

    @property
    def alerts(self) -> str:
        return f"{self.prefix}-alerts"

    @property
    def dead_letter(self) -> str:
        return f"{self.prefix}-deadletter"

    @property
    def health(self) -> str:
        """The daemon's own heartbeats: one small document per heartbeat, for Kibana to chart."""
        return f"{self.prefix}-health"

    @property
    def risk(self) -> str:
        """Per-user rolling risk, one document per user, rewritten by `auditwatch risk update`."""
        return f"{self.prefix}-risk"

    def events_for(self, timestamp_iso: str) -> str:
        """Monthly index from an ISO-8601 UTC timestamp (``2026-11-25T...`` -> ``PREFIX-events-2026.11``)."""
        return f"{self.prefix}-events-{timestamp_iso[0:4]}.{timestamp_iso[5:7]}"
