"""Frozen values passed between pipeline stages (sources -> parsing -> detection -> indexing).

Every stage takes these and returns new ones; nothing downstream mutates what it was given.
`fields` mappings are flat, keyed by dotted canonical names (``user.id``), JSON-ready, and are
treated as read-only once built.

They are typed NamedTuples rather than frozen dataclasses: equally immutable, but built several
times faster (a frozen dataclass's __init__ pays one object.__setattr__ per field, ~1.5 µs for a
RawLine against ~0.3 µs), and one or two of them are built per line on the hot path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

SEVERITY_LABELS = ("low", "medium", "high", "critical")  # event.severity 1..4


class RawLine(NamedTuple):
    """One complete record read from a tailed file (several physical lines if multi-line)."""

    source: str  # the input's name in the config; selects the parser
    path: str  # the path the bytes were read from
    file_key: str  # stable identity of the file: survives rename and copytruncate copies
    offset: int  # byte offset of the record's first byte
    end: int  # byte offset just past the record and its newline: what a checkpoint stores
    data: bytes  # the record without its trailing newline, capped at the input's max_line_bytes
    full_size: int  # size of the whole record before capping
    full_sha1: str | None = None  # hex SHA-1 of the whole record; set only when `data` was capped

    @property
    def truncated(self) -> bool:
        return self.full_size > len(self.data)


class AccessEvent(NamedTuple):
    """A canonical, ECS-aligned record-access event."""

    id: str  # deterministic Elasticsearch _id
    timestamp: float  # event time, seconds since the epoch (UTC); windows and index names use it
    fields: Mapping[str, object]  # the document: flat dotted keys, "@timestamp" ISO-8601 UTC
    raw: RawLine  # where it came from (evidence, checkpoint, dead-lettering)


class DeadLetter(NamedTuple):
    """A record that could not become an indexed event, and why."""

    raw: RawLine
    stage: str  # "parse" or "index"
    reason: str
    parser: str = ""


class Alert(NamedTuple):
    """A detection result, ready to index into the alerts index."""

    id: str  # deterministic _id: rule id + grouping key + window / trigger event
    timestamp: float  # time of the triggering event
    rule_id: str
    fields: Mapping[str, object]  # the whole alert document (flat dotted keys allowed)
    summary: AlertSummary | None = None  # built by the engine; `summary_of` builds one when absent


class StateDelta(NamedTuple):
    """Detection state that changed since the previous delta, as rows for the checkpoint.

    Applied in order, deltas rebuild the engine's state exactly: first every row and the meta of
    the rules in `cleared` are deleted (rules gone or rewritten whole), then `meta` is upserted,
    then `rows`: (rule id, part, key, value) upserted, or deleted where value is None. Keys and
    values are JSON bytes. Every delta must be committed, in order: a lost delta means the engine
    and the checkpoint disagree (the daemon never drops one without exiting)."""

    cleared: tuple[str, ...]
    meta: tuple[tuple[str, bytes], ...]
    rows: tuple[tuple[str, str, bytes, bytes | None], ...]

    @property
    def size(self) -> int:
        """Bytes of keys, values and meta in this delta."""
        return sum(len(m) for _, m in self.meta) + sum(len(k) + len(v or b"") for _, _, k, v in self.rows)


class StoredState(NamedTuple):
    """Detection state as the checkpoint holds it: meta per rule ("" for the engine's own) and rows
    per (rule id, part)."""

    meta: Mapping[str, bytes]
    rows: Mapping[tuple[str, str], list[tuple[bytes, bytes]]]


@dataclass(frozen=True, slots=True)
class AlertSummary:
    """What every consumer of an alert shows: built once, read by name instead of document paths."""

    id: str
    timestamp: str  # ISO-8601 UTC
    severity: str  # low / medium / high / critical
    risk_score: float
    rule_id: str
    rule_name: str
    user_id: str
    user_name: str
    subject: str  # the person or record looked at, for display
    record_id: str
    reasons: tuple[str, ...]
    case_id: str  # related alerts of one user and day share it
    status: str  # triage status

    @property
    def why(self) -> str:
        return self.reasons[0] if self.reasons else self.rule_name

    @classmethod
    def from_document(cls, alert_id: str, doc: Mapping[str, object]) -> AlertSummary:
        """The summary of an alert document as indexed (nested) or as built (flat keys allowed)."""

        def get(dotted: str) -> object:
            return field_value(doc, dotted)

        def text(dotted: str) -> str:
            value = get(dotted)
            return "" if value is None else str(value)

        severity = text("auditwatch.alert.severity_label")
        level = get("event.severity")
        if not severity and isinstance(level, int) and 1 <= level <= len(SEVERITY_LABELS):
            severity = SEVERITY_LABELS[level - 1]
        risk = get("event.risk_score")
        reasons = get("auditwatch.alert.reasons")
        return cls(
            id=alert_id,
            timestamp=text("@timestamp"),
            severity=severity,
            risk_score=float(risk) if isinstance(risk, int | float) else 0.0,
            rule_id=text("rule.id"),
            rule_name=text("rule.name"),
            user_id=text("user.id"),
            user_name=text("user.name"),
            subject=subject_text(get("auditwatch.subject"), text("auditwatch.record.id")),
            record_id=text("auditwatch.record.id"),
            reasons=tuple(str(r) for r in reasons) if isinstance(reasons, list | tuple) else (),
            case_id=text("auditwatch.alert.case.id"),
            status=text("auditwatch.triage.status") or "new",
        )


def summary_of(alert: Alert) -> AlertSummary:
    """The engine's summary of `alert`, or one built from its document."""
    return alert.summary if alert.summary is not None else AlertSummary.from_document(alert.id, alert.fields)


def field_value(doc: Mapping[str, object], dotted: str) -> object:
    """A field from a flat (dotted keys) or nested document (or a mix of both)."""
    if dotted in doc:
        return doc[dotted]
    head, _, rest = dotted.partition(".")
    while rest:
        value = doc.get(head)
        if isinstance(value, Mapping):
            found = field_value(value, rest)
            if found is not None:
                return found
        part, _, rest = rest.partition(".")
        head = f"{head}.{part}"
        if head in doc and not rest:
            return doc[head]
    return None


def subject_text(subject: object, record_id: str) -> str:
    if isinstance(subject, Mapping):
        name = " ".join(str(subject[k]) for k in ("forenames", "surname") if subject.get(k))
        pid = subject.get("person_id")
        dob = subject.get("dob")
        parts = [p for p in (name, f"born {dob}" if dob else "", f"({pid})" if pid else "") if p]
        if parts:
            return " ".join(parts)
    return record_id
