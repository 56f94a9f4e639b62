"""The Tailer: follows every file the inputs' globs match, across rotation, truncation and restarts.

Identity. A file is known by `file_key`, a hash of its first lines, not by its path, so a renamed
file or a copytruncate copy keeps its key and its offset (`sources/identity.py`).

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
from auditwatch.sources.gz import GzIncompleteError, GzSource
from auditwatch.sources.identity import DevIno, FirstTime, Ident, Identities, Inode, Source
from auditwatch.sources.rotation import rotation_of
from auditwatch.sources.watch import DirWatcher

_log = structlog.get_logger(__name__)

_FORGET_AFTER = 3600.0  # an identity whose file is gone is forgotten after this many seconds


@dataclass(frozen=True)
class FileStatus:
    """One followed file, for health and metrics."""

    path: str
    file_key: str
    input: str
    offset: int  # read position (decompressed bytes for .gz)
    size: int
    behind: int


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
        self._warned_order: set[tuple[str, str]] = set()
        self._clock = clock
        self._watcher = DirWatcher(use_watchdog)
        self._poll = min((c.poll_interval for c in self._inputs), default=1.0)
        self._initial = True
        self._next_scan = float("-inf")
        self._ids = Identities(offsets, first_start=first_start, first_time=first_time)
        # the identities' own tables, shared (never rebound): the scan and read loop walk them
        self._inodes: dict[DevIno, Inode] = self._ids.inodes
        self._idents: dict[str, Ident] = self._ids.idents
        self._by_path: dict[str, DevIno] = {}
        self._hot: dict[str, None] = self._ids.hot  # keys that may have unread data, in round-robin order
        self._warned_paths: set[str] = set()
        self._globs = re.compile(
            "|".join(fnmatch.translate(p) for c in self._inputs for p in c.paths) or "(?!)"
        )

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
                self._ids.close_src(ident)
                self._hot.pop(key, None)
                continue
            except OSError as exc:
                _log.warning("read_failed", path=ident.reader.path, error=str(exc))
                self._ids.close_src(ident)
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
        previous: Ident | None = None
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
            self._ids.close_src(ident)

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
                ino = self._inodes[di] = Inode(di, path, cfg, fresh=not self._initial)
                _log.info("file_discovered", path=path, input=cfg.name)
            else:
                ino = known
            if ino.path != path:
                _log.info("file_renamed", old=ino.path, path=path)
                ino.path = path
                ident = self._ids.bound(ino)
                if ident is not None:
                    ident.reader.path = path
                    ident.rotated = True
            self._visit(ino, st, now, out)
        for ino in self._inodes.values():  # copies whose original went away during this scan
            owner = self._idents.get(ino.key) if ino.key is not None else None
            if owner is not None and owner.dev_ino is None:
                self._ids.adopt_copy(owner, ino, now)
        if self._initial:
            self._initial = False
            for ino in self._inodes.values():
                ino.fresh = True  # anything not identified yet is new content
        self._housekeep(now, out)

    def _visit(self, ino: Inode, st: os.stat_result, now: float, out: list[RawLine]) -> None:
        sig = (st.st_size, st.st_mtime_ns)
        changed, ino.sig = sig != ino.sig, sig
        if ino.done_sig == sig:
            return
        ident = self._ids.bound(ino)
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
                self._ids.unbind(ident)
                ino.key, ino.old_key, ino.fresh, ino.unready_sig = None, ident.base, True, None
            elif changed and not self._ids.same_file(ident, ino):
                # rewritten in place (while open), or another file on a reused inode (while closed)
                _log.warning("file_content_replaced", path=ino.path, file_key=ident.key)
                was_open = ident.src is not None
                if not was_open:
                    ident.reader.flush_final(now, out)
                self._ids.unbind(ident)
                ino.key, ino.fresh, ino.unready_sig = None, True, None
                ino.old_key = ident.base if was_open else None
            else:
                if st.st_size > ident.reader.pos:
                    self._hot[ident.key] = None
                return
        if ino.key is not None:  # a copy of an identity bound elsewhere
            owner = self._idents.get(ino.key)
            if owner is not None:
                self._ids.adopt_copy(owner, ino, now)
                return
            ino.key = None
        if ino.unready_sig == sig:
            return
        self._ids.identify(ino, st, now)

    def _lost(self, ino: Inode, now: float, out: list[RawLine]) -> None:
        """The inode is no longer matched by any glob (renamed away or deleted)."""
        ident = self._ids.bound(ino)
        if ident is None:
            return
        ident.rotated = True
        if ident.src is not None and not ident.finished:
            self._hot[ident.key] = None  # drain what the open descriptor still reaches
            return
        if not ident.finished:
            ident.reader.flush_final(now, out)
        _log.info("file_gone", path=ino.path, file_key=ident.key)
        self._ids.unbind(ident)
        ident.gone_since = now

    def _source(self, ident: Ident, now: float, out: list[RawLine]) -> Source | None:
        if ident.src is not None:
            return ident.src
        ino = self._inodes.get(ident.dev_ino) if ident.dev_ino else None
        if ino is None or ident.finished:
            return None
        src = self._ids.open_file(ino)
        if src is not None and not ino.gz:
            try:
                same = fingerprint(src.read_at, ident.cfg.fingerprint_lines) == ident.base
            except OSError:
                same = False
            if not same:
                src.close()
                ident.reader.flush_final(now, out)
                self._ids.unbind(ident)
                ino.key, ino.fresh, ino.unready_sig = None, True, None
                return None
        ident.src = src
        return src

    def _at_eof(self, ident: Ident, out: list[RawLine], now: float) -> None:
        src = ident.src
        if src is None:
            return
        if isinstance(src, GzSource):
            ident.reader.flush_final(now, out)
            self._ids.close_src(ident)
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
            self._ids.unbind(ident)
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
                self._ids.unbind(ident)
                ident.gone_since = now
            else:
                self._ids.close_src(ident)  # reopened (and re-verified) when it grows
