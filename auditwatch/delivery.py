"""The daemon's delivery side: a bounded queue of batches and the thread that empties it.

    main thread:     ... -> Delivery.put (blocks while the queue is full)
    delivery thread: queue -> BulkIndexer.deliver (retries until acknowledged) -> checkpoint.commit

The queue holds at most `pipeline.queue_batches` batches, so while Elasticsearch is unavailable the
delivery thread keeps retrying, the queue fills and the main thread stops reading: memory stays flat.
A batch that carries a checkpoint (offsets plus the rule state that corresponds to exactly those
offsets) is committed only after it, and every batch before it, was acknowledged. `pipeline.py` is
the per-batch path of the main thread; this is the per-batch path of the other one.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog

from auditwatch.checkpoint import Checkpoint
from auditwatch.config.daemon import DaemonConfig
from auditwatch.errors import AuditwatchError
from auditwatch.indexing import BulkIndexer, DeliveryInterrupted, make_client
from auditwatch.model import AccessEvent, Alert, DeadLetter, StateDelta
from auditwatch.schema import IndexNames
from auditwatch.service.sdnotify import Liveness

log = structlog.get_logger(__name__)

DETECTION_STATE = "detection"  # the checkpoint's schema-1 rule state (one blob), dropped on commit


@dataclass(frozen=True, slots=True)
class Batch:
    """What the main thread hands to the delivery thread."""

    events: Sequence[AccessEvent]
    dead: Sequence[DeadLetter]
    alerts: Sequence[Alert]
    records: int
    offsets: dict[str, int] | None = None  # set together with `state` on checkpoint batches
    state: StateDelta | None = None  # rule state changed since the previous checkpoint batch


@dataclass(slots=True)
class Counters:
    """What the daemon counts: the main thread reads and detects, the delivery thread delivers and
    checkpoints."""

    records: int = 0
    events: int = 0
    dead_letters: int = 0
    alerts: int = 0
    delivered_batches: int = 0
    checkpoints: int = 0
    checkpoint_bytes: int = 0  # rule state written by the latest checkpoint
    started: float = field(default_factory=time.monotonic)


class Delivery:
    """The queue, the delivery thread, and the main thread's side of both."""

    def __init__(
        self,
        config: DaemonConfig,
        names: IndexNames,
        counters: Counters,
        *,
        stop: threading.Event,
        main_alive: Liveness,
    ) -> None:
        self.config = config
        self._names = names
        self.counters = counters
        self.stop = stop
        self._main_alive = main_alive
        self.alive = Liveness("delivery")  # its sign of life, for the systemd watchdog
        self._abort = threading.Event()  # interrupts delivery retries on shutdown
        self._queue: queue.Queue[Batch | None] = queue.Queue(maxsize=config.pipeline.queue_batches)
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._deliver_loop, name="auditwatch-delivery", daemon=True)
        self._thread.start()

    def queued(self) -> int:
        return self._queue.qsize()

    # -- main thread --------------------------------------------------------------------------

    def put(self, batch: Batch) -> bool:
        """Queue `batch`; while the queue is full (Elasticsearch behind or down) reading pauses here.
        On shutdown the batch is dropped (False): it is not checkpointed, so a restart reads it again."""
        while not self.stop.is_set():
            self._main_alive.tick()  # waiting on a full queue is back-pressure, not a hang
            self.raise_if_failed()
            try:
                self._queue.put(batch, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def drain(self) -> None:
        while self._queue.unfinished_tasks and not self.stop.is_set():
            self.raise_if_failed()
            time.sleep(0.01)

    def raise_if_failed(self) -> None:
        error = self.error
        if error is None:
            return
        if isinstance(error, AuditwatchError):  # e.g. the checkpoint cannot be written: says why
            raise error
        raise RuntimeError("delivery thread failed") from error

    def shutdown(self, reserve: float, final: Batch | None = None) -> None:
        """Let the delivery thread finish what is queued for half the stop timeout, then interrupt
        its retries; if it is still inside a request at the deadline (the stop timeout less
        `reserve` seconds kept for what runs after it, but no sooner than half of it) it is left
        behind (a daemon thread: it dies with the process; nothing it had not acknowledged was
        checkpointed). `final`: a last checkpoint (everything read was queued), committed after
        every queued batch is acknowledged, so a restart after a clean stop reads nothing again."""
        delivery = self._thread
        if delivery is None:
            return
        started = time.monotonic()
        timeout = self.config.pipeline.stop_timeout
        graceful = started + timeout / 2
        deadline = started + max(timeout / 2, timeout - reserve)
        for item in (final, None) if final is not None else (None,):
            while delivery.is_alive():
                try:
                    self._queue.put(item, timeout=0.2)
                    break
                except queue.Full:
                    if time.monotonic() > graceful:
                        break
        delivery.join(max(0.0, graceful - time.monotonic()))
        if delivery.is_alive():
            self._abort.set()
            delivery.join(max(0.0, deadline - time.monotonic()))
        if delivery.is_alive():
            log.warning(
                "delivery_abandoned",
                reason="a request to Elasticsearch did not return within the stop timeout",
                stop_timeout_s=timeout,
            )

    # -- delivery thread ----------------------------------------------------------------------

    def _deliver_loop(self) -> None:
        checkpoint = Checkpoint(self.config.checkpoint_path)
        client = make_client(self.config.elasticsearch)
        indexer = BulkIndexer(
            client,
            self._names,
            self.config.elasticsearch,
            stop=self._abort,
            sleep=self._backoff_pause,
            spool_path=self.config.spool_path,
        )
        try:
            while True:
                batch = self._next_batch()
                try:
                    if batch is None:
                        return
                    indexer.deliver(batch.events, batch.dead, batch.alerts)
                    self.counters.delivered_batches += 1
                    self.alive.tick()
                    if batch.offsets is not None and batch.state is not None:
                        checkpoint.commit(batch.offsets, delta=batch.state, drop=(DETECTION_STATE,))
                        self.counters.checkpoints += 1
                        self.counters.checkpoint_bytes = batch.state.size
                finally:
                    self._queue.task_done()
        except DeliveryInterrupted:
            log.warning("delivery_interrupted", reason="shutdown while Elasticsearch was unavailable")
        except AuditwatchError as exc:  # e.g. the checkpoint cannot be written: the message says it all
            log.error("delivery_failed", error=str(exc))
            self.error = exc
        except BaseException as exc:  # surfaced to the main thread, which exits non-zero
            log.exception("delivery_failed")
            self.error = exc
        finally:
            checkpoint.close()
            client.close()

    def _next_batch(self) -> Batch | None:
        while True:
            self.alive.tick()
            try:
                return self._queue.get(timeout=1.0)
            except queue.Empty:
                continue

    def _backoff_pause(self, seconds: float) -> None:
        """Waits between delivery retries: alive for the watchdog, and woken at once on shutdown."""
        self.alive.tick()
        self._abort.wait(seconds)
        self.alive.tick()
