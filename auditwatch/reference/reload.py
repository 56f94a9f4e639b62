"""The daemon's current reference snapshot, reloaded atomically when an export changes.

`current` is a plain attribute replaced in one assignment, so a reader sees one snapshot or the next,
never a mix. A reload that rebuilds several large exports swaps in a snapshot after each (see
`load_sources`), so memory holds one export twice at most, not every export. Exports are judged one
by one: a broken export keeps its own last good version (reported with file, line and column) while
the others update; `missing()` lists the
exports with no usable version at all. Changes are found by the daemon's one `ChangeWatcher`
(an mtime/size/inode poll, woken early by watchdog), so exports on NFS/CIFS shares are reloaded too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import structlog

from auditwatch.errors import Problem
from auditwatch.reference.config import ReferenceConfig, SourceConfig
from auditwatch.reference.snapshot import ReferenceSnapshot, empty_reference, load_sources
from auditwatch.sources import ChangeWatcher, files_signature

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
        self.rejected: tuple[tuple[SourceConfig, tuple[Problem, ...]], ...] = ()  # by the last reload
        self._on_reload = on_reload
        self._lock = threading.Lock()
        self._own_watcher: ChangeWatcher | None = None

    def reload(self) -> list[Problem]:
        """Reload changed exports; a broken export keeps its previous version. Returns the problems."""
        with self._lock:
            result = load_sources(self.cfg, self.current, publish=self._publish)
            self.current = snapshot = result.snapshot
            self.rejected = result.rejected
            problems = [p for _, export_problems in result.rejected for p in export_problems]
            problems += result.warnings
            self.last_problems = tuple(problems)
            self.last_rejected = rejected = bool(result.rejected)
        for source, export_problems in result.rejected:
            table = next((s.table for s in snapshot.sources if s.config == source), None)
            kept = f"version as of {table.as_of} ({table.rows} rows)" if table is not None else "none"
            _log.error(
                "reference_reload_rejected",
                export=source.path,
                kind=source.kind,
                kept=kept,
                problems=[str(p) for p in export_problems],
            )
        if not rejected or len(result.rejected) < len(self.cfg.sources):
            _log.info(
                "reference_reloaded",
                loaded_at=snapshot.loaded_at,
                exports=len(snapshot.sources),
                bad_rows_skipped=sum(s.skipped_rows for s in snapshot.sources),
                values_ignored=sum(s.ignored_values for s in snapshot.sources),
            )
        if result.warnings:
            _log.warning("reference_reload_warnings", problems=[str(p) for p in result.warnings])
        if self._on_reload is not None:
            self._on_reload(snapshot, problems, rejected)
        return problems

    def _publish(self, snapshot: ReferenceSnapshot) -> None:
        """A reload's partial snapshot (one large export rebuilt, see `load_sources`): in force at once,
        so the export's old version is freed before the next one is built."""
        self.current = snapshot

    def missing(self) -> tuple[SourceConfig, ...]:
        """Exports rejected by the last reload that have no good version in force."""
        in_force = [loaded.config for loaded in self.current.sources]
        return tuple(source for source, _ in self.rejected if source not in in_force)

    def describe(self, now: float | None = None) -> list[dict[str, object]]:
        """Every configured export: in force (rows, as-of, age), stale (newer file rejected) or missing."""
        rows = {(d["kind"], d["source"]): d for d in self.current.describe(now)}
        rejected = [source for source, _ in self.rejected]
        out: list[dict[str, object]] = []
        for loaded in self.current.sources:
            entry = dict(rows[(loaded.table.kind, loaded.table.source)])
            entry["state"] = "stale (newer file rejected)" if loaded.config in rejected else "in force"
            out.append(entry)
        for source in self.missing():
            state = "missing (optional)" if source.optional else "missing"
            out.append({"kind": source.kind, "source": source.path, "state": state, "rows": 0})
        return out

    # --- watching --------------------------------------------------------------------------------

    def watch(self, watcher: ChangeWatcher) -> None:
        """Register the exports with `watcher`: reloaded once changed files have been quiet a while."""
        paths = [s.path for s in self.cfg.sources]
        watcher.add(
            "reference",
            lambda: files_signature(paths),
            {str(Path(p).parent) for p in paths},
            self.reload,
            poll=self.cfg.reload_poll_seconds,
            debounce=self.cfg.reload_debounce_seconds,
        )

    def start_watching(self, *, use_watchdog: bool = True) -> None:
        """Watch the exports on a watcher of this holder's own (the daemon shares one instead)."""
        if self._own_watcher is not None:
            return
        watcher = ChangeWatcher(use_watchdog=use_watchdog)
        self.watch(watcher)
        watcher.start()
        self._own_watcher = watcher

    def stop_watching(self) -> None:
        watcher, self._own_watcher = self._own_watcher, None
        if watcher is not None:
            watcher.stop()
