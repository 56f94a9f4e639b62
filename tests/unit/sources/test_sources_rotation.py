"""Following files across rotation, copytruncate, truncation, reused inodes, gz and restarts."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from auditwatch.sources.testing import Harness, append, datas, make_input


def _lines(prefix: str, start: int, stop: int) -> bytes:
    return b"".join(f"{prefix}-{i:04d}\n".encode() for i in range(start, stop))


def _expect(prefix: str, start: int, stop: int) -> list[bytes]:
    return [f"{prefix}-{i:04d}".encode() for i in range(start, stop)]


def test_rename_and_create_rotation(tmp_path: Path) -> None:
    """The renamed file is read to its end under its old key; the new file from its start."""
    log = tmp_path / "audit.log"
    append(log, _lines("old", 0, 10))
    h = Harness([make_input(tmp_path)])
    first = h.drain()
    assert datas(first) == _expect("old", 0, 10)
    with open(log, "ab") as writer:  # a writer still holding the old file after the rename
        log.rename(tmp_path / "audit.log.1")
        writer.write(_lines("old", 10, 15))
    append(log, _lines("new", 0, 5))
    lines = h.drain()
    old = [x for x in lines if x.file_key == first[0].file_key]
    new = [x for x in lines if x.file_key != first[0].file_key]
    assert datas(old) == _expect("old", 10, 15)
    assert old[0].offset == first[-1].end
    assert old[0].path == str(tmp_path / "audit.log.1")
    assert datas(new) == _expect("new", 0, 5)
    assert new[0].offset == 0


def test_restart_resumes_every_file_from_checkpoint(tmp_path: Path) -> None:
    """After a restart, a rotated file is found through the glob and resumed at its checkpoint."""
    log = tmp_path / "audit.log"
    append(log, _lines("old", 0, 10))
    h = Harness([make_input(tmp_path)])
    acked = h.drain()[:6]  # Elasticsearch acknowledged only the first six
    offsets = h.checkpoint(acked)
    h.t.close()
    log.rename(tmp_path / "audit.log.1")
    append(tmp_path / "audit.log.1", _lines("old", 10, 12))
    append(log, _lines("new", 0, 3))
    again = Harness([make_input(tmp_path)], offsets=offsets, first_start=False).drain()
    by_key: dict[str, list[bytes]] = {}
    for x in again:
        by_key.setdefault(x.file_key, []).append(x.data)
    assert by_key[acked[0].file_key] == _expect("old", 6, 12)
    assert sorted(by_key.values()) == sorted([_expect("old", 6, 12), _expect("new", 0, 3)])


def test_copytruncate_reads_copy_then_new_content(tmp_path: Path) -> None:
    """Unread lines are taken from the copy (same key); the truncated original starts anew."""
    log = tmp_path / "audit.log"
    append(log, _lines("a", 0, 5))
    h = Harness([make_input(tmp_path)])
    first = h.drain()
    append(log, _lines("a", 5, 8))  # written, not yet read, when logrotate copies
    shutil.copyfile(log, tmp_path / "audit.log.1")
    os.truncate(log, 0)
    with capture_logs() as logs:
        lines = h.drain()  # the copy's unread lines; the emptied original has no first line yet
        append(log, _lines("b", 0, 2))
        lines += h.drain()
    copy = [x for x in lines if x.file_key == first[0].file_key]
    assert datas(copy) == _expect("a", 5, 8)
    assert copy[0].offset == first[-1].end
    fresh = [x for x in lines if x.file_key != first[0].file_key]
    assert datas(fresh) == _expect("b", 0, 2)
    assert fresh[0].offset == 0
    assert any(e["event"] == "file truncated" for e in logs)


@pytest.mark.parametrize("restart", [False, True])
def test_copytruncate_with_original_refilled_before_the_next_look(tmp_path: Path, restart: bool) -> None:
    """Copy made, original truncated and already rewritten when the tailer looks again (or restarts):
    the copy keeps the identity and its offset; nothing is read twice."""
    log = tmp_path / "audit.log"
    append(log, _lines("a", 0, 5))
    h = Harness([make_input(tmp_path)])
    first = h.drain()
    append(log, _lines("a", 5, 8))
    shutil.copyfile(log, tmp_path / "audit.log.1")
    os.truncate(log, 0)
    append(log, _lines("b", 0, 3))
    if restart:
        h.t.close()
        h = Harness([make_input(tmp_path)], offsets={first[0].file_key: first[-1].end}, first_start=False)
    lines = [*h.drain(), *h.drain()]
    copy = [x for x in lines if x.file_key == first[0].file_key]
    fresh = [x for x in lines if x.file_key != first[0].file_key]
    assert datas(copy) == _expect("a", 5, 8)
    assert copy[0].offset == first[-1].end
    assert datas(fresh) == _expect("b", 0, 3)
    assert len(lines) == 6


def test_copytruncate_copy_seen_before_truncation(tmp_path: Path) -> None:
    """A copy found while the original still exists is not read twice; it takes over after."""
    log = tmp_path / "audit.log"
    append(log, _lines("a", 0, 5))
    h = Harness([make_input(tmp_path)])
    first = h.drain()
    shutil.copyfile(log, tmp_path / "audit.log.1")
    append(log, _lines("a", 5, 7))
    assert datas(h.drain()) == _expect("a", 5, 7)  # from the original; the copy is recognised
    append(tmp_path / "audit.log.1", _lines("a", 5, 7))  # copy completes to the same content
    os.truncate(log, 0)
    append(log, _lines("c", 0, 1))
    lines = [*h.drain(), *h.drain()]
    assert datas(lines) == _expect("c", 0, 1)
    assert lines[0].file_key != first[0].file_key


def test_plain_truncation_starts_a_new_identity(tmp_path: Path) -> None:
    """A file truncated in place is read again from offset 0 under its new first line's key."""
    log = tmp_path / "audit.log"
    append(log, _lines("a", 0, 5))
    h = Harness([make_input(tmp_path)])
    first = h.drain()
    os.truncate(log, 0)
    append(log, _lines("z", 0, 3))
    lines = h.drain()
    assert datas(lines) == _expect("z", 0, 3)
    assert lines[0].offset == 0
    assert lines[0].file_key != first[0].file_key


def test_truncated_and_rewritten_with_same_first_line(tmp_path: Path) -> None:
    """Same first line after truncation: the dev/inode fallback key is used, with one warning."""
    log = tmp_path / "audit.log"
    append(log, b"HEADER\n" + _lines("a", 0, 5))
    h = Harness([make_input(tmp_path)])
    first = h.drain()
    os.truncate(log, 0)
    with capture_logs() as logs:
        append(log, b"HEADER\n" + _lines("b", 0, 2))
        lines = h.drain()
    assert datas(lines) == [b"HEADER", *_expect("b", 0, 2)]
    assert lines[0].offset == 0
    assert lines[0].file_key.startswith(first[0].file_key + "-")
    assert [e["event"] for e in logs].count("fingerprint collision, using dev/inode in the file key") == 1


def test_identical_headers_collide_and_fall_back(tmp_path: Path) -> None:
    """Two different live files with the same header are both read in full, under distinct keys."""
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    append(a, b"user,record\n" + _lines("a", 0, 3))
    append(b, b"user,record\n" + _lines("b", 0, 4))
    with capture_logs() as logs:
        h = Harness([make_input(tmp_path, "*.csv")])
        lines = h.drain()
        again = h.drain()
    assert again == []
    by_path: dict[str, list[bytes]] = {}
    for x in lines:
        by_path.setdefault(x.path, []).append(x.data)
    assert by_path[str(a)] == [b"user,record", *_expect("a", 0, 3)]
    assert by_path[str(b)] == [b"user,record", *_expect("b", 0, 4)]
    assert len({x.file_key for x in lines}) == 2
    warnings = [e for e in logs if e["event"].startswith("fingerprint collision")]
    assert len(warnings) == 1


def test_collision_key_survives_restart(tmp_path: Path) -> None:
    """After a restart both colliding files resume at their own checkpoints."""
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    append(a, b"hdr\n" + _lines("a", 0, 3))
    append(b, b"hdr\n" + _lines("b", 0, 3))
    h = Harness([make_input(tmp_path, "*.csv")])
    offsets = h.checkpoint(h.drain())
    h.t.close()
    append(a, _lines("a", 3, 4))
    append(b, _lines("b", 3, 5))
    lines = Harness([make_input(tmp_path, "*.csv")], offsets=offsets, first_start=False).drain()
    assert sorted(datas(lines)) == sorted([*_expect("a", 3, 4), *_expect("b", 3, 5)])


def test_new_file_on_old_inode_is_new(tmp_path: Path) -> None:
    """A different file where a closed one was (same inode, other first line) is read from 0."""
    log = tmp_path / "audit.log"
    append(log, _lines("a", 0, 3))
    h = Harness([make_input(tmp_path, close_inactive=10.0)])
    first = h.drain()
    h.drain(advance=20.0)  # inactive: descriptor closed
    ino = log.stat().st_ino
    with open(log, "r+b") as f:  # rewritten in place: the inode stays, the content is new
        f.write(_lines("n", 0, 5))
    assert log.stat().st_ino == ino
    lines = h.drain()
    assert datas(lines) == _expect("n", 0, 5)
    assert lines[0].offset == 0
    assert lines[0].file_key != first[0].file_key


def test_delete_and_recreate_is_new(tmp_path: Path) -> None:
    """A deleted and recreated file (inode possibly reused) is read from its beginning."""
    log = tmp_path / "audit.log"
    append(log, _lines("a", 0, 3))
    h = Harness([make_input(tmp_path, close_inactive=10.0)])
    h.drain()
    h.drain(advance=20.0)
    log.unlink()
    append(log, _lines("b", 0, 6))
    assert datas(h.drain()) == _expect("b", 0, 6)


def test_rotated_file_final_partial_line_flushed_when_inactive(tmp_path: Path) -> None:
    """A rotated file's unterminated last line is emitted after close_inactive, not before."""
    log = tmp_path / "audit.log"
    append(log, b"done\nunfinished")
    h = Harness([make_input(tmp_path, close_inactive=30.0)])
    assert datas(h.drain()) == [b"done"]
    log.rename(tmp_path / "audit.log.1")
    assert h.drain(advance=10.0) == []
    (last,) = h.drain(advance=30.0)
    assert last.data == b"unfinished"
    assert (last.offset, last.end) == (5, 15)
    assert h.drain(advance=100.0) == []


def test_live_file_partial_line_never_flushed(tmp_path: Path) -> None:
    """The active file's unterminated line is not emitted however long it waits."""
    append(tmp_path / "audit.log", b"done\nunfinished")
    h = Harness([make_input(tmp_path, close_inactive=30.0)])
    assert datas(h.drain()) == [b"done"]
    assert h.drain(advance=1000.0) == []


def test_deleted_file_read_to_end_and_flushed(tmp_path: Path) -> None:
    """A deleted file still open is read to its end and its final unterminated line emitted."""
    log = tmp_path / "audit.log"
    append(log, b"a\nb")
    h = Harness([make_input(tmp_path)])
    assert datas(h.drain()) == [b"a"]
    append(log, b"c\nlast")
    log.unlink()
    assert datas(h.drain()) == [b"bc", b"last"]


def test_gz_of_already_read_file_not_reread(tmp_path: Path) -> None:
    """audit.log.1 compressed into audit.log.2.gz is recognised and only its unread tail read."""
    log = tmp_path / "audit.log"
    append(log, _lines("a", 0, 20))
    h = Harness([make_input(tmp_path, read_gz=True)])
    first = h.drain()
    rotated = tmp_path / "audit.log.1"
    log.rename(rotated)
    append(log, _lines("b", 0, 1))
    assert datas(h.drain()) == _expect("b", 0, 1)
    with open(rotated, "rb") as src, gzip.open(tmp_path / "audit.log.2.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    rotated.unlink()
    assert h.drain() == []
    assert h.drain(advance=5.0) == []
    keys = {s.file_key: s for s in h.t.status()}
    assert keys[first[0].file_key].path.endswith(".gz")


def test_gz_tail_unread_before_compression_is_read(tmp_path: Path) -> None:
    """Lines added to a rotated file but not read before it was compressed come from the gz."""
    log = tmp_path / "audit.log"
    append(log, _lines("a", 0, 5))
    h = Harness([make_input(tmp_path, read_gz=True)])
    first = h.drain()
    log.rename(tmp_path / "audit.log.1")
    h.t.close()  # stopped: the tail below is not read from the plain file
    offsets = h.checkpoint(first)
    append(tmp_path / "audit.log.1", _lines("a", 5, 8))
    with open(tmp_path / "audit.log.1", "rb") as src, gzip.open(tmp_path / "audit.log.2.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    (tmp_path / "audit.log.1").unlink()
    lines = Harness([make_input(tmp_path, read_gz=True)], offsets=offsets, first_start=False).drain()
    assert datas(lines) == _expect("a", 5, 8)
    assert lines[0].offset == first[-1].end


def test_gz_never_seen_is_read_once(tmp_path: Path) -> None:
    """An unknown gz is read in full once; later polls do not decompress it again."""
    with gzip.open(tmp_path / "audit.log.3.gz", "wb") as f:
        f.write(_lines("g", 0, 50) + b"tail")
    h = Harness([make_input(tmp_path, read_gz=True)])
    lines = h.drain()
    assert datas(lines) == [*_expect("g", 0, 50), b"tail"]
    assert h.drain() == []
    assert h.drain() == []


def test_gz_ignored_without_read_gz(tmp_path: Path) -> None:
    """With read_gz off, a .gz matching the glob is not read as text."""
    with gzip.open(tmp_path / "audit.log.2.gz", "wb") as f:
        f.write(_lines("g", 0, 3))
    append(tmp_path / "audit.log", _lines("p", 0, 1))
    assert datas(Harness([make_input(tmp_path)]).drain()) == _expect("p", 0, 1)


def test_partially_written_gz_read_when_complete(tmp_path: Path) -> None:
    """A gz still being written is retried later and read once it is complete."""
    content = gzip.compress(_lines("g", 0, 2000))
    gz = tmp_path / "audit.log.2.gz"
    gz.write_bytes(content[: len(content) // 2])
    h = Harness([make_input(tmp_path, read_gz=True)])
    early = h.drain()
    gz.write_bytes(content)
    lines = early + h.drain()
    assert datas(lines) == _expect("g", 0, 2000)


def test_truncated_and_regrown_past_offset_while_open(tmp_path: Path) -> None:
    """A file truncated and refilled beyond the read offset between polls is still seen as new."""
    log = tmp_path / "audit.log"
    append(log, _lines("a", 0, 2))
    h = Harness([make_input(tmp_path)])
    first = h.drain()
    with open(log, "r+b") as f:
        f.truncate(0)
        f.write(_lines("z", 0, 6))
    lines = h.drain()
    assert datas(lines) == _expect("z", 0, 6)
    assert lines[0].offset == 0
    assert lines[0].file_key != first[0].file_key
