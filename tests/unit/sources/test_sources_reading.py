"""Reading records from one file: offsets, partial lines, capping, odd bytes, multi-line."""

from __future__ import annotations

import hashlib
import itertools
import re
import tracemalloc
from dataclasses import replace
from pathlib import Path

from auditwatch.model import RawLine
from auditwatch.sources.config import MultilineSpec
from auditwatch.sources.reader import RecordReader
from auditwatch.sources.testing import Harness, append, datas, make_input


def test_lines_carry_offsets_and_ends(tmp_path: Path) -> None:
    """Each record's offset is its first byte and end is just past its newline."""
    append(tmp_path / "audit.log", b"alpha\nbe\n\ngamma\n")
    h = Harness([make_input(tmp_path)])
    lines = h.drain()
    assert datas(lines) == [b"alpha", b"be", b"", b"gamma"]
    assert [(x.offset, x.end) for x in lines] == [(0, 6), (6, 9), (9, 10), (10, 16)]
    assert all(x.source == "rms" and x.path == str(tmp_path / "audit.log") for x in lines)
    assert all(x.full_size == len(x.data) and x.full_sha1 is None for x in lines)


def test_records_carry_offsets_and_ends(tmp_path: Path) -> None:
    """Each record's offset is its first byte and its end is just past its newline."""
    append(tmp_path / "audit.log", b"one\ntwo\n")
    lines = Harness([make_input(tmp_path)]).drain()
    key = lines[0].file_key
    path = str(tmp_path / "audit.log")
    assert lines == [RawLine("rms", path, key, 0, 4, b"one", 3), RawLine("rms", path, key, 4, 8, b"two", 3)]


def test_partial_line_waits_for_its_newline(tmp_path: Path) -> None:
    """An unterminated line is held back until its newline arrives, then emitted whole."""
    log = tmp_path / "audit.log"
    append(log, b"first\nsec")
    h = Harness([make_input(tmp_path)])
    assert datas(h.drain()) == [b"first"]
    append(log, b"ond")
    assert h.drain() == []
    append(log, b"\nthird\n")
    lines = h.drain()
    assert datas(lines) == [b"second", b"third"]
    assert (lines[0].offset, lines[0].end) == (6, 13)


def test_crlf_stripped_and_bad_bytes_kept(tmp_path: Path) -> None:
    """CRLF terminators are stripped; invalid UTF-8 and NUL bytes pass through untouched."""
    append(tmp_path / "audit.log", b"win\r\n\xff\xfe\x00bad\x00\nmid\rline\n")
    lines = Harness([make_input(tmp_path)]).drain()
    assert datas(lines) == [b"win", b"\xff\xfe\x00bad\x00", b"mid\rline"]
    assert lines[0].end == 5
    assert lines[0].full_size == 3


def test_long_line_capped_with_full_hash(tmp_path: Path) -> None:
    """A line over max_line_bytes keeps its head, and reports its full size and SHA-1."""
    long = b"x" * 5000 + b"TAIL"
    append(tmp_path / "audit.log", b"short\n" + long + b"\r\nafter\n")
    lines = Harness([make_input(tmp_path, max_line_bytes=100)]).drain()
    assert datas(lines) == [b"short", b"x" * 100, b"after"]
    capped = lines[1]
    assert capped.full_size == len(long)
    assert capped.truncated
    assert capped.full_sha1 == hashlib.sha1(long).hexdigest()
    assert capped.end == 6 + len(long) + 2 == lines[2].offset


def test_huge_line_streamed_with_bounded_memory(tmp_path: Path) -> None:
    """A 20 MB line arriving in pieces is hashed as it streams; memory stays near one chunk."""
    log = tmp_path / "audit.log"
    append(log, b"head\n")
    h = Harness([make_input(tmp_path, max_line_bytes=1000)])
    assert datas(h.drain()) == [b"head"]
    piece = b"0123456789abcdef" * (1 << 16)  # 1 MiB
    digest = hashlib.sha1()
    tracemalloc.start()
    try:
        for _ in range(20):
            append(log, piece)
            digest.update(piece)
            assert h.drain() == []
        append(log, b"\r\n")
        lines = h.drain()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(lines) == 1
    assert lines[0].data == piece[:1000]
    assert lines[0].full_size == 20 * len(piece)
    assert lines[0].full_sha1 == digest.hexdigest()
    assert peak < 4 * len(piece)


def test_line_exactly_at_cap_is_not_truncated(tmp_path: Path) -> None:
    """A CRLF line whose data is exactly max_line_bytes long is complete, with no hash."""
    log = tmp_path / "audit.log"
    append(log, b"h\n" + b"y" * 10)
    h = Harness([make_input(tmp_path, max_line_bytes=10)])
    h.drain()
    append(log, b"\r\n")
    (line,) = h.drain()
    assert line.data == b"y" * 10
    assert line.full_size == 10
    assert line.full_sha1 is None


def _ml(directory: Path, **kw: object) -> Harness:
    spec = MultilineSpec(**kw)  # type: ignore[arg-type]
    return Harness([make_input(directory, multiline=spec)])


def test_multiline_start_pattern_joins_records(tmp_path: Path) -> None:
    """Lines not matching `start` continue the record; offsets span first to last line."""
    append(tmp_path / "audit.log", b"2024 a\n  at x\n  at y\n2024 b\n2024 c\n")
    h = _ml(tmp_path, start=re.compile(rb"^\d{4} "), continuation=None, max_lines=50, idle_flush=5.0)
    lines = h.drain()
    assert datas(lines) == [b"2024 a\n  at x\n  at y", b"2024 b"]
    assert (lines[0].offset, lines[0].end, lines[0].full_size) == (0, 21, 20)
    assert h.drain(advance=1.0) == []  # "2024 c" may still get continuation lines
    (last,) = h.drain(advance=5.0)  # idle_flush elapsed
    assert (last.data, last.offset, last.end) == (b"2024 c", 28, 35)


def test_multiline_continuation_pattern_and_max_lines(tmp_path: Path) -> None:
    """Lines matching `continuation` append to the previous one; max_lines bounds a record."""
    append(tmp_path / "audit.log", b"a\n\tb\n\tc\n\td\nz\n")
    h = _ml(tmp_path, start=None, continuation=re.compile(rb"^\t"), max_lines=3, idle_flush=5.0)
    lines = h.drain()
    assert datas(lines) == [b"a\n\tb\n\tc", b"\td"]
    assert datas(h.drain(advance=6.0)) == [b"z"]


def test_multiline_record_capped(tmp_path: Path) -> None:
    """A joined record over max_line_bytes is capped and hashed as a whole."""
    body = b"S1\n" + b"".join(b" line %d\n" % i for i in range(50))
    append(tmp_path / "audit.log", body + b"S2\n")
    spec = MultilineSpec(start=re.compile(rb"^S"), continuation=None, max_lines=100, idle_flush=1.0)
    h = Harness([make_input(tmp_path, multiline=spec, max_line_bytes=64)])
    first = h.drain()[0]
    whole = body[:-1]
    assert first.data == whole[:64]
    assert first.full_size == len(whole)
    assert first.full_sha1 == hashlib.sha1(whole).hexdigest()


def test_reader_budget_resumes_without_gaps(tmp_path: Path) -> None:
    """Stopping at max_records mid-chunk resumes at the next record, none lost or repeated."""
    log = tmp_path / "audit.log"
    log.write_bytes(b"".join(b"line-%05d\n" % i for i in range(1000)))
    cfg = make_input(tmp_path)
    reader = RecordReader(cfg, "k", 0, str(log))
    data = log.read_bytes()
    out: list[RawLine] = []
    while True:
        before = len(out)
        reader.read(lambda pos, n: data[pos : pos + n], out, 7, 1 << 20, 0.0)
        if len(out) == before:
            break
        assert len(out) - before <= 7
    assert datas(out) == [b"line-%05d" % i for i in range(1000)]
    assert all(a.end == b.offset for a, b in itertools.pairwise(out))


def test_multiline_budget_resumes_without_gaps(tmp_path: Path) -> None:
    """A multi-line reader stopped by max_records continues with the following records intact."""
    log = tmp_path / "audit.log"
    log.write_bytes(b"".join(b"S%d\n c%d\n" % (i, i) for i in range(100)))
    spec = MultilineSpec(start=re.compile(rb"^S"), continuation=None, max_lines=10, idle_flush=1.0)
    reader = RecordReader(replace(make_input(tmp_path), multiline=spec), "k", 0, str(log))
    data = log.read_bytes()
    out: list[RawLine] = []
    for _ in range(100):
        reader.read(lambda pos, n: data[pos : pos + n], out, 3, 1 << 20, 0.0)
    reader.flush_final(0.0, out)
    assert datas(out) == [b"S%d\n c%d" % (i, i) for i in range(100)]
