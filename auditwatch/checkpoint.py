"""The checkpoint: delivered file offsets and the rule state that goes with them, in one SQLite file.

A commit writes offsets and state blobs in ONE transaction (WAL, synchronous=FULL), so after a
crash the daemon sees either the whole of a commit or none of it: the rule state always matches the
offsets it resumes from. Offsets only move forward per file unless `reset` says otherwise.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

from auditwatch.errors import AuditwatchError

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE offsets (file_key TEXT PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE state (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta VALUES ('commits', 0);
"""
_UPSERT_FORWARD = (
    "INSERT INTO offsets VALUES (?, ?) "
    "ON CONFLICT (file_key) DO UPDATE SET position = max(position, excluded.position)"
)
_UPSERT_EXACT = (
    "INSERT INTO offsets VALUES (?, ?) ON CONFLICT (file_key) DO UPDATE SET position = excluded.position"
)
_UPSERT_STATE = "INSERT INTO state VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value"


class CheckpointError(AuditwatchError):
    """The checkpoint file cannot be used (newer schema, not a database, not writable)."""


class Checkpoint:
    """Offsets (file_key -> first byte not yet delivered) and opaque state blobs; thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
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

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version != 0:
            raise CheckpointError(
                f"{self.path}: checkpoint schema version {version}, this auditwatch knows {SCHEMA_VERSION}"
            )
        with self._transaction():
            # re-check inside the write lock: another process may have just created it
            if self._db.execute("PRAGMA user_version").fetchone()[0] == 0:
                for statement in _SCHEMA.strip().split(";\n"):
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

    def commit(self, offsets: Mapping[str, int], state: Mapping[str, bytes]) -> None:
        """Offsets (never moved backwards) and state blobs, all in one transaction."""
        rows = [(key, _offset(key, value)) for key, value in offsets.items()]
        blobs = [(name, bytes(value)) for name, value in state.items()]
        with self._lock, self._transaction():
            self._db.executemany(_UPSERT_FORWARD, rows)
            self._db.executemany(_UPSERT_STATE, blobs)
            self._db.execute("UPDATE meta SET value = value + 1 WHERE key = 'commits'")

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
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _offset(key: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"offset for {key!r} must be a non-negative integer, not {value!r}")
    return value
