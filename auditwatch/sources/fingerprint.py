"""A file's identity from its first lines, so renames and copytruncate copies keep their offsets."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

LINE_CAP = 1024  # bytes of each leading line that enter the fingerprint
_SCAN_LIMIT = 1 << 20  # give up (try again later) if the needed lines are not within this
_STEP = 4096

ReadAt = Callable[[int, int], bytes]  # (offset, size) -> bytes, short or empty at end of file


def fingerprint(read_at: ReadAt, lines: int, *, final: bool = False) -> str | None:
    """Hash of the first `lines` lines (each capped at LINE_CAP bytes), or None if not there yet.

    A line counts once its newline is written, or, for the last line needed, once LINE_CAP bytes of
    it exist (those bytes can no longer change). `final` means the content is complete (a gz file):
    the end of data then also ends a line, and fewer lines than asked for are enough.
    """
    digest = hashlib.blake2b(digest_size=12)
    pos = 0  # file offset of the current line's first byte
    for found in range(lines):
        last = found == lines - 1
        head = b""
        scan = pos
        while True:
            chunk = read_at(scan, _STEP)
            if not chunk:
                if last and len(head) >= LINE_CAP:
                    break
                if final and (head or found):
                    if head:
                        digest.update(head + b"\n")
                    return digest.hexdigest()
                return None
            nl = chunk.find(b"\n")
            if len(head) < LINE_CAP:
                head += chunk[: LINE_CAP - len(head) if nl < 0 else min(nl, LINE_CAP - len(head))]
            if nl >= 0:
                pos = scan + nl + 1
                break
            scan += len(chunk)
            if last and len(head) >= LINE_CAP:
                break
            if scan - pos > _SCAN_LIMIT:
                return None
        digest.update(head + b"\n")
    return digest.hexdigest()
