"""One change watcher for what the daemon re-reads while it runs: rule files and reference exports.

The truth is a signature poll: each watched set has a signature (path, inode, size, mtime of each of
its files) taken every `poll` seconds; a set whose signature changed, and then stayed the same for
its `debounce` seconds, is reloaded through its callback. watchdog (inotify) only wakes the poll up
early, through the same `DirWatcher` the tailer uses. So a change on an NFS or CIFS share (no
inotify events) is still seen within `poll` seconds, and when watchdog cannot start (inotify
limits) a warning is logged and polling goes on. A callback that raises is logged with the set's
name; the watcher keeps going.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import structlog
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from auditwatch.sources.watch import DirWatcher

_log = structlog.get_logger(__name__)

Signature = tuple[tuple[str, int, int, int], ...]  # (path, inode, size, mtime ns) per file
_MISSING = (-1, -1, -1)


def files_signature(paths: Iterable[str | Path]) -> Signature:
    """The signature of exactly these files (a missing or unreadable file has its own signature)."""
    out: list[tuple[str, int, int, int]] = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            out.append((str(path), *_MISSING))
            continue
        out.append((str(path), st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(out)


def yaml_tree_signature(dirs: Iterable[Path]) -> Signature:
    """The signature of every YAML file under `dirs` (files added or removed change it too)."""
    found: list[Path] = []
    for directory in dirs:
        if directory.is_dir():
            found.extend(p for p in directory.rglob("*") if p.suffix in (".yml", ".yaml"))
    return files_signature(sorted(found))


@dataclass(slots=True)
class _Watched:
    name: str
    signature: Callable[[], Signature]
    dirs: tuple[str, ...]
    on_change: Callable[[], object]
    poll: float
    debounce: float
    seen: Signature
    next_poll: float
    changed_at: float | None = None
    forced: bool = False


class ChangeWatcher:
    """Polls named sets of files on one thread and calls each set's callback once it changed and settled."""

    def __init__(
        self,
        *,
        use_watchdog: bool = True,
        clock: Callable[[], float] = time.monotonic,
        observer_factory: Callable[[], BaseObserver] = Observer,
    ) -> None:
        self._wake = DirWatcher(use_watchdog, observer_factory=observer_factory)
        self._clock = clock
        self._sets: dict[str, _Watched] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(
        self,
        name: str,
        signature: Callable[[], Signature],
        dirs: Iterable[str | Path],
        on_change: Callable[[], object],
        *,
        poll: float,
        debounce: float = 0.0,
    ) -> None:
        """Watch a set: `signature()` is its truth, `dirs` are where watchdog listens for a wake-up."""
        now = self._clock()
        watched = _Watched(
            name,
            signature,
            tuple(sorted({str(Path(d)) for d in dirs})),
            on_change,
            poll,
            debounce,
            signature(),
            now + poll,
        )
        with self._lock:
            self._sets[name] = watched
        if self._thread is not None:
            self._watch_dirs()

    def request(self, name: str | None = None) -> None:
        """Reload `name` (every set if None) on the watcher thread as soon as possible (e.g. SIGHUP)."""
        with self._lock:
            for watched in self._sets.values():
                if name is None or watched.name == name:
                    watched.forced = True
        self._wake.wake()

    @property
    def watchdog_active(self) -> bool:
        return self._wake.active

    def start(self) -> None:
        if self._thread is not None:
            return
        self._watch_dirs()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="auditwatch-changes", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.wake()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._wake.close()

    def check(self) -> float:
        """One round: poll the sets that are due (all of them after a wake-up), reload what settled.

        Returns the seconds until the next round is due.
        """
        structural, modified = self._wake.take()
        woken = structural or bool(modified)
        now = self._clock()
        with self._lock:
            sets = list(self._sets.values())
        for watched in sets:
            settling = watched.changed_at is not None and now >= watched.changed_at + watched.debounce
            if not (woken or watched.forced or settling or now >= watched.next_poll):
                continue
            signature = self._signature(watched)
            watched.next_poll = now + watched.poll
            if signature is not None and signature != watched.seen:
                watched.seen, watched.changed_at = signature, now
            ready = watched.changed_at is not None and now >= watched.changed_at + watched.debounce
            if watched.forced or ready:
                watched.forced, watched.changed_at = False, None
                self._run(watched)
        return self._until_next(sets, self._clock())

    # -- internals -----------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                timeout = self.check()
            except Exception:  # a bug here must not end watching: log it and poll again shortly
                _log.exception("change_watcher_failed")
                timeout = 1.0
            if self._stop.is_set():
                return
            self._wake.wait(timeout)

    def _watch_dirs(self) -> None:
        with self._lock:
            dirs = {d for watched in self._sets.values() for d in watched.dirs}
        self._wake.update({d for d in dirs if Path(d).is_dir()})

    def _signature(self, watched: _Watched) -> Signature | None:
        try:
            return watched.signature()
        except Exception:
            _log.exception("change_signature_failed", watched=watched.name)
            return None

    def _run(self, watched: _Watched) -> None:
        try:
            watched.on_change()
        except Exception:  # the callback keeps its running state; the watcher keeps watching
            _log.exception("reload_failed", watched=watched.name)

    @staticmethod
    def _until_next(sets: list[_Watched], now: float) -> float:
        due = [w.next_poll for w in sets]
        due += [w.changed_at + w.debounce for w in sets if w.changed_at is not None]
        due += [now for w in sets if w.forced]
        return max(0.01, min(due, default=now + 1.0) - now)
