"""Tailer behaviour across many files: discovery, start position, budgets, descriptors, waking."""

from __future__ import annotations

import threading
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

from auditwatch.sources.tail import Tailer
from auditwatch.sources.testing import Harness, append, datas, make_input, open_fds


def test_globs_excludes_and_late_files(tmp_path: Path) -> None:
    """Several globs and inputs; excluded names skipped; files created later read from 0."""
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    append(tmp_path / "x" / "audit.log", b"x1\n")
    append(tmp_path / "x" / "audit.log.tmp", b"skip\n")
    append(tmp_path / "y" / "trail.txt", b"y1\n")
    rms = replace(make_input(tmp_path / "x"), paths=(str(tmp_path / "x" / "audit.log*"),), exclude=("*.tmp",))
    other = replace(make_input(tmp_path / "y", "*.txt"), name="other")
    h = Harness([rms, other], offsets={}, first_start=True)
    lines = h.drain()
    assert sorted((x.source, x.data) for x in lines) == [("other", b"y1"), ("rms", b"x1")]
    append(tmp_path / "y" / "late.txt", b"late1\nlate2\n")
    late = h.drain()
    assert [(x.source, x.data, x.offset) for x in late] == [("other", b"late1", 0), ("other", b"late2", 6)]


def test_start_at_end_only_for_files_present_at_first_start(tmp_path: Path) -> None:
    """start_at=end skips existing content at the first start; later files start at 0."""
    append(tmp_path / "audit.log", b"old1\nold2\npart")
    h = Harness([make_input(tmp_path, start_at="end")])
    assert h.drain() == []
    append(tmp_path / "audit.log", b"ial\nnew\n")
    assert datas(h.drain()) == [b"partial", b"new"]
    append(tmp_path / "audit.log.2", b"later\n")
    assert datas(h.drain()) == [b"later"]


def test_start_at_end_ignored_when_not_first_start(tmp_path: Path) -> None:
    """Without first_start, a file with no checkpoint is read from its beginning."""
    append(tmp_path / "audit.log", b"old1\nold2\n")
    h = Harness([make_input(tmp_path, start_at="end")], first_start=False)
    assert datas(h.drain()) == [b"old1", b"old2"]


def test_file_without_complete_first_line_waits(tmp_path: Path) -> None:
    """A file whose first line is unterminated gets no key and no records until it is complete."""
    log = tmp_path / "audit.log"
    append(log, b"incompl")
    h = Harness([make_input(tmp_path)])
    assert h.drain() == []
    assert h.t.status() == []
    append(log, b"ete\n")
    assert datas(h.drain()) == [b"incomplete"]


def test_budgets_bound_each_read(tmp_path: Path) -> None:
    """read() honours max_records and max_bytes and later calls continue without gaps."""
    for n in range(3):
        append(tmp_path / f"audit.log.{n}", b"".join(b"f%d-%05d\n" % (n, i) for i in range(3000)))
    h = Harness([make_input(tmp_path)])
    h.clock.now += 1
    got = []
    while batch := h.t.read(max_records=500, max_bytes=8 << 20):
        assert len(batch) <= 500
        got += batch
    while batch := h.t.read(max_records=100_000, max_bytes=4096):
        assert sum(len(x.data) + 1 for x in batch) <= 4096 + (1 << 20)
        got += batch
    assert sorted(datas(got)) == sorted(b"f%d-%05d" % (n, i) for n in range(3) for i in range(3000))
    assert len(got) == len({(x.file_key, x.offset) for x in got})


def test_status_reports_progress(tmp_path: Path) -> None:
    """status() lists each followed file with its read offset, size and bytes behind."""
    append(tmp_path / "audit.log", b"a\nb\n")
    h = Harness([make_input(tmp_path)])
    h.drain()
    append(tmp_path / "audit.log", b"c\n")
    (s,) = h.t.status()
    assert (s.path, s.input, s.offset) == (str(tmp_path / "audit.log"), "rms", 4)
    h.step(0.0, max_records=1)  # no rescan: size still the last scanned one
    h.step()
    (s,) = h.t.status()
    assert (s.offset, s.size, s.behind) == (6, 6, 0)


def test_thousand_files_close_descriptors_and_stay_small(tmp_path: Path) -> None:
    """1,000 files: read fully, descriptors released after close_inactive, memory bounded."""
    for n in range(1000):
        append(tmp_path / f"f{n:04d}.log", b"".join(b"file %d line %d\n" % (n, i) for i in range(20)))
    baseline = open_fds()
    tracemalloc.start()
    try:
        h = Harness([make_input(tmp_path, "*.log", close_inactive=60.0)])
        total = len(h.drain())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == 20_000
    assert open_fds() - baseline > 900  # all open while active
    h.drain(advance=61.0)
    assert open_fds() - baseline < 10
    assert peak < 40 << 20
    for n in range(0, 1000, 100):
        append(tmp_path / f"f{n:04d}.log", b"more\n")
    again = h.drain()
    assert len(again) == 10
    assert {x.data for x in again} == {b"more"}


def test_watchdog_wakes_wait(tmp_path: Path) -> None:
    """wait() returns soon after a file in a watched directory changes (real watchdog)."""
    append(tmp_path / "audit.log", b"a\n")
    t = Tailer([make_input(tmp_path, poll_interval=3600.0)], {}, first_start=True)
    try:
        assert datas(t.read()) == [b"a"]
        t.wait(0)  # consume events caused by our own first read
        t.read()
        timer = threading.Timer(0.3, append, (tmp_path / "audit.log", b"b\n"))
        started = time.monotonic()
        timer.start()
        t.wait(10.0)
        waited = time.monotonic() - started
        timer.join()
        assert waited < 5.0
        deadline = time.monotonic() + 5.0
        got: list[bytes] = []
        while not got and time.monotonic() < deadline:
            got = datas(t.read())
            if not got:
                t.wait(0.5)
        assert got == [b"b"]
    finally:
        t.close()
