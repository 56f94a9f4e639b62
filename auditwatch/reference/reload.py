"""The daemon's current reference snapshot, reloaded atomically when an export changes.

`current` is a plain attribute replaced in one assignment, so a reader sees the old snapshot or the
new one, never a mix. A reload that finds a broken export keeps the previous snapshot whole and
reports why (file, line, column). Watching uses watchdog on the exports' directories (exports are
often replaced by rename) and reloads once the files have been quiet for the debounce period.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import structlog
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from auditwatch.errors import ConfigError, Problem
from auditwatch.reference.config import ReferenceConfig
from auditwatch.reference.snapshot import ReferenceSnapshot, empty_reference, load_reference

_log = structlog.get_logger("auditwatch.reference")

ReloadCallback = Callable[[ReferenceSnapshot, Sequence[Problem], bool], None]  # snapshot, problems, rejected


class ReferenceHolder:
    """Holds the current snapshot; `reload()` swaps in a new one unless an export is broken."""

    def __init__(
        self,
        cfg: ReferenceConfig,
        *,
        initial: ReferenceSnapshot | None = None,
        on_reload: ReloadCallback | None = None,
    ) -> None:
        self.cfg = cfg
        self.current: ReferenceSnapshot = initial if initial is not None else empty_reference()
        self.last_problems: tuple[Problem, ...] = ()
        self.last_rejected = False
        self._on_reload = on_reload
        self._lock = threading.Lock()
        self._observer: BaseObserver | None = None
        self._poke = threading.Event()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None

    def reload(self) -> list[Problem]:
        """Reload changed exports; on a broken export keep the previous snapshot and return why."""
        with self._lock:
            try:
                snapshot, problems = load_reference(self.cfg, self.current)
                rejected = False
            except ConfigError as exc:
                snapshot, problems, rejected = self.current, list(exc.problems), True
            self.current = snapshot
            self.last_problems = tuple(problems)
            self.last_rejected = rejected
        if rejected:
            _log.error("reference_reload_rejected", problems=[str(p) for p in problems],
                       kept_snapshot_loaded_at=snapshot.loaded_at)
        else:
            _log.info(
                "reference_reloaded",
                loaded_at=snapshot.loaded_at,
                bad_rows_skipped=sum(s.skipped_rows for s in snapshot.sources),
                values_ignored=sum(s.ignored_values for s in snapshot.sources),
            )
            if problems:
                _log.warning("reference_reload_warnings", problems=[str(p) for p in problems])
        if self._on_reload is not None:
            self._on_reload(snapshot, problems, rejected)
        return problems

    # --- watching --------------------------------------------------------------------------------

    def start_watching(self) -> None:
        """Reload (debounced) whenever an export file is written, replaced or removed."""
        if self._observer is not None:
            return
        paths = {str(Path(s.path).resolve()) for s in self.cfg.sources}
        handler = _ExportChanged(paths, self._poke.set)
        observer = Observer()
        for directory in sorted({str(Path(p).parent) for p in paths}):
            if Path(directory).is_dir():
                observer.schedule(handler, directory, recursive=False)
        self._stop.clear()
        self._worker = threading.Thread(target=self._debounce_loop, name="reference-reload", daemon=True)
        self._worker.start()
        observer.start()
        self._observer = observer

    def stop_watching(self) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(timeout=5)
        self._stop.set()
        self._poke.set()
        if self._worker is not None:
            self._worker.join(timeout=5)
            self._worker = None

    def _debounce_loop(self) -> None:
        quiet = self.cfg.reload_debounce_seconds
        while True:
            self._poke.wait()
            if self._stop.is_set():
                return
            while self._poke.is_set():  # wait until the files have been quiet for `quiet` seconds
                self._poke.clear()
                if self._stop.wait(quiet):
                    return
            try:
                self.reload()
            except Exception:  # a bug must not kill the watcher; the old snapshot stays
                _log.exception("reference_reload_failed")


class _ExportChanged(FileSystemEventHandler):
    def __init__(self, paths: set[str], poke: Callable[[], None]) -> None:
        self._paths = paths
        self._poke = poke

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type in ("opened", "closed_no_write"):
            return
        for path in (event.src_path, getattr(event, "dest_path", "")):
            if path and str(Path(str(path)).resolve()) in self._paths:
                self._poke()
                return
