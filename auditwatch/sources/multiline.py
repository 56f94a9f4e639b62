"""Joins physical lines into multi-line records (stack traces, wrapped SQL) by a start or
continuation regex, with bounded memory."""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from auditwatch.sources.config import MultilineSpec


class Record(NamedTuple):
    """A finished record: where it lies in the file and its (possibly capped) bytes."""

    offset: int
    end: int
    data: bytes
    full_size: int
    full_sha1: str | None


class Assembler:
    """Holds at most one pending record: its first `cap` bytes and a running hash beyond that.

    When a physical line was itself capped by the line reader, the record's `full_sha1` covers
    the kept part of that line only (the rest was never held).
    """

    __slots__ = ("_cap", "_count", "_end", "_hash", "_head", "_last_add", "_offset", "_size", "_spec")

    def __init__(self, spec: MultilineSpec, cap: int) -> None:
        self._spec = spec
        self._cap = cap
        self._count = 0
        self._offset = 0
        self._end = 0
        self._head = bytearray()
        self._hash: hashlib._Hash | None = None
        self._size = 0
        self._last_add = 0.0

    @property
    def pending(self) -> bool:
        return self._count > 0

    def idle_since(self) -> float:
        return self._last_add

    def add(
        self, offset: int, end: int, data: bytes, full_size: int, *, now: float, out: list[Record]
    ) -> None:
        """Add one physical line; finished records are appended to `out`."""
        spec = self._spec
        if self._count:
            if spec.start is not None:
                begins = spec.start.search(data) is not None
            else:
                assert spec.continuation is not None
                begins = spec.continuation.search(data) is None
            if begins:
                out.append(self.flush())
        if self._count == 0:
            self._offset = offset
            self._append(data, full_size)
        else:
            self._append(b"\n" + data, full_size + 1)
        self._count += 1
        self._end = end
        self._last_add = now
        if self._count >= spec.max_lines:
            out.append(self.flush())

    def _append(self, piece: bytes, full_size: int) -> None:
        room = self._cap - len(self._head)
        if self._hash is None and (len(piece) > room or full_size > len(piece)):
            self._hash = hashlib.sha1(self._head, usedforsecurity=False)
        if self._hash is not None:
            self._hash.update(piece)
        if room > 0:
            self._head += piece[:room]
        self._size += full_size

    def flush(self) -> Record:
        """Emit the pending record (the caller checks `pending` first)."""
        sha = self._hash.hexdigest() if self._hash is not None else None
        rec = Record(self._offset, self._end, bytes(self._head), self._size, sha)
        self._count = 0
        self._head = bytearray()
        self._hash = None
        self._size = 0
        return rec
