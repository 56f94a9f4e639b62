"""File identity: which content stream (`file_key`) a file on disk is, and where reading it starts.

A file is known by `file_key`, a hash of its first `fingerprint_lines` lines, not by its path, so a
renamed file or a copytruncate copy keeps its key and its offset. When two live, different files
(different inode, content differing within the first 64 KiB) hash alike, for example CSV files with
the same header, the later one is keyed `<hash>-<dev>-<inode>` and a warning is logged once per
hash; that key is found again after a restart through the checkpoint. Files that begin with a fixed
header should set `fingerprint_lines` high enough to reach data.

`Identities` holds the files seen through the globs (`Inode`, by device and inode) and the content
streams (`Ident`, by file key), binds a stream to the inode it is read from, and tells a copy from a
different file; the tailer (`sources/tail.py`) decides when to look and reads.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import structlog

from auditwatch.sources.config import InputConfig
from auditwatch.sources.fingerprint import fingerprint
from auditwatch.sources.gz import GzIncompleteError, GzSource, gz_isize
from auditwatch.sources.reader import RecordReader

_log = structlog.get_logger(__name__)

_COMPARE = 64 << 10  # bytes compared to tell a copy of a file from a different file
_END_SEARCH = 64 << 10  # how far back start_at=end looks for the last newline
_FIRST_BYTES = 64 << 10  # read for a file's first event time (rotation order)

DevIno = tuple[int, int]
FirstTime = Callable[[InputConfig, bytes], float | None]  # (input, a file's first bytes) -> event time


class PlainSource:
    __slots__ = ("fd",)

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def read_at(self, pos: int, size: int) -> bytes:
        return os.pread(self.fd, size, pos)

    def fileno(self) -> int:
        return self.fd

    def close(self) -> None:
        os.close(self.fd)


Source = PlainSource | GzSource


class Inode:
    """A file seen through the globs."""

    __slots__ = ("cfg", "dev_ino", "done_sig", "fresh", "gz", "key", "old_key", "path", "sig", "unready_sig")

    def __init__(self, dev_ino: DevIno, path: str, cfg: InputConfig, fresh: bool) -> None:
        self.dev_ino = dev_ino
        self.path = path
        self.cfg = cfg
        self.gz = path.endswith(".gz")
        self.fresh = fresh  # appeared (or was truncated) after the first scan: read from 0
        self.key: str | None = None  # identity it belongs to (bound to it, or a copy of it)
        self.old_key: str | None = None  # key it had before being truncated
        self.sig: tuple[int, int] = (-1, -1)  # (size, mtime_ns) at the last scan
        self.unready_sig: tuple[int, int] | None = None  # fingerprint not ready at this sig
        self.done_sig: tuple[int, int] | None = None  # .gz read completely at this sig


class Ident:
    """One content stream (file_key) and where it is read from."""

    __slots__ = (
        "base",
        "cfg",
        "dev_ino",
        "finished",
        "first_ts",
        "gone_since",
        "last_growth",
        "last_ts",
        "reader",
        "rotated",
        "size",
        "src",
    )

    def __init__(self, key: str, base: str, cfg: InputConfig, *, pos: int, path: str, now: float) -> None:
        self.base = base  # the fingerprint (key without a dev/inode suffix)
        self.cfg = cfg
        self.reader = RecordReader(cfg, key, pos, path)
        self.dev_ino: DevIno | None = None  # inode it is bound to
        self.src: Source | None = None
        self.size = 0
        self.last_growth = now
        self.rotated = False  # renamed or deleted while followed
        self.finished = False  # fully read and flushed; only a newly found copy revives it
        self.gone_since: float | None = None
        self.first_ts: float | None = None  # event time of the content's first record, if known
        self.last_ts: float | None = None  # newest event time read from it (told by `note_times`)

    @property
    def key(self) -> str:
        return self.reader.file_key


class Identities:
    """The inodes seen and the content streams known, and the rules that bind one to the other."""

    def __init__(
        self, offsets: Mapping[str, int], *, first_start: bool, first_time: FirstTime | None
    ) -> None:
        self._saved = dict(offsets)  # file_key -> checkpointed offset, until the key is found
        self._first_start = first_start
        self._first_time = first_time
        self.inodes: dict[DevIno, Inode] = {}
        self.idents: dict[str, Ident] = {}
        self.hot: dict[str, None] = {}  # keys that may have unread data, in round-robin order
        self._warned_collisions: set[str] = set()

    def bound(self, ino: Inode) -> Ident | None:
        """The identity read from this inode now, if any."""
        ident = self.idents.get(ino.key) if ino.key is not None else None
        return ident if ident is not None and ident.dev_ino == ino.dev_ino else None

    def adopt_copy(self, owner: Ident, ino: Inode, now: float) -> None:
        """Follow the copy once the file it copies is gone (truncated, deleted, closed)."""
        if owner.dev_ino is not None or ino.done_sig == ino.sig:
            return
        if ino.gz:
            if not self._finished_gz(owner, ino):
                self.bind(owner, ino, None, now)
        elif not owner.finished or ino.sig[0] > owner.reader.pos:
            self.bind(owner, ino, None, now)

    def same_file(self, ident: Ident, ino: Inode) -> bool:
        """Does the file at the inode still begin with the lines this identity was read from?"""
        src = ident.src or self.open_file(ino)
        if src is None:
            return False
        try:
            return fingerprint(src.read_at, ident.cfg.fingerprint_lines) == ident.base
        finally:
            if src is not ident.src:
                src.close()

    def open_file(self, ino: Inode) -> Source | None:
        try:
            if ino.gz:
                return GzSource(ino.path)
            fd = os.open(ino.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return None
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != ino.dev_ino:  # replaced between stat and open
            os.close(fd)
            return None
        return PlainSource(fd)

    def identify(self, ino: Inode, st: os.stat_result, now: float) -> None:
        src = self.open_file(ino)
        if src is None:
            return
        try:
            fp = fingerprint(src.read_at, ino.cfg.fingerprint_lines, final=ino.gz)
        except GzIncompleteError:
            fp = None
        if fp is None:
            ino.unready_sig = ino.sig
            src.close()
            return
        qualified = f"{fp}-{ino.dev_ino[0]:x}-{ino.dev_ino[1]:x}"
        key = fp
        owner = self.idents.get(fp)
        if qualified in self.idents or qualified in self._saved:
            key = qualified
        elif ino.old_key == fp:
            key = self._collision(fp, qualified, ino, "truncated file rewritten with the same first lines")
        elif owner is not None and owner.dev_ino is not None and owner.dev_ino != ino.dev_ino:
            if self._is_copy(owner, src):
                ino.key = fp  # a copy (copytruncate, or compressed rotation) of a followed file
                src.close()
                return
            key = self._collision(fp, qualified, ino, "two different files have the same first lines")
        ident = self.idents.get(key)
        if ident is None:
            pos = self._start_position(key, ino, src, st)
            ident = self.idents[key] = Ident(key, fp, ino.cfg, pos=pos, path=ino.path, now=now)
            ident.first_ts = self._content_time(ino.cfg, src)
            if ino.gz and self._finished_gz(ident, ino):
                src.close()
                return
        elif ino.gz and self._finished_gz(ident, ino):
            src.close()
            return
        self.bind(ident, ino, src, now)

    def _content_time(self, cfg: InputConfig, src: Source) -> float | None:
        if self._first_time is None:
            return None
        try:
            head = src.read_at(0, _FIRST_BYTES)
        except (GzIncompleteError, OSError):
            return None
        try:
            return self._first_time(cfg, head)
        except Exception as exc:  # a parser bug must not stop the tailer; names still order files
            _log.warning("first_event_time_unavailable", input=cfg.name, error=str(exc))
            return None

    def _collision(self, fp: str, qualified: str, ino: Inode, why: str) -> str:
        if fp not in self._warned_collisions:
            self._warned_collisions.add(fp)
            _log.warning(
                "fingerprint collision, using dev/inode in the file key",
                path=ino.path,
                file_key=qualified,
                reason=why,
                hint="raise fingerprint_lines for files that share a header",
            )
        return qualified

    def _is_copy(self, owner: Ident, src: Source) -> bool:
        """Does `src` hold the same bytes as the owner's file where both have data?"""
        owner_ino = self.inodes.get(owner.dev_ino) if owner.dev_ino else None
        other: Source | None = owner.src
        temporary = None
        if other is None and owner_ino is not None:
            other = temporary = self.open_file(owner_ino)
        if other is None:
            return True  # cannot compare; the first lines match
        try:
            if fingerprint(other.read_at, owner.cfg.fingerprint_lines) != owner.base:
                # the owner's file no longer begins with these lines (copytruncate: truncated, and
                # perhaps rewritten, before we looked): `src` is where the identity lives on
                return True
            a, b = src.read_at(0, _COMPARE), other.read_at(0, _COMPARE)
        except GzIncompleteError:
            return True
        finally:
            if temporary is not None:
                temporary.close()
        n = min(len(a), len(b))
        return a[:n] == b[:n]

    def _start_position(self, key: str, ino: Inode, src: Source, st: os.stat_result) -> int:
        saved = self._saved.pop(key, None)
        if saved is not None:
            if not ino.gz and saved > st.st_size:
                _log.warning(
                    "file shorter than its checkpoint, reading it again", path=ino.path, file_key=key
                )
                return 0
            return saved
        if ino.fresh or not self._first_start or ino.cfg.start_at == "beginning":
            return 0
        if ino.gz:  # old history present at the first start: skip it
            return gz_isize(ino.path) or 0
        size = st.st_size
        tail_at = max(0, size - _END_SEARCH)
        tail = src.read_at(tail_at, size - tail_at)
        nl = tail.rfind(b"\n")
        return tail_at + nl + 1 if nl >= 0 else size

    def _finished_gz(self, ident: Ident, ino: Inode) -> bool:
        """A .gz whose content was already read to its end (as the plain file it was) is done."""
        pos = ident.reader.pos
        isize = gz_isize(ino.path)
        if pos == 0 or isize is None or pos % (1 << 32) != isize:
            return False
        ident.dev_ino, ident.finished, ident.size = ino.dev_ino, True, pos
        ident.reader.path = ino.path
        ino.key, ino.done_sig = ident.key, ino.sig
        return True

    def bind(self, ident: Ident, ino: Inode, src: Source | None, now: float) -> None:
        self.close_src(ident)
        ident.dev_ino, ident.src, ident.finished, ident.gone_since = ino.dev_ino, src, False, None
        ident.reader.path = ino.path
        ident.size = ino.sig[0]
        ident.last_growth = now
        ino.key = ident.key
        self.hot[ident.key] = None
        _log.info("file_following", path=ino.path, file_key=ident.key, offset=ident.reader.pos)

    def unbind(self, ident: Ident) -> None:
        self.close_src(ident)
        ident.dev_ino = None
        self.hot.pop(ident.key, None)

    def close_src(self, ident: Ident) -> None:
        if ident.src is not None:
            ident.src.close()
            ident.src = None
