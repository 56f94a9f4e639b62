"""The checkpoint: delivered file offsets and the rule state that goes with them, in one SQLite file.

A commit writes offsets and rule state in ONE transaction (WAL, synchronous=FULL), so after a
crash the daemon sees either the whole of a commit or none of it: the rule state always matches the
offsets it resumes from. Offsets only move forward per file unless `reset` says otherwise.

Rule state is kept as one row per (rule, part, group key). A commit appends only the rows that
changed since the previous one (a `StateDelta`) to `state_log`, in key order of arrival: appends
fill pages one after another, so a checkpoint writes about what changed, not the whole state, and
not one scattered B-tree page per changed key. Once the log outgrows the compacted rows (or 4 MB),
the next commit is followed by a compaction (its own transaction) that folds the log into
`rule_state`, last write winning, and empties it. Reading the state is rows + the log replayed in
order, so a crash between any two transactions loses nothing. Schema 1 kept the state as one blob
(`state` table): it is still read, and dropped by the first commit that writes the rows.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

from auditwatch.errors import AuditwatchError
from auditwatch.model import StateDelta, StoredState

SCHEMA_VERSION = 2

_SCHEMA_1 = """
CREATE TABLE offsets (file_key TEXT PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE state (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta VALUES ('commits', 0);
"""
_SCHEMA_2 = """
CREATE TABLE rule_meta (rule TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE rule_state (
    rule TEXT NOT NULL, part TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,
    PRIMARY KEY (rule, part, key)
) WITHOUT ROWID;
CREATE TABLE state_log (
    seq INTEGER PRIMARY KEY, rule TEXT NOT NULL, part TEXT NOT NULL, key BLOB NOT NULL, value BLOB
);
"""
_COMPACT_MIN_BYTES = 4 << 20  # fold the log into the rows once it holds more than this ...
# ... and more than the compacted rows themselves: amortised, each changed byte is written a few times
_UPSERT_FORWARD = (
    "INSERT INTO offsets VALUES (?, ?) "
    "ON CONFLICT (file_key) DO UPDATE SET position = max(position, excluded.position)"
)
_UPSERT_EXACT = (
    "INSERT INTO offsets VALUES (?, ?) ON CONFLICT (file_key) DO UPDATE SET position = excluded.position"
)
_UPSERT_STATE = "INSERT INTO state VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value"
_UPSERT_META = "INSERT INTO rule_meta VALUES (?, ?) ON CONFLICT (rule) DO UPDATE SET value = excluded.value"
_UPSERT_ROW = (
    "INSERT INTO rule_state VALUES (?, ?, ?, ?) "
    "ON CONFLICT (rule, part, key) DO UPDATE SET value = excluded.value"
)
_DELETE_ROW = "DELETE FROM rule_state WHERE rule = ? AND part = ? AND key = ?"
_APPEND_LOG = "INSERT INTO state_log (rule, part, key, value) VALUES (?, ?, ?, ?)"
_LOG_BYTES = "SELECT coalesce(sum(length(key) + coalesce(length(value), 0)), 0) FROM state_log"
_ROW_BYTES = "SELECT count(*), coalesce(sum(length(key) + length(value)), 0) FROM rule_state"


class CheckpointError(AuditwatchError):
    """The checkpoint file cannot be used (newer schema, not a database, not writable)."""


class Checkpoint:
    """Offsets (file_key -> first byte not yet delivered) and opaque state blobs; thread-safe."""

    def __init__(self, path: Path, *, compact_min_bytes: int = _COMPACT_MIN_BYTES) -> None:
        self.path = Path(path)
        self._compact_min = compact_min_bytes
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            self._db.execute("PRAGMA synchronous=FULL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise CheckpointError(f"{self.path}: cannot open checkpoint: {exc}") from exc
        if str(mode).lower() != "wal":
            raise CheckpointError(f"{self.path}: SQLite refused WAL mode (got {mode})")
        self._log_bytes = int(self._db.execute(_LOG_BYTES).fetchone()[0])
        self._row_bytes = int(self._db.execute(_ROW_BYTES).fetchone()[1])

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise CheckpointError(
                f"{self.path}: checkpoint schema version {version}, this auditwatch knows {SCHEMA_VERSION}"
            )
        with self._transaction():
            # re-check inside the write lock: another process may have just migrated it
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            steps = [_SCHEMA_1, _SCHEMA_2][version:]
            for script in steps:
                for statement in script.strip().split(";\n"):
                    self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def offsets(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT file_key, position FROM offsets").fetchall())

    def state(self, name: str) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM state WHERE name = ?", (name,)).fetchone()
        return None if row is None else bytes(row[0])

    def is_first_start(self) -> bool:
        """True until the first commit (a reset or forget is not a commit)."""
        with self._lock:
            return int(self._db.execute("SELECT value FROM meta WHERE key = 'commits'").fetchone()[0]) == 0

    def rule_state(self) -> StoredState:
        """The detection state: the compacted rows with the log replayed over them, in order."""
        with self._lock:
            meta = {
                rule: bytes(value) for rule, value in self._db.execute("SELECT rule, value FROM rule_meta")
            }
            merged = _fold(self._db.execute("SELECT rule, part, key, value FROM rule_state"))
            merged = _fold(
                self._db.execute("SELECT rule, part, key, value FROM state_log ORDER BY seq"), merged
            )
        rows: dict[tuple[str, str], list[tuple[bytes, bytes]]] = {}
        for (rule, part, key), value in merged.items():
            if value is not None:
                rows.setdefault((rule, part), []).append((key, value))
        return StoredState(meta, rows)

    def state_size(self) -> tuple[int, int]:
        """Rows and bytes of the detection state as stored: compacted rows, log, meta, blobs."""
        with self._lock:
            rows, size = self._db.execute(_ROW_BYTES).fetchone()
            log_rows = self._db.execute("SELECT count(*) FROM state_log").fetchone()[0]
            meta = self._db.execute("SELECT coalesce(sum(length(value)), 0) FROM rule_meta").fetchone()[0]
            blobs = self._db.execute("SELECT coalesce(sum(length(value)), 0) FROM state").fetchone()[0]
            log = self._db.execute(_LOG_BYTES).fetchone()[0]
        return int(rows) + int(log_rows), int(size) + int(log) + int(meta) + int(blobs)

    def compact(self) -> None:
        """Fold the state log into the rows (last write per key wins) and empty it: one transaction."""
        with self._lock:
            try:
                with self._transaction():
                    merged = _fold(
                        self._db.execute("SELECT rule, part, key, value FROM state_log ORDER BY seq")
                    )
                    upserts = [(*k, v) for k, v in merged.items() if v is not None]
                    self._db.executemany(_UPSERT_ROW, upserts)
                    self._db.executemany(_DELETE_ROW, [k for k, v in merged.items() if v is None])
                    self._db.execute("DELETE FROM state_log")
            except sqlite3.OperationalError as exc:
                raise _write_error(self.path, exc) from exc
            self._log_bytes = 0
            self._row_bytes = int(self._db.execute(_ROW_BYTES).fetchone()[1])

    def commit(
        self,
        offsets: Mapping[str, int],
        state: Mapping[str, bytes] | None = None,
        delta: StateDelta | None = None,
        *,
        drop: Iterable[str] = (),
    ) -> None:
        """Offsets (never moved backwards), state blobs and a detection state delta, all in one
        transaction; `drop` names state blobs to delete (a schema-1 blob the rows replace).

        A write the file system refuses (disk full, read-only) raises CheckpointError and commits
        nothing: the previous checkpoint stays whole."""
        rows = [(key, _offset(key, value)) for key, value in offsets.items()]
        blobs = [(name, bytes(value)) for name, value in (state or {}).items()]
        try:
            with self._lock, self._transaction():
                self._db.executemany(_UPSERT_FORWARD, rows)
                self._db.executemany(_UPSERT_STATE, blobs)
                self._db.executemany("DELETE FROM state WHERE name = ?", [(name,) for name in drop])
                if delta is not None:
                    self._apply(delta)
                self._db.execute("UPDATE meta SET value = value + 1 WHERE key = 'commits'")
        except sqlite3.OperationalError as exc:
            raise _write_error(self.path, exc) from exc
        if delta is not None:  # only rows go to the log (meta, e.g. the reorder buffer, is upserted)
            self._log_bytes += sum(len(key) + len(value or b"") for _, _, key, value in delta.rows)
            if self._log_bytes > max(self._compact_min, self._row_bytes):
                self.compact()

    def _apply(self, delta: StateDelta) -> None:
        db = self._db
        for rule in delta.cleared:  # rare (rule reloads): done in place, log entries included
            db.execute("DELETE FROM rule_state WHERE rule = ?", (rule,))
            db.execute("DELETE FROM state_log WHERE rule = ?", (rule,))
            db.execute("DELETE FROM rule_meta WHERE rule = ?", (rule,))
        db.executemany(_UPSERT_META, delta.meta)
        db.executemany(_APPEND_LOG, delta.rows)

    def reset(self, offsets: Mapping[str, int]) -> None:
        """Set offsets exactly, even backwards (an operator replaying a file, a truncated file)."""
        rows = [(key, _offset(key, value)) for key, value in offsets.items()]
        with self._lock, self._transaction():
            self._db.executemany(_UPSERT_EXACT, rows)

    def forget(self, file_keys: Iterable[str]) -> None:
        """Drop the offsets of files that are long gone."""
        keys = [(key,) for key in file_keys]
        with self._lock, self._transaction():
            self._db.executemany("DELETE FROM offsets WHERE file_key = ?", keys)

    def close(self) -> None:
        with self._lock:
            self._db.close()


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            if self._db.in_transaction:  # SQLite rolls back by itself on some errors (SQLITE_FULL)
                self._db.execute("ROLLBACK")
            return
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error:  # e.g. disk full while writing the WAL: leave no transaction open
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise


def _offset(key: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"offset for {key!r} must be a non-negative integer, not {value!r}")
    return value


_Key = tuple[str, str, bytes]


def _fold(
    rows: Iterable[tuple[str, str, bytes, bytes | None]], into: dict[_Key, bytes | None] | None = None
) -> dict[_Key, bytes | None]:
    """Rows applied in order onto `into`: the last value per key wins; None marks a deletion."""
    out: dict[_Key, bytes | None] = {} if into is None else into
    for rule, part, key, value in rows:
        out[(rule, part, bytes(key))] = None if value is None else bytes(value)
    return out


def _write_error(path: Path, exc: sqlite3.Error) -> CheckpointError:
    return CheckpointError(
        f"{path}: cannot write the checkpoint ({exc}); nothing after the previous checkpoint was "
        "recorded, so after a restart (once the cause is fixed, e.g. space freed) reading resumes "
        "from it and nothing is lost or duplicated"
    )
