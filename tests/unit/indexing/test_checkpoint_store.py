"""The checkpoint: offsets and rule state committed together, forward only, and crash-safe."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from auditwatch.checkpoint import Checkpoint, CheckpointError
from auditwatch.testing.waiting import wait_until

_KEYS = 200

# Commits forever: every offset and the state blob of commit n all encode n.
_COMMIT_LOOP = f"""
import sys
from pathlib import Path
from auditwatch.checkpoint import Checkpoint
cp = Checkpoint(Path(sys.argv[1]))
n = int(cp.state("detection") or b"0")
while True:
    n += 1
    cp.commit({{f"file-{{i}}": n * 1000 + i for i in range({_KEYS})}}, {{"detection": str(n).encode()}})
"""


def test_fresh_checkpoint_is_a_first_start(tmp_path: Path) -> None:
    """No commit yet: first start, no offsets, no state; WAL mode is on."""
    cp = Checkpoint(tmp_path / "state" / "checkpoint.sqlite")
    assert cp.is_first_start()
    assert cp.offsets() == {}
    assert cp.state("detection") is None
    cp.close()
    db = sqlite3.connect(tmp_path / "state" / "checkpoint.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_commit_persists_offsets_and_state_together(tmp_path: Path) -> None:
    """What one commit wrote is what a new instance reads back."""
    path = tmp_path / "cp.sqlite"
    cp = Checkpoint(path)
    cp.commit({"a": 10, "b": 20}, {"detection": b"\x00state-1"})
    cp.commit({"a": 15}, {"other": b"x"})
    cp.close()
    again = Checkpoint(path)
    assert not again.is_first_start()
    assert again.offsets() == {"a": 15, "b": 20}
    assert again.state("detection") == b"\x00state-1"
    assert again.state("other") == b"x"
    again.close()


def test_offsets_never_move_backwards_except_on_reset(tmp_path: Path) -> None:
    """A lower offset in a commit is ignored; `reset` may set it back explicitly."""
    cp = Checkpoint(tmp_path / "cp.sqlite")
    cp.commit({"a": 100}, {})
    cp.commit({"a": 40}, {"detection": b"s"})
    assert cp.offsets() == {"a": 100}
    cp.reset({"a": 0})
    assert cp.offsets() == {"a": 0}
    cp.commit({"a": 7}, {})
    assert cp.offsets() == {"a": 7}
    cp.close()


def test_forget_prunes_keys(tmp_path: Path) -> None:
    """Forgotten files disappear; the others stay; a forgotten key may start again from zero."""
    cp = Checkpoint(tmp_path / "cp.sqlite")
    cp.commit({"a": 1, "b": 2, "c": 3}, {})
    cp.forget(["a", "c", "never-seen"])
    assert cp.offsets() == {"b": 2}
    cp.commit({"a": 0}, {})
    assert cp.offsets() == {"a": 0, "b": 2}
    cp.close()


def test_failed_commit_changes_nothing(tmp_path: Path) -> None:
    """An invalid offset aborts the whole commit, state included."""
    cp = Checkpoint(tmp_path / "cp.sqlite")
    cp.commit({"a": 1}, {"detection": b"old"})
    with pytest.raises(ValueError, match="non-negative"):
        cp.commit({"a": 5, "b": -1}, {"detection": b"new"})
    assert cp.offsets() == {"a": 1}
    assert cp.state("detection") == b"old"
    cp.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    """A checkpoint written by a newer auditwatch is not silently reinterpreted."""
    path = tmp_path / "cp.sqlite"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(CheckpointError, match="version 99"):
        Checkpoint(path)


def test_not_a_database_is_a_checkpoint_error(tmp_path: Path) -> None:
    """A corrupt file is reported with its path."""
    path = tmp_path / "cp.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CheckpointError, match=str(path)):
        Checkpoint(path)


def test_kill_9_mid_commit_leaves_a_consistent_checkpoint(tmp_path: Path) -> None:
    """SIGKILL at arbitrary points of a commit loop: offsets and state always come from one commit."""
    path = tmp_path / "cp.sqlite"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    seen: list[int] = []
    for round_ in range(6):
        proc = subprocess.Popen([sys.executable, "-c", _COMMIT_LOOP, str(path)], env=env)
        committed = seen[-1] if seen else 0

        def going(after: int = committed) -> bool:
            return path.exists() and _commits(path) > after + 3

        wait_until(going, 20, interval=0.01)  # let it get going, then kill at a varying moment
        time.sleep(0.013 * (round_ + 1))  # on purpose: kill at a varying moment of the commit loop
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        cp = Checkpoint(path)
        n = int(cp.state("detection") or b"0")
        offsets = cp.offsets()
        cp.close()
        assert n > (seen[-1] if seen else 0)
        assert offsets == {f"file-{i}": n * 1000 + i for i in range(_KEYS)}
        seen.append(n)


def _commits(path: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'commits'").fetchone()
        finally:
            db.close()
    except sqlite3.OperationalError:
        return 0
    return int(row[0]) if row else 0
