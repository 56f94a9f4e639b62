"""Reading rotated, gzip-compressed files: decompressed offsets, sequential access."""

from __future__ import annotations

import gzip
import os
import struct
import zlib

from auditwatch.errors import AuditwatchError


class GzIncompleteError(AuditwatchError):
    """The gzip stream ends early or is corrupt (often: still being written); try again later."""


class GzSource:
    """`read_at` over the decompressed bytes of a .gz file, for forward reading.

    Holds the last chunk it returned so a caller that resumes slightly behind (after emitting
    fewer records than it read) does not force a rewind and re-decompression from the start.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._raw = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._gz = gzip.GzipFile(fileobj=self._raw, mode="rb")
        self._buf = b""
        self._buf_at = 0

    def fileno(self) -> int:
        return self._raw.fileno()

    def read_at(self, pos: int, size: int) -> bytes:
        try:
            tip = self._buf_at + len(self._buf)  # decompressed position of self._gz
            if pos < self._buf_at:
                self._gz.seek(0)
                self._buf, self._buf_at, tip = b"", 0, 0
            if pos >= tip:
                if pos > tip:
                    self._gz.seek(pos)
                data = self._gz.read(size)
            else:
                data = self._buf[pos - self._buf_at :]
                if len(data) < size:
                    data += self._gz.read(size - len(data))
                else:
                    return data[:size]  # served from the cache; keep the cache as is
        except (EOFError, OSError, zlib.error) as exc:
            raise GzIncompleteError(f"{self.path}: {exc}") from exc
        self._buf, self._buf_at = data, pos
        return data

    def close(self) -> None:
        self._gz.close()
        self._raw.close()


def gz_isize(path: str) -> int | None:
    """The gzip trailer's ISIZE: the (last member's) uncompressed size modulo 2**32."""
    try:
        with open(path, "rb") as f:
            f.seek(-4, os.SEEK_END)
            tail = f.read(4)
    except OSError:
        return None
    return struct.unpack("<I", tail)[0] if len(tail) == 4 else None
