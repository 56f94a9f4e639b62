"""Wakes a poller when something changes in a watched directory (watchdog/inotify).

Used by the tailer and by the daemon's change watcher (`auditwatch.sources.changes`) for rules and
reference exports. Polling remains the source of truth; this only shortens the wait. If watchdog
cannot start or watch (e.g. the inotify instance or watch limit), a warning is logged once and the
poller relies on polling alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

_log = structlog.get_logger(__name__)

_IGNORED = frozenset({"opened", "closed_no_write"})  # our own reads cause these


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: DirWatcher) -> None:
        self._watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in _IGNORED:
            return
        path = event.src_path if isinstance(event.src_path, str) else event.src_path.decode()
        self._watcher.notify(path, structural=event.event_type not in ("modified", "closed"))


class DirWatcher:
    """Watches directories non-recursively; `take()` returns what changed since the last call."""

    def __init__(self, enabled: bool, *, observer_factory: Callable[[], BaseObserver] = Observer) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._structural = False
        self._modified: set[str] = set()
        self._watches: dict[str, ObservedWatch] = {}
        self._observer: BaseObserver | None = None
        self._enabled = enabled
        self._observer_factory = observer_factory
        self._handler = _Handler(self)

    def notify(self, path: str, *, structural: bool) -> None:
        with self._lock:
            if structural:
                self._structural = True
            else:
                self._modified.add(path)
        self._event.set()

    def take(self) -> tuple[bool, set[str]]:
        """(a file was created/moved/deleted, paths modified) since the last call."""
        with self._lock:
            self._event.clear()
            structural, modified = self._structural, self._modified
            self._structural, self._modified = False, set()
        return structural, modified

    def wait(self, timeout: float) -> None:
        self._event.wait(timeout)

    def wake(self) -> None:
        """End the current `wait` now (e.g. a reload was requested)."""
        self._event.set()

    @property
    def active(self) -> bool:
        return self._observer is not None

    def update(self, dirs: set[str]) -> None:
        """Watch exactly `dirs` (existing directories)."""
        if not self._enabled:
            return
        try:
            if self._observer is None:
                observer = self._observer_factory()
                observer.start()
                self._observer = observer
            for gone in set(self._watches) - dirs:
                self._observer.unschedule(self._watches.pop(gone))
            for new in sorted(dirs - set(self._watches)):
                self._watches[new] = self._observer.schedule(self._handler, new, recursive=False)
        except Exception as exc:  # inotify limits (OSError), a missing backend: polling still works
            _log.warning("watchdog_unavailable_polling", error=f"{type(exc).__name__}: {exc}")
            self.close()
            self._enabled = False

    def close(self) -> None:
        observer, self._observer = self._observer, None
        self._watches.clear()
        if observer is not None:
            observer.stop()
            observer.join(timeout=5)
