"""The daemon: the one place that wires sources, parsing, detection, indexing and the checkpoint.

Two threads, one direction of data flow:

    main thread:    tailer.read -> parse -> detect -> queue (bounded)
    delivery thread: queue -> BulkIndexer.deliver (retries until acknowledged) -> checkpoint.commit

The main thread is here (`pipeline.py` is its per-batch path); the queue and the delivery thread
are `delivery.py`. While Elasticsearch is unavailable the queue fills and the main thread stops
reading: memory stays flat. A checkpoint (file offsets plus the rule state that corresponds to
exactly those offsets) is attached to a batch every `checkpoint_interval` seconds (longer after a
checkpoint that wrote much state: `checkpoint_pause`) and committed only
after that batch, and every batch before it, was acknowledged. After a crash the daemon resumes from
the last checkpoint; replayed events and alerts have deterministic ids and `create` semantics, so
they are not duplicated. A clean stop ends with a checkpoint of everything read (`Delivery.shutdown`
commits it after every queued batch), so a restart reads nothing again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import structlog
from elasticsearch import ApiError, TransportError

from auditwatch.checkpoint import Checkpoint
from auditwatch.config.daemon import DaemonConfig, PipelineConfig
from auditwatch.delivery import DETECTION_STATE, Batch, Counters, Delivery
from auditwatch.detection import DetectionEngine, RuleSet, load_ruleset
from auditwatch.errors import EXPORT_REJECTED, UNKNOWN_NAME, ConfigError, Problem
from auditwatch.indexing import (
    ClusterNotReady,
    make_client,
    missing_parts,
    setup_cluster,
    wrong_mappings,
)
from auditwatch.indexing.retry import Backoff
from auditwatch.jobs.schedule import FINAL_HEARTBEAT_TIMEOUT, Counts, Hooks, scheduled_jobs
from auditwatch.jobs.silence import SourceActivity
from auditwatch.model import AccessEvent, Alert, DeadLetter
from auditwatch.parsing import load_parsers
from auditwatch.pipeline import Pipeline, first_event_time
from auditwatch.reference import ReferenceHolder, release_free_memory
from auditwatch.schema import IndexNames
from auditwatch.service.logsetup import problems_for_log
from auditwatch.service.metrics import DaemonCollector, serving
from auditwatch.service.sdnotify import Liveness, Notifier, Watchdog
from auditwatch.service.tuning import Throughput, collector_paused, throughput
from auditwatch.sources.changes import ChangeWatcher, yaml_tree_signature
from auditwatch.sources.tail import Tailer

log = structlog.get_logger(__name__)

_RULES_QUIET_SECONDS = 0.5  # a rule file still being written (truncated, then filled) is not read
_IDLE_ROUNDS_TO_EXIT = 2  # with --until-idle: empty reads, everything delivered, before exiting
_STATE_BYTES_PER_SECOND = 1 << 20  # checkpoint pace once state written per checkpoint grows past 1 MiB


class Daemon:
    """Runs the pipeline until stopped (or, with `until_idle`, until every file is read and delivered)."""

    def __init__(
        self,
        config: DaemonConfig,
        *,
        stop: threading.Event | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        self.config = config
        self.stop = stop or threading.Event()
        self.notifier = notifier or Notifier()
        # signs of life of both threads: the systemd watchdog is pinged only while both tick
        self._main_alive = Liveness("main")
        self._activity = SourceActivity(i.name for i in config.inputs)
        self.counters = Counters()
        self._parsers = load_parsers(config.parsers_dir)
        self._check_parsers_exist()
        self._ruleset = load_ruleset(config.rules_dir, config.lists_dir)
        self._pending_rules: RuleSet | None = None
        self._watcher: ChangeWatcher | None = None
        self._reference = ReferenceHolder(config.reference)
        with collector_paused():  # the first load: millions of long-lived objects, no cycles (tuning.py)
            self._reference.reload()
        self._refuse_blind_start()
        self._names = IndexNames(config.elasticsearch.index_prefix)
        self._delivery = Delivery(
            config, self._names, self.counters, stop=self.stop, main_alive=self._main_alive
        )

    # -- wiring -------------------------------------------------------------------------------

    def _check_parsers_exist(self) -> None:
        missing = [i for i in self.config.inputs if i.parser not in self._parsers]
        if missing:
            known = ", ".join(sorted(self._parsers)) or "none"
            raise ConfigError.single(
                str(self.config.path),
                None,
                "inputs",
                "; ".join(f"input '{i.name}' names unknown parser '{i.parser}'" for i in missing)
                + f" (parsers in {self.config.parsers_dir}: {known})",
                code=UNKNOWN_NAME,
            )

    def _refuse_blind_start(self) -> None:
        """Exit 2 naming each export with no usable version, unless the source is marked optional."""
        required = [s for s in self._reference.missing() if not s.optional]
        for source in self._reference.missing():
            if source.optional:
                log.warning("reference_export_missing", export=source.path, kind=source.kind, optional=True)
        if required:
            raise ConfigError(
                Problem(
                    source.path,
                    None,
                    "",
                    f"{source.kind} export (declared at {source.declared_at}) has no usable version, "
                    "so rules that need it would be blind; fix the export or mark the source "
                    "'optional: true'",
                    code=EXPORT_REJECTED,
                )
                for source in required
            )

    def _rule_dirs(self) -> list[Path]:
        dirs = [self.config.rules_dir]
        if self.config.lists_dir is not None:
            dirs.append(self.config.lists_dir)
        return dirs

    def run(self, *, until_idle: bool = False) -> Counters:
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        if not self._ensure_cluster():
            return self.counters  # stopped while Elasticsearch was unreachable
        checkpoint = Checkpoint(self.config.checkpoint_path)
        try:
            offsets = checkpoint.offsets()
            first_start = checkpoint.is_first_start()
            stored = checkpoint.rule_state()
            saved_state = checkpoint.state(DETECTION_STATE)  # schema 1: the whole state as one blob
        finally:
            checkpoint.close()
        settings = self.config.pipeline
        engine = DetectionEngine(
            self._ruleset,
            self._reference.current,
            lateness=settings.lateness,
            clock=time.time,
            max_held=settings.reorder_max_events,
        )
        restored = engine.restore_rows(stored)
        if not restored and saved_state is not None:
            engine.restore(saved_state)  # the first checkpoint writes it as rows, drops the blob
            restored = True
        tailer = Tailer(
            self.config.inputs,
            offsets,
            first_start=first_start,
            first_time=first_event_time(self._parsers),
        )
        delivery = self._delivery
        delivery.start()
        watchdog = self._start_watchdog()
        log.info(
            "started",
            inputs=len(self.config.inputs),
            parsers=len(self._parsers),
            known_files=len(offsets),
            first_start=first_start,
            restored_state=restored,
        )
        self.notifier.ready(self._status_line(tailer))
        collector = DaemonCollector(lambda: _counter_fields(self.counters), lambda: self._gauges(tailer))
        hooks = Hooks(lambda: self._heartbeat_counts(tailer), self._deliver_alerts, self._reference.describe)
        jobs = scheduled_jobs(self.config, self._names, self._activity, hooks)
        # the collector tuned for the loop, restored when it ends (service/tuning.py)
        final: Batch | None = None
        with throughput() as tuned, jobs, self._watching(), serving(self.config.metrics, collector):
            try:
                final = self._main_loop(tailer, engine, dict(offsets), tuned, until_idle=until_idle)
            finally:
                self.notifier.stopping()
                tailer.close()
                # time for the final heartbeat
                delivery.shutdown(reserve=FINAL_HEARTBEAT_TIMEOUT + 1.0, final=final)
                if watchdog is not None:
                    watchdog.stop()
        if delivery.error is not None:
            raise delivery.error
        log.info("stopped", **_counter_fields(self.counters))
        return self.counters

    def _ensure_cluster(self) -> bool:
        """Templates and indices in place before anything is written (never a dynamically mapped index).

        Waits (and tells systemd so) while Elasticsearch is unreachable; returns False if stopped meanwhile.
        """
        es = self.config.elasticsearch
        client = make_client(es).options(max_retries=0)
        backoff = Backoff(es.backoff_initial, es.backoff_max)
        attempt = 0
        try:
            while not self.stop.is_set():
                try:
                    wrong = wrong_mappings(client, self._names)
                    if wrong:  # never repaired automatically: it holds data
                        raise ClusterNotReady(wrong)
                    missing = missing_parts(client, self._names)
                    if missing and es.setup == "auto":
                        for line in setup_cluster(client, self._names):
                            log.info("setup", done=line)
                        missing = missing_parts(client, self._names)
                except (TransportError, ApiError) as exc:
                    delay = backoff.delay(attempt)
                    attempt += 1
                    reason = f"Elasticsearch at {', '.join(es.hosts)} unreachable: {_why(exc)}"
                    log.warning("cluster_unavailable", reason=reason, retry_in_s=round(delay, 1))
                    self.notifier.extend_timeout(delay + es.request_timeout + 5, f"waiting: {reason}")
                    self.stop.wait(delay)
                    continue
                if missing:
                    raise ClusterNotReady(
                        [*missing, "run `auditwatch setup` first (or set elasticsearch.setup: auto)"]
                    )
                return True
            return False
        finally:
            client.close()

    # -- main thread --------------------------------------------------------------------------

    def _main_loop(
        self,
        tailer: Tailer,
        engine: DetectionEngine,
        offsets: dict[str, int],
        tuned: Throughput,
        *,
        until_idle: bool,
    ) -> Batch | None:
        """Read, parse, detect and queue until stopped (or idle, with `until_idle`). Returns the
        final checkpoint to commit after everything queued (None: nothing new, or a batch was
        dropped on the way out: then what was read after the last checkpoint is read again)."""
        settings = self.config.pipeline
        pipeline = Pipeline(self.config.inputs, self._parsers, engine)
        last_checkpoint = time.monotonic()
        pause = settings.checkpoint_interval  # until the next checkpoint (stretched by a costly one)
        dirty = False  # records read since the last checkpoint batch
        idle_rounds = 0
        reference = self._reference.current
        while not self.stop.is_set():
            self._main_alive.tick()
            self._delivery.raise_if_failed()
            if self._pending_rules is not None:
                engine.replace_rules(self._pending_rules)
                self._pending_rules = None
            if self._reference.current is not reference:
                reference = self._reference.current
                engine.set_reference(reference)
                tuned.settle()
                release_free_memory()  # the replaced snapshot's exports were freed just now
            raws = tailer.read(settings.batch_max_records, settings.batch_max_bytes)
            if raws:
                idle_rounds = 0
                with tuned.batch():
                    done = pipeline.process(raws, tailer=tailer)
                events, dead, alerts = done.events, done.dead, done.alerts
                for raw in raws:
                    offsets[raw.file_key] = raw.end
                self._activity.saw({raw.source for raw in raws})
                dirty = True
                now = time.monotonic()
                if now - last_checkpoint >= pause:
                    with tuned.batch():
                        state = engine.state_delta()
                    queued = self._delivery.put(Batch(events, dead, alerts, len(raws), dict(offsets), state))
                    last_checkpoint, dirty = now, False
                    pause = checkpoint_pause(state.size, settings)
                else:
                    queued = self._delivery.put(Batch(events, dead, alerts, len(raws)))
                if not queued:  # stopping: what this batch read is read again after a restart
                    return None
                self._count(len(raws), events, dead, alerts)
                continue
            # idle: events the reorder buffer held are due by now (or, with --until-idle, all of them)
            with tuned.batch():
                released = engine.flush() if until_idle else engine.tick(tailer.backlog_time())
            if released:
                self.counters.alerts += len(released)
                dirty = True
            now = time.monotonic()
            # idle: checkpoint what was read so a restart replays nothing; while events are still
            # held (released within `lateness`), at the checkpoint interval only
            if dirty and (engine.held == 0 or now - last_checkpoint >= pause):
                with tuned.batch():
                    state = engine.state_delta()
                if not self._delivery.put(Batch((), (), released, 0, dict(offsets), state)):
                    return None
                last_checkpoint, dirty = now, False
                pause = checkpoint_pause(state.size, settings)
            elif released and not self._delivery.put(Batch((), (), released, 0)):
                return None
            if until_idle:
                self._delivery.drain()
                idle_rounds += 1
                if idle_rounds >= _IDLE_ROUNDS_TO_EXIT:
                    return None
            due = engine.next_release()
            tailer.wait(settings.idle_wait if due is None else min(settings.idle_wait, max(due, 0.05)))
        if not dirty:
            return None
        with tuned.batch():  # held events go into it, and are held again after the restart
            state = engine.state_delta()
        return Batch((), (), (), 0, dict(offsets), state)

    def _count(
        self, records: int, events: list[AccessEvent], dead: list[DeadLetter], alerts: list[Alert]
    ) -> None:
        c = self.counters
        c.records += records
        c.events += len(events)
        c.dead_letters += len(dead)
        c.alerts += len(alerts)

    # -- systemd --------------------------------------------------------------------------------

    def _start_watchdog(self) -> Watchdog | None:
        interval = self.notifier.watchdog_interval
        if interval is None:
            return None
        watchdog = Watchdog(self.notifier, interval, (self._main_alive, self._delivery.alive))
        watchdog.start()
        return watchdog

    def _gauges(self, tailer: Tailer) -> dict[str, float]:
        files = tailer.status()
        return {
            "files": len(files),
            "bytes_behind": sum(f.behind for f in files),
            "queued_batches": self._delivery.queued(),
        }

    def _state_gauges(self) -> dict[str, float]:
        """Detection state in the checkpoint, and what the latest checkpoint wrote of it."""
        checkpoint = Checkpoint(self.config.checkpoint_path)  # its own connection: WAL readers never block
        try:
            rows, size = checkpoint.state_size()
        finally:
            checkpoint.close()
        return {"state_rows": rows, "state_bytes": size, "checkpoint_bytes": self.counters.checkpoint_bytes}

    def _status_line(self, tailer: Tailer) -> str:
        files = tailer.status()
        behind = sum(s.behind for s in files)
        c = self.counters
        return (
            f"{len(files)} files, {behind} bytes behind, {c.events} events, {c.alerts} alerts, "
            f"{c.delivered_batches} batches delivered, {self._delivery.queued()} queued"
        )

    # -- scheduled jobs -----------------------------------------------------------------------

    @contextmanager
    def _watching(self) -> Iterator[None]:
        """One change watcher for rule files and reference exports (watchdog wakes, a poll decides)."""
        watcher = ChangeWatcher()
        watcher.add(
            "rules",
            lambda: yaml_tree_signature(self._rule_dirs()),
            self._rule_dirs(),
            self.reload_rules,
            poll=self.config.pipeline.rules_poll_interval,
            debounce=_RULES_QUIET_SECONDS,
        )
        self._reference.watch(watcher)
        watcher.start()
        self._watcher = watcher
        try:
            yield
        finally:
            self._watcher = None
            watcher.stop()

    def request_reload(self) -> None:
        """SIGHUP: re-read rules and reference exports now, on the watcher thread (not in the handler)."""
        watcher = self._watcher
        if watcher is not None:
            watcher.request()
        else:
            self.reload_rules()

    def reload_rules(self) -> bool:
        """Validate the whole rule set; swap it in only if valid. Returns whether it was swapped."""
        self.notifier.reloading()
        started = time.monotonic()
        try:
            rules = load_ruleset(self.config.rules_dir, self.config.lists_dir)
        except ConfigError as exc:
            log.error(
                "rules_reload_rejected",
                problems=problems_for_log(exc),
                kept="previous rule set",
                seconds=round(time.monotonic() - started, 3),
            )
            self.notifier.reloaded("rule reload refused: previous rule set kept")
            return False
        except Exception:  # whatever a rule file does, the running daemon keeps its rules
            log.exception(
                "rules_reload_failed", rules_dir=str(self.config.rules_dir), kept="previous rule set"
            )
            self.notifier.reloaded("rule reload failed: previous rule set kept")
            return False
        self._pending_rules = rules
        log.info("rules_reloaded", rules=len(rules))
        self.notifier.reloaded(f"rules reloaded: {len(rules)} rules")
        return True

    def _heartbeat_counts(self, tailer: Tailer) -> Counts:
        self.notifier.status(self._status_line(tailer))
        return {**self._gauges(tailer), **self._state_gauges(), **_counter_fields(self.counters)}

    def _deliver_alerts(self, alerts: Sequence[Alert]) -> None:
        self.counters.alerts += len(alerts)
        self._delivery.put(Batch((), (), alerts, 0))


def checkpoint_pause(written: int, settings: PipelineConfig) -> float:
    """Seconds from a checkpoint that wrote `written` bytes of state to the next one:
    `checkpoint_interval`, stretched to ~1 s per MiB written, up to `checkpoint_interval_max`.

    Catching up on a backlog across files, a whole batch of events is held for ordering and
    rewritten at every checkpoint (~7 MiB at 5,000 events per batch); pacing keeps that under
    ~1 MiB/s. A crash then re-reads up to `checkpoint_interval_max` of reading, which delivery's
    event ids make harmless (nothing duplicated)."""
    stretched = min(written / _STATE_BYTES_PER_SECOND, settings.checkpoint_interval_max)
    return max(settings.checkpoint_interval, stretched)


def _counter_fields(c: Counters) -> dict[str, int | float]:
    return {
        "delivered_batches": c.delivered_batches,
        "records": c.records,
        "events": c.events,
        "dead_letters": c.dead_letters,
        "alerts": c.alerts,
        "checkpoints": c.checkpoints,
        "uptime_s": round(time.monotonic() - c.started, 1),
    }


def _why(exc: Exception) -> str:
    """A one-line cause: the transport's own message (TLS, refused, timeout) or the API error."""
    if isinstance(exc, ApiError):
        return f"HTTP {exc.meta.status} {exc.error}"
    return str(exc.message if isinstance(exc, TransportError) else exc) or type(exc).__name__
