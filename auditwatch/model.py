"""Frozen values passed between pipeline stages (sources -> parsing -> detection -> indexing).

Every stage takes these and returns new ones; nothing downstream mutates what it was given.
`fields` mappings are flat, keyed by dotted canonical names (``user.id``), JSON-ready, and are
treated as read-only once built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RawLine:
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


@dataclass(frozen=True, slots=True)
class AccessEvent:
    """A canonical, ECS-aligned record-access event."""

    id: str  # deterministic Elasticsearch _id
    timestamp: float  # event time, seconds since the epoch (UTC); windows and index names use it
    fields: Mapping[str, object]  # the document: flat dotted keys, "@timestamp" ISO-8601 UTC
    raw: RawLine  # where it came from (evidence, checkpoint, dead-lettering)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record that could not become an indexed event, and why."""

    raw: RawLine
    stage: str  # "parse" or "index"
    reason: str
    parser: str = ""


@dataclass(frozen=True, slots=True)
class Alert:
    """A detection result, ready to index into the alerts index."""

    id: str  # deterministic _id: rule id + grouping key + window / trigger event
    timestamp: float  # time of the triggering event
    rule_id: str
    fields: Mapping[str, object]  # the whole alert document (flat dotted keys allowed)
