"""Rotation order: a chain (live file + rotated copies) is read oldest first; chains take turns."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from auditwatch.sources.config import InputConfig
from auditwatch.sources.rotation import rotation_of
from auditwatch.sources.tail import Tailer
from auditwatch.sources.testing import Clock, Harness, append, datas, make_input


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("/l/audit.log.2.gz", "/l/audit.log.1"),
        ("/l/audit.log.10", "/l/audit.log.9"),
        ("/l/audit.log.1", "/l/audit.log"),
        ("/l/audit.log.1.gz", "/l/audit.log"),
        ("/l/audit.log-20261130.gz", "/l/audit.log-20261201"),
        ("/l/audit.log-20261201", "/l/audit.log"),
        ("/l/audit.log.2026-11-30", "/l/audit.log.1"),
    ],
)
def test_names_give_the_age_within_one_chain(older: str, newer: str) -> None:
    a, b = rotation_of(older), rotation_of(newer)
    assert a.chain == b.chain == "/l/audit.log"
    assert a.age < b.age


def test_different_live_files_are_different_chains() -> None:
    assert rotation_of("/l/host1.log").chain != rotation_of("/l/host2.log").chain
    assert rotation_of("/a/audit.log.1").chain != rotation_of("/b/audit.log").chain


def _gz(path: Path, data: bytes) -> None:
    with gzip.open(path, "wb") as f:
        f.write(data)


def test_a_chain_is_read_oldest_first_whatever_the_sizes(tmp_path: Path) -> None:
    """`.2.gz`, then `.1` (the largest, which used to be read first), then the live file, in small
    reads; before, files were followed largest first and took turns."""
    _gz(tmp_path / "audit.log.2.gz", b"".join(b"old%d\n" % i for i in range(3)))
    (tmp_path / "audit.log.1").write_bytes(b"".join(b"mid%d\n" % i for i in range(20)))
    (tmp_path / "audit.log").write_bytes(b"".join(b"new%d\n" % i for i in range(4)))
    h = Harness([make_input(tmp_path, read_gz=True)], first_start=False)
    got = []
    for _ in range(10):
        got += datas(h.step(max_records=4))
    assert got == [b"old%d" % i for i in range(3)] + [b"mid%d" % i for i in range(20)] + [
        b"new%d" % i for i in range(4)
    ]


def test_equal_names_are_ordered_by_their_first_event_time(tmp_path: Path) -> None:
    """Two copies of the same rank (`audit.log.1` and an older, different `audit.log.1.gz`) are
    read in the order of their first event time (the input's parser tells it)."""
    (tmp_path / "audit.log.1").write_bytes(b"t=20\nt=21\n")
    _gz(tmp_path / "audit.log.1.gz", b"t=10\nt=11\n")

    def first_time(cfg: InputConfig, head: bytes) -> float | None:
        return float(head.split(b"\n")[0][2:])

    clock = Clock()
    tailer = Tailer(
        [make_input(tmp_path, read_gz=True)],
        {},
        first_start=False,
        clock=clock,
        use_watchdog=False,
        first_time=first_time,
    )
    got = []
    try:
        for _ in range(4):
            clock.now += 1
            got += datas(tailer.read(max_records=1))
    finally:
        tailer.close()
    assert got == [b"t=10", b"t=11", b"t=20", b"t=21"]


def test_after_a_rotation_the_rotated_tail_comes_before_the_new_file(tmp_path: Path) -> None:
    """Lines appended to the old file just before it was renamed are emitted before the new file's."""
    log = tmp_path / "audit.log"
    log.write_bytes(b"a\n")
    h = Harness([make_input(tmp_path)])
    assert datas(h.drain()) == [b"a"]
    append(log, b"b\n" * 3)
    os.rename(log, tmp_path / "audit.log.1")
    log.write_bytes(b"c-first-line-of-new-file\n")
    got = []
    for _ in range(6):
        got += datas(h.step(max_records=1))
    assert got == [b"b", b"b", b"b", b"c-first-line-of-new-file"]


def test_chains_take_turns_so_one_busy_chain_does_not_starve_another(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_bytes(b"".join(b"a%d\n" % i for i in range(50)))
    (tmp_path / "b.log").write_bytes(b"b0\nb1\n")
    h = Harness([make_input(tmp_path, pattern="*.log")], first_start=False)
    first_three = [datas(h.step(max_records=5)) for _ in range(3)]
    assert any(b"b0" in batch for batch in first_three)


def test_the_tailer_follows_files_through_a_symlinked_directory(tmp_path: Path) -> None:
    """The daemon's globs go through a symlinked data directory (scan needed a fix; the tailer not)."""
    real = tmp_path / "srv"
    real.mkdir()
    os.symlink(real, tmp_path / "data")
    append(real / "audit.log", b"a\nb\n")
    h = Harness([make_input(tmp_path / "data")])
    assert datas(h.drain()) == [b"a", b"b"]
    os.rename(real / "audit.log", real / "audit.log.1")
    append(real / "audit.log.1", b"c\n")
    append(real / "audit.log", b"d\n")
    assert datas(h.drain()) == [b"c", b"d"]
