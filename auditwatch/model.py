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
from typing import NamedTuple


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
