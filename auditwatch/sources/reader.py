"""Reads complete records from one file, starting at an offset, in large chunks.

The only state kept between calls is the read position, at most one unterminated line (its first
`cap` bytes plus a running SHA-1 when longer) and at most one pending multi-line record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from auditwatch.model import RawLine
from auditwatch.sources.config import InputConfig
from auditwatch.sources.multiline import Assembler, Record

CHUNK = 1 << 20

ReadAt = Callable[[int, int], bytes]  # (offset, size) -> bytes; short or empty at end of data


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


class RecordReader:
    """Turns the bytes of one file identity into RawLines; `pos` is the next byte to read."""

    def __init__(self, cfg: InputConfig, file_key: str, pos: int, path: str) -> None:
        self.source = cfg.name
        self.file_key = file_key
        self.path = path
        self.pos = pos
        self._cap = cfg.max_line_bytes
        self._asm = Assembler(cfg.multiline, cfg.max_line_bytes) if cfg.multiline else None
        self._recs: list[Record] = []
        # the unterminated line at the end of what was read
        self._pstart = pos
        self._phead = b""  # its first cap + 1 bytes
        self._psize = 0
        self._phash: hashlib._Hash | None = None  # set once it outgrows the head
        self._pcr = False  # a trailing b"\r" was held back from the hash

    @property
    def partial_bytes(self) -> int:
        return self._psize

    @property
    def record_pending(self) -> bool:
        return self._asm is not None and self._asm.pending

    def read(
        self, read_at: ReadAt, out: list[RawLine], max_records: int, max_bytes: int, now: float
    ) -> tuple[int, bool]:
        """Append up to `max_records` records to `out`; return (bytes read, reached end of data)."""
        start_len = len(out)
        nread = 0
        while len(out) - start_len < max_records and nread < max_bytes:
            want = min(CHUNK, max_bytes - nread)
            buf = read_at(self.pos, want)
            if not buf:
                return nread, True
            nread += len(buf)
            base = self.pos
            start = 0
            if self._psize:
                nl = buf.find(b"\n")
                if nl < 0:
                    self._extend(buf)
                    self.pos = base + len(buf)
                    continue
                self._extend(buf[:nl])
                self._finish_partial(base + nl + 1, out, now)
                start = nl + 1
                if len(out) - start_len >= max_records:
                    self.pos = base + start
                    return nread, False
            last = buf.rfind(b"\n", start)
            if last >= 0:
                lines = buf[start:last].split(b"\n")
                room = max_records - (len(out) - start_len)
                if self._asm is None:
                    slow = buf.find(b"\r", start, last) >= 0 or (
                        last - start > self._cap and max(map(len, lines)) > self._cap
                    )
                    if len(lines) > room:
                        del lines[room:]
                        self.pos = self._emit(lines, base + start, slow, out)
                        return nread, False
                    self._emit(lines, base + start, slow, out)
                else:
                    cut = self._emit_multiline(lines, base + start, out, now, start_len + max_records)
                    if cut is not None:
                        self.pos = cut
                        return nread, False
                start = last + 1
            if start < len(buf):
                self._pstart = base + start
                self._extend(buf[start:])
            self.pos = base + len(buf)
            if len(buf) < want:
                return nread, True
        return nread, False

    def _emit(self, lines: list[bytes], off: int, slow: bool, out: list[RawLine]) -> int:
        """Emit complete lines starting at file offset `off`; return the offset after them."""
        cap = self._cap
        source, path, key = self.source, self.path, self.file_key
        app = out.append
        if not slow:
            make = tuple.__new__  # RawLine(...) through NamedTuple's Python-level __new__ costs ~3x
            for line in lines:
                end = off + len(line) + 1
                app(make(RawLine, (source, path, key, off, end, line, end - off - 1, None)))
                off = end
            return off
        for line in lines:
            end = off + len(line) + 1
            data = line[:-1] if line[-1:] == b"\r" else line
            if len(data) > cap:
                app(RawLine(source, path, key, off, end, data[:cap], len(data), _sha1(data)))
            else:
                app(RawLine(source, path, key, off, end, data, len(data)))
            off = end
        return off

    def _emit_multiline(
        self, lines: list[bytes], off: int, out: list[RawLine], now: float, limit: int
    ) -> int | None:
        """Feed lines to the assembler; return the offset to resume at if `limit` was reached."""
        assert self._asm is not None
        add = self._asm.add
        recs = self._recs
        cap = self._cap
        for line in lines:
            end = off + len(line) + 1
            data = line[:-1] if line[-1:] == b"\r" else line
            add(off, end, data[:cap], len(data), now=now, out=recs)
            if recs:
                self._out_records(out)
                if len(out) >= limit:
                    return end
            off = end
        return None

    def _out_records(self, out: list[RawLine]) -> None:
        for r in self._recs:
            out.append(
                RawLine(
                    self.source, self.path, self.file_key, r.offset, r.end, r.data, r.full_size, r.full_sha1
                )
            )
        self._recs.clear()

    def _extend(self, piece: bytes) -> None:
        """Grow the unterminated line by `piece`, keeping cap + 1 bytes and hashing the rest."""
        if not piece:
            return
        head = self._phead
        keep = self._cap + 1
        rest = piece
        if len(head) < keep:
            take = piece[: keep - len(head)]
            self._phead = head = head + take
            rest = piece[len(take) :]
        self._psize += len(piece)
        if rest:
            if self._phash is None:
                self._phash = hashlib.sha1(head, usedforsecurity=False)
            elif self._pcr:
                self._phash.update(b"\r")
            self._pcr = rest[-1:] == b"\r"
            self._phash.update(rest[:-1] if self._pcr else rest)

    def _take_partial(self, terminated: bool) -> tuple[int, bytes, int, str | None]:
        """The pending partial line as (offset, data, full size, sha1) and forget it."""
        head, size, cap = self._phead, self._psize, self._cap
        if self._phash is None:
            if terminated and head[-1:] == b"\r":
                head = head[:-1]
            size = len(head)
            sha = _sha1(head) if size > cap else None
        else:
            if self._pcr:
                if terminated:
                    size -= 1
                else:
                    self._phash.update(b"\r")
            sha = self._phash.hexdigest()
        start = self._pstart
        self._phead, self._psize, self._phash, self._pcr = b"", 0, None, False
        return start, head[:cap], size, sha

    def _finish_partial(self, end: int, out: list[RawLine], now: float) -> None:
        start, data, size, sha = self._take_partial(terminated=True)
        self._one(start, end, data, size, sha, out=out, now=now)

    def _one(
        self, off: int, end: int, data: bytes, size: int, sha: str | None, *, out: list[RawLine], now: float
    ) -> None:
        if self._asm is None:
            out.append(RawLine(self.source, self.path, self.file_key, off, end, data, size, sha))
        else:
            self._asm.add(off, end, data, size, now=now, out=self._recs)
            self._out_records(out)

    def flush_idle(self, now: float, idle: float, out: list[RawLine]) -> None:
        """Emit a pending multi-line record that has waited `idle` seconds for more lines."""
        if self._asm is not None and self._asm.pending and now - self._asm.idle_since() >= idle:
            self._recs.append(self._asm.flush())
            self._out_records(out)

    def flush_final(self, now: float, out: list[RawLine]) -> None:
        """The file will not grow again: emit its unterminated last line and any pending record."""
        if self._psize:
            start, data, size, sha = self._take_partial(terminated=False)
            self._one(start, self.pos, data, size, sha, out=out, now=now)
        if self._asm is not None and self._asm.pending:
            self._recs.append(self._asm.flush())
            self._out_records(out)
