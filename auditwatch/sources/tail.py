"""The Tailer: follows every file the inputs' globs match, across rotation, truncation and restarts.

Identity. A file is known by `file_key`, a hash of its first `fingerprint_lines` lines, not by
its path, so a renamed file or a copytruncate copy keeps its key and its offset. When two live,
different files (different inode, content differing within the first 64 KiB) hash alike, for
example CSV files with the same header, the later one is keyed `<hash>-<dev>-<inode>` and a
warning is logged once per hash; that key is found again after a restart through the checkpoint.
Files that begin with a fixed header should set `fingerprint_lines` high enough to reach data.

Order. Files of one chain (a live file and its rotated copies: `audit.log.2.gz`, `audit.log.1`,
`audit.log`) are read oldest first, so a chain's records come out in the order they were written;
different chains and inputs take turns. Names give the age (`sources/rotation.py`); between names
that rank alike the content's first event time (`first_time`) decides, and when the two disagree
a warning says so.

Positions. `offsets` (file_key -> delivered offset) is where each known file resumes; the read
position runs ahead of it; an unterminated last line or a pending multi-line record is held in
memory, never skipped: after a crash those bytes are read again from the checkpoint.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import structlog

from auditwatch.model import RawLine
from auditwatch.sources import discovery
from auditwatch.sources.config import InputConfig
from auditwatch.sources.fingerprint import fingerprint
from auditwatch.sources.gz import GzIncompleteError, GzSource, gz_isize
from auditwatch.sources.reader import RecordReader
from auditwatch.sources.rotation import rotation_of
from auditwatch.sources.watch import DirWatcher

_log = structlog.get_logger(__name__)

_COMPARE = 64 << 10  # bytes compared to tell a copy of a file from a different file
_END_SEARCH = 64 << 10  # how far back start_at=end looks for the last newline
_FIRST_BYTES = 64 << 10  # read for a file's first event time (rotation order)
_FORGET_AFTER = 3600.0  # an identity whose file is gone is forgotten after this many seconds

DevIno = tuple[int, int]
FirstTime = Callable[[InputConfig, bytes], float | None]  # (input, a file's first bytes) -> event time


@dataclass(frozen=True)
class FileStatus:
    """One followed file, for health and metrics."""

    path: str
    file_key: str
    input: str
    offset: int  # read position (decompressed bytes for .gz)
    size: int
    behind: int


class _PlainSource:
    __slots__ = ("fd",)

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def read_at(self, pos: int, size: int) -> bytes:
        return os.pread(self.fd, size, pos)

    def fileno(self) -> int:
        return self.fd

    def close(self) -> None:
        os.close(self.fd)


_Source = _PlainSource | GzSource


class _Inode:
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


class _Ident:
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
        self.src: _Source | None = None
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


class Tailer:
    """Pull-based reader of all inputs' files; see the module docstring for identity rules."""

    def __init__(
        self,
        inputs: Sequence[InputConfig],
        offsets: Mapping[str, int],
        *,
        first_start: bool,
        clock: Callable[[], float] = time.monotonic,
        use_watchdog: bool = True,
        first_time: FirstTime | None = None,
    ) -> None:
        """`first_time` tells the event time of a file's first record (the input's parser); it breaks
        ties in rotation order and confirms it."""
        self._inputs = tuple(inputs)
        self._first_time = first_time
        self._warned_order: set[tuple[str, str]] = set()
        self._saved = dict(offsets)
        self._first_start = first_start
        self._clock = clock
        self._watcher = DirWatcher(use_watchdog)
        self._poll = min((c.poll_interval for c in self._inputs), default=1.0)
        self._initial = True
        self._next_scan = float("-inf")
        self._inodes: dict[DevIno, _Inode] = {}
        self._idents: dict[str, _Ident] = {}
        self._by_path: dict[str, DevIno] = {}
        self._hot: dict[str, None] = {}  # keys that may have unread data, in round-robin order
        self._warned_paths: set[str] = set()
        self._globs = re.compile(
            "|".join(fnmatch.translate(p) for c in self._inputs for p in c.paths) or "(?!)"
        )
        self._warned_collisions: set[str] = set()

    # -- public -------------------------------------------------------------------------------

    def read(self, max_records: int = 5000, max_bytes: int = 8 << 20) -> list[RawLine]:
        """Records available now (each file's in order), bounded by max_records / max_bytes."""
        now = self._clock()
        out: list[RawLine] = []
        structural, modified = self._watcher.take()
        rescan = structural or now >= self._next_scan
        for path in modified:
            ino = self._inodes.get(self._by_path.get(path, (-1, -1)))
            if ino is None or ino.key is None:
                # a new file whose first line may now be complete (other files are ignored)
                rescan = rescan or self._globs.match(path) is not None
            elif self._idents[ino.key].dev_ino == ino.dev_ino:
                self._hot[ino.key] = None
        if rescan:
            self._scan(now, out)
        used = 0
        for key in self._read_order():
            if len(out) >= max_records or used >= max_bytes:
                break
            ident = self._idents.get(key)
            src = self._source(ident, now, out) if ident is not None else None
            if ident is None or src is None:
                self._hot.pop(key, None)
                continue
            try:
                nread, eof = ident.reader.read(
                    src.read_at, out, max_records - len(out), max_bytes - used, now
                )
            except GzIncompleteError as exc:
                _log.info("gzip_incomplete", path=ident.reader.path, error=str(exc))
                self._close_src(ident)
                self._hot.pop(key, None)
                continue
            except OSError as exc:
                _log.warning("read_failed", path=ident.reader.path, error=str(exc))
                self._close_src(ident)
                self._hot.pop(key, None)
                continue
            used += nread
            if nread:
                ident.last_growth = now
            del self._hot[key]
            if eof:
                self._at_eof(ident, out, now)
            else:
                self._hot[key] = None  # more to read: to the back of the queue
        for ident in self._idents.values():
            if len(out) >= max_records:
                break
            if ident.reader.record_pending and ident.key not in self._hot and ident.cfg.multiline:
                ident.reader.flush_idle(now, ident.cfg.multiline.idle_flush, out)
        return out

    def note_times(self, newest: Mapping[str, float]) -> None:
        """The newest event time parsed from each file (by file key) in what `read` returned: chains
        that are behind in event time are then read first, and `backlog_time` can tell them."""
        idents = self._idents
        for key, ts in newest.items():
            ident = idents.get(key)
            if ident is not None and (ident.last_ts is None or ts > ident.last_ts):
                ident.last_ts = ts

    def backlog_time(self) -> float:
        """The event time up to which every chain with unread data has been read (the least of their
        newest event times; -inf if one of them has told none yet, +inf if none has unread data).
        Events later than this may still be preceded by records not read yet."""
        floor = float("inf")
        for chain in self._chains([k for k in self._hot if k in self._idents]).values():
            floor = min(floor, self._chain_time(chain))
        return floor

    def _chains(self, keys: list[str]) -> dict[tuple[str, str], list[tuple[tuple[object, ...], str]]]:
        """Keys grouped by (input, rotation chain), each group oldest first."""
        chains: dict[tuple[str, str], list[tuple[tuple[object, ...], str]]] = {}
        for position, key in enumerate(keys):
            ident = self._idents.get(key)
            if ident is None:
                chains[("", key)] = [(((9, 0.0), 0.0, position), key)]
                continue
            rotation = rotation_of(ident.reader.path)
            first = ident.first_ts if ident.first_ts is not None else float("inf")
            chains.setdefault((ident.cfg.name, rotation.chain), []).append(
                ((rotation.age, first, position), key)
            )
        for members in chains.values():
            members.sort()
        return chains

    def _chain_time(self, members: list[tuple[tuple[object, ...], str]]) -> float:
        """The newest event time read from the chain's files (-inf: none told yet)."""
        newest = float("-inf")
        for _, key in members:
            ident = self._idents.get(key)
            if ident is not None and ident.last_ts is not None:
                newest = max(newest, ident.last_ts)
        return newest

    def _read_order(self) -> list[str]:
        """Hot keys to read now: each chain's files oldest first; the chain furthest behind in event
        time first (chains not timed yet first of all), then in the order their next file joined
        the queue (a file not read to its end goes to the back)."""
        hot = list(self._hot)
        if len(hot) < 2:
            return hot
        ranked: list[tuple[float, int, list[str]]] = []
        for members in self._chains(hot).values():
            if len(members) > 1:
                self._check_order([k for _, k in members])
            oldest_position = members[0][0][2]
            assert isinstance(oldest_position, int)
            ranked.append((self._chain_time(members), oldest_position, [k for _, k in members]))
        ranked.sort(key=lambda r: (r[0], r[1]))
        return [key for _, _, keys in ranked for key in keys]

    def _check_order(self, keys: list[str]) -> None:
        """Warn (once per pair) when name order and content order of a chain disagree."""
        previous: _Ident | None = None
        for key in keys:
            ident = self._idents[key]
            if (
                previous is not None
                and previous.first_ts is not None
                and ident.first_ts is not None
                and ident.first_ts < previous.first_ts
                and (previous.key, key) not in self._warned_order
            ):
                self._warned_order.add((previous.key, key))
                _log.warning(
                    "rotation order by name disagrees with the content's first event time",
                    older=previous.reader.path,
                    newer=ident.reader.path,
                    hint="files are read in name order; check the rotation naming",
                )
            previous = ident

    def wait(self, timeout: float) -> None:
        """Block until a watched directory changes, or `timeout` seconds."""
        self._watcher.wait(timeout)

    def status(self) -> list[FileStatus]:
        """Every file currently followed."""
        result = []
        for ident in tuple(self._idents.values()):  # may be called from another thread
            if ident.dev_ino is None and ident.src is None:
                continue
            pos = ident.reader.pos
            size = max(ident.size, pos) if ident.finished else ident.size
            result.append(
                FileStatus(ident.reader.path, ident.key, ident.cfg.name, pos, size, max(0, size - pos))
            )
        return result

    def close(self) -> None:
        """Stop watching and close every open file."""
        self._watcher.close()
        for ident in self._idents.values():
            self._close_src(ident)

    # -- scanning -----------------------------------------------------------------------------

    def _scan(self, now: float, out: list[RawLine]) -> None:
        self._next_scan = now + self._poll
        self._watcher.update(discovery.watch_dirs(self._inputs))
        found: dict[DevIno, tuple[str, InputConfig, os.stat_result]] = {}
        for path, cfg in discovery.expand(self._inputs, self._warned_paths):
            try:
                st = os.stat(path)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                found.setdefault((st.st_dev, st.st_ino), (path, cfg, st))  # hard links: first path
        self._by_path = {path: di for di, (path, _, _) in found.items()}
        for di, ino in list(self._inodes.items()):
            if di not in found:
                del self._inodes[di]
                self._lost(ino, now, out)
        # larger first: while a copytruncate copy and its original coexist, the original
        # (the larger, still growing one) is the one followed
        for di, (path, cfg, st) in sorted(found.items(), key=lambda kv: -kv[1][2].st_size):
            known = self._inodes.get(di)
            if known is None:
                ino = self._inodes[di] = _Inode(di, path, cfg, fresh=not self._initial)
                _log.info("file_discovered", path=path, input=cfg.name)
            else:
                ino = known
            if ino.path != path:
                _log.info("file_renamed", old=ino.path, path=path)
                ino.path = path
                ident = self._bound(ino)
                if ident is not None:
                    ident.reader.path = path
                    ident.rotated = True
            self._visit(ino, st, now, out)
        for ino in self._inodes.values():  # copies whose original went away during this scan
            owner = self._idents.get(ino.key) if ino.key is not None else None
            if owner is not None and owner.dev_ino is None:
                self._adopt_copy(owner, ino, now)
        if self._initial:
            self._initial = False
            for ino in self._inodes.values():
                ino.fresh = True  # anything not identified yet is new content
        self._housekeep(now, out)

    def _bound(self, ino: _Inode) -> _Ident | None:
        ident = self._idents.get(ino.key) if ino.key is not None else None
        return ident if ident is not None and ident.dev_ino == ino.dev_ino else None

    def _visit(self, ino: _Inode, st: os.stat_result, now: float, out: list[RawLine]) -> None:
        sig = (st.st_size, st.st_mtime_ns)
        changed, ino.sig = sig != ino.sig, sig
        if ino.done_sig == sig:
            return
        ident = self._bound(ino)
        if ident is not None:
            ident.gone_since = None
            if ino.gz:
                if not ident.finished:
                    self._hot[ident.key] = None
                return
            ident.size = st.st_size
            if st.st_size < ident.reader.pos:
                _log.warning(
                    "file truncated",
                    path=ino.path,
                    file_key=ident.key,
                    size=st.st_size,
                    offset=ident.reader.pos,
                )
                self._unbind(ident)
                ino.key, ino.old_key, ino.fresh, ino.unready_sig = None, ident.base, True, None
            elif changed and not self._same_file(ident, ino):
                # rewritten in place (while open), or another file on a reused inode (while closed)
                _log.warning("file_content_replaced", path=ino.path, file_key=ident.key)
                was_open = ident.src is not None
                if not was_open:
                    ident.reader.flush_final(now, out)
                self._unbind(ident)
                ino.key, ino.fresh, ino.unready_sig = None, True, None
                ino.old_key = ident.base if was_open else None
            else:
                if st.st_size > ident.reader.pos:
                    self._hot[ident.key] = None
                return
        if ino.key is not None:  # a copy of an identity bound elsewhere
            owner = self._idents.get(ino.key)
            if owner is not None:
                self._adopt_copy(owner, ino, now)
                return
            ino.key = None
        if ino.unready_sig == sig:
            return
        self._identify(ino, st, now)

    def _adopt_copy(self, owner: _Ident, ino: _Inode, now: float) -> None:
        """Follow the copy once the file it copies is gone (truncated, deleted, closed)."""
        if owner.dev_ino is not None or ino.done_sig == ino.sig:
            return
        if ino.gz:
            if not self._finished_gz(owner, ino):
                self._bind(owner, ino, None, now)
        elif not owner.finished or ino.sig[0] > owner.reader.pos:
            self._bind(owner, ino, None, now)

    def _same_file(self, ident: _Ident, ino: _Inode) -> bool:
        """Does the file at the inode still begin with the lines this identity was read from?"""
        src = ident.src or self._open(ino)
        if src is None:
            return False
        try:
            return fingerprint(src.read_at, ident.cfg.fingerprint_lines) == ident.base
        finally:
            if src is not ident.src:
                src.close()

    def _open(self, ino: _Inode) -> _Source | None:
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
        return _PlainSource(fd)

    def _identify(self, ino: _Inode, st: os.stat_result, now: float) -> None:
        src = self._open(ino)
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
        owner = self._idents.get(fp)
        if qualified in self._idents or qualified in self._saved:
            key = qualified
        elif ino.old_key == fp:
            key = self._collision(fp, qualified, ino, "truncated file rewritten with the same first lines")
        elif owner is not None and owner.dev_ino is not None and owner.dev_ino != ino.dev_ino:
            if self._is_copy(owner, src):
                ino.key = fp  # a copy (copytruncate, or compressed rotation) of a followed file
                src.close()
                return
            key = self._collision(fp, qualified, ino, "two different files have the same first lines")
        ident = self._idents.get(key)
        if ident is None:
            pos = self._start_position(key, ino, src, st)
            ident = self._idents[key] = _Ident(key, fp, ino.cfg, pos=pos, path=ino.path, now=now)
            ident.first_ts = self._content_time(ino.cfg, src)
            if ino.gz and self._finished_gz(ident, ino):
                src.close()
                return
        elif ino.gz and self._finished_gz(ident, ino):
            src.close()
            return
        self._bind(ident, ino, src, now)

    def _content_time(self, cfg: InputConfig, src: _Source) -> float | None:
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

    def _collision(self, fp: str, qualified: str, ino: _Inode, why: str) -> str:
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

    def _is_copy(self, owner: _Ident, src: _Source) -> bool:
        """Does `src` hold the same bytes as the owner's file where both have data?"""
        owner_ino = self._inodes.get(owner.dev_ino) if owner.dev_ino else None
        other: _Source | None = owner.src
        temporary = None
        if other is None and owner_ino is not None:
            other = temporary = self._open(owner_ino)
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

    def _start_position(self, key: str, ino: _Inode, src: _Source, st: os.stat_result) -> int:
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

    def _finished_gz(self, ident: _Ident, ino: _Inode) -> bool:
        """A .gz whose content was already read to its end (as the plain file it was) is done."""
        pos = ident.reader.pos
        isize = gz_isize(ino.path)
        if pos == 0 or isize is None or pos % (1 << 32) != isize:
            return False
        ident.dev_ino, ident.finished, ident.size = ino.dev_ino, True, pos
        ident.reader.path = ino.path
        ino.key, ino.done_sig = ident.key, ino.sig
        return True

    def _bind(self, ident: _Ident, ino: _Inode, src: _Source | None, now: float) -> None:
        self._close_src(ident)
        ident.dev_ino, ident.src, ident.finished, ident.gone_since = ino.dev_ino, src, False, None
        ident.reader.path = ino.path
        ident.size = ino.sig[0]
        ident.last_growth = now
        ino.key = ident.key
        self._hot[ident.key] = None
        _log.info("file_following", path=ino.path, file_key=ident.key, offset=ident.reader.pos)

    def _unbind(self, ident: _Ident) -> None:
        self._close_src(ident)
        ident.dev_ino = None
        self._hot.pop(ident.key, None)

    def _close_src(self, ident: _Ident) -> None:
        if ident.src is not None:
            ident.src.close()
            ident.src = None

    def _lost(self, ino: _Inode, now: float, out: list[RawLine]) -> None:
        """The inode is no longer matched by any glob (renamed away or deleted)."""
        ident = self._bound(ino)
        if ident is None:
            return
        ident.rotated = True
        if ident.src is not None and not ident.finished:
            self._hot[ident.key] = None  # drain what the open descriptor still reaches
            return
        if not ident.finished:
            ident.reader.flush_final(now, out)
        _log.info("file_gone", path=ino.path, file_key=ident.key)
        self._unbind(ident)
        ident.gone_since = now

    def _source(self, ident: _Ident, now: float, out: list[RawLine]) -> _Source | None:
        if ident.src is not None:
            return ident.src
        ino = self._inodes.get(ident.dev_ino) if ident.dev_ino else None
        if ino is None or ident.finished:
            return None
        src = self._open(ino)
        if src is not None and not ino.gz:
            try:
                same = fingerprint(src.read_at, ident.cfg.fingerprint_lines) == ident.base
            except OSError:
                same = False
            if not same:
                src.close()
                ident.reader.flush_final(now, out)
                self._unbind(ident)
                ino.key, ino.fresh, ino.unready_sig = None, True, None
                return None
        ident.src = src
        return src

    def _at_eof(self, ident: _Ident, out: list[RawLine], now: float) -> None:
        src = ident.src
        if src is None:
            return
        if isinstance(src, GzSource):
            ident.reader.flush_final(now, out)
            self._close_src(ident)
            ident.finished, ident.size = True, ident.reader.pos
            ino = self._inodes.get(ident.dev_ino) if ident.dev_ino else None
            if ino is not None:
                ino.done_sig = ino.sig
            _log.info("gzip_read", path=ident.reader.path, file_key=ident.key, size=ident.size)
            return
        st = os.fstat(src.fileno())
        ident.size = st.st_size
        if st.st_nlink == 0 and st.st_size <= ident.reader.pos:
            _log.info("deleted_file_read_to_end", path=ident.reader.path, file_key=ident.key)
            ident.reader.flush_final(now, out)
            ident.finished = True
            self._unbind(ident)
            ident.gone_since = now

    def _housekeep(self, now: float, out: list[RawLine]) -> None:
        for key, ident in list(self._idents.items()):
            inactive = now - ident.last_growth >= ident.cfg.close_inactive
            if ident.dev_ino is None and ident.src is None:
                if (
                    inactive
                    and not ident.finished
                    and (ident.reader.partial_bytes or ident.reader.record_pending)
                ):
                    ident.reader.flush_final(now, out)
                    ident.finished = True
                if ident.gone_since is None:
                    ident.gone_since = now
                elif now - ident.gone_since >= max(_FORGET_AFTER, ident.cfg.close_inactive):
                    del self._idents[key]
                continue
            if ident.src is None or not inactive or key in self._hot:
                continue
            if ident.rotated or ident.dev_ino is None or ident.dev_ino not in self._inodes:
                _log.info("rotated_file_closed_inactive", path=ident.reader.path, file_key=key)
                ident.reader.flush_final(now, out)
                ident.finished = True
                self._unbind(ident)
                ident.gone_since = now
            else:
                self._close_src(ident)  # reopened (and re-verified) when it grows
