"""Deliver a batch to Elasticsearch so that nothing is lost and nothing is duplicated.

Every document is a `create` with a deterministic `_id`, so a 409 means "already there" and is
success. Items the cluster cannot take now (429, 5xx, 401/403, transport errors) are resent with
capped jittered backoff until they are acknowledged or `stop` is set. Items refused for good (other
4xx) go to the dead-letter index with their raw line and the reason; dead letters the dead-letter
index refuses are appended to a local spool file. `deliver` returns only when every item has one of
these outcomes, so the caller may then checkpoint the offsets below the batch.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import structlog
from elastic_transport import TlsError
from elasticsearch import ApiError, Elasticsearch, TransportError

from auditwatch.errors import AuditwatchError, DeliveryError
from auditwatch.indexing.body import ALERT, DEAD, EVENT, BodyBuilder, Operation, chunks, join
from auditwatch.indexing.config import ElasticsearchConfig
from auditwatch.indexing.results import Outcome, classify, error_reason, item_results
from auditwatch.indexing.retry import Backoff, release
from auditwatch.indexing.spool import Spool
from auditwatch.model import AccessEvent, Alert, DeadLetter
from auditwatch.schema import IndexNames
from auditwatch.timefmt import iso_utc

log = structlog.get_logger(__name__)

# Keep the response small: per-item status (and error when there is one), in request order.
_FILTER_PATH = "errors,items.*.status,items.*.error"
_HEADERS = {"accept": "application/json", "content-type": "application/x-ndjson"}
_MAX_DETAIL = 500


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one `deliver` call did. `retries` counts retry rounds, `retried_items` the items resent."""

    created: int = 0  # events and alerts newly indexed
    duplicates: int = 0  # events and alerts already present (409): replays
    dead_lettered: int = 0  # documents now in the dead-letter index (new or already there)
    retries: int = 0
    retried_items: int = 0
    spooled: int = 0  # dead letters the dead-letter index refused, written to the local spool
    elapsed: float = 0.0


class DeliveryInterrupted(AuditwatchError):
    """`stop` was set while items were still waiting for Elasticsearch; nothing may be checkpointed."""

    def __init__(self, report: DeliveryReport, pending: int) -> None:
        super().__init__(f"delivery interrupted with {pending} items not acknowledged")
        self.report = report
        self.pending = pending


class _Tally:
    __slots__ = ("created", "dead_lettered", "duplicates", "retried_items", "retries", "spooled")

    def __init__(self) -> None:
        self.created = self.duplicates = self.dead_lettered = 0
        self.retries = self.retried_items = self.spooled = 0

    def done(self, kind: str, outcome: Outcome, n: int = 1) -> None:
        if kind == DEAD:
            self.dead_lettered += n
        elif outcome is Outcome.CREATED:
            self.created += n
        else:
            self.duplicates += n

    def report(self, started: float) -> DeliveryReport:
        return DeliveryReport(
            self.created,
            self.duplicates,
            self.dead_lettered,
            self.retries,
            self.retried_items,
            self.spooled,
            time.monotonic() - started,
        )


class _Round:
    """Items of one pass that need another: resend later, or re-route as dead letters."""

    __slots__ = ("detail", "rejected", "retry", "why")

    def __init__(self) -> None:
        self.retry: list[Operation] = []
        self.rejected: list[tuple[Operation, str]] = []
        self.why: Counter[str] = Counter()
        self.detail: dict[str, str] = {}  # per cause, the first message (names host and reason)

    def again(self, chunk: list[Operation], cause: str, detail: str) -> None:
        self.retry.extend(chunk)
        self.why[cause] += len(chunk)
        self.detail.setdefault(cause, detail[:_MAX_DETAIL])


class BulkIndexer:
    """Writes events, dead letters and alerts with `create` and blocks until each is acknowledged."""

    def __init__(
        self,
        client: Elasticsearch,
        names: IndexNames,
        cfg: ElasticsearchConfig,
        *,
        stop: threading.Event | None = None,
        sleep: Callable[[float], None] = time.sleep,
        spool_path: Path | None = None,
        rng: random.Random | None = None,
    ) -> None:
        # our loop owns retrying, with backoff; the transport's immediate retries would only add load
        self._client = client.options(request_timeout=cfg.request_timeout, max_retries=0)
        self._names = names
        self._cfg = cfg
        self._stop = stop
        self._sleep = sleep
        self._spool = Spool(spool_path) if spool_path is not None else None
        self._body = BodyBuilder(names)
        self._backoff = Backoff(cfg.backoff_initial, cfg.backoff_max, rng)

    def deliver(
        self, events: Sequence[AccessEvent], dead: Sequence[DeadLetter], alerts: Sequence[Alert]
    ) -> DeliveryReport:
        started = time.monotonic()
        tally = _Tally()
        ops, unroutable = self._body.events(events)
        ops.extend(self._body.alert(a) for a in alerts)
        if dead or unroutable:
            now = iso_utc(time.time())
            ops.extend(self._body.dead_letter(d, now) for d in dead)
            ops.extend(self._event_dead_letter(e, why, now) for e, why in unroutable)
        attempt = 0
        pending = ops
        while pending:
            rnd = _Round()
            for chunk in chunks(pending, self._cfg.bulk_max_docs, self._cfg.bulk_max_bytes):
                self._send(chunk, tally, rnd)
            pending = self._reroute(rnd.rejected, tally)
            if rnd.retry:
                tally.retries += 1
                tally.retried_items += len(rnd.retry)
                delay = self._backoff.delay(attempt)
                log.warning(
                    "bulk_retry",
                    items=len(rnd.retry),
                    round=attempt + 1,
                    delay_s=round(delay, 3),
                    hosts=list(self._cfg.hosts),
                    causes=dict(rnd.why),
                    detail=rnd.detail,
                )
                attempt += 1
                self._pause(delay, tally, started, len(rnd.retry) + len(pending))
                pending = rnd.retry + pending
        if attempt:
            log.info("bulk_recovered", rounds=attempt, items=len(ops))
        return tally.report(started)

    def _send(self, chunk: list[Operation], tally: _Tally, rnd: _Round) -> None:
        try:
            response = self._client.perform_request(
                "PUT",
                "/_bulk",
                params={"filter_path": _FILTER_PATH},
                headers=_HEADERS,
                body=join(chunk),
                endpoint_id="bulk",
            )
        except ApiError as exc:
            release(exc)
            self._request_refused(chunk, exc, tally, rnd)
            return
        except TransportError as exc:  # connection refused or reset, timeout, TLS
            release(exc)
            cause = type(exc).__name__
            if isinstance(exc, TlsError) and cause not in rnd.why:
                log.error("elasticsearch_tls_failed", hosts=list(self._cfg.hosts), reason=_message(exc))
            rnd.again(chunk, cause, _message(exc))
            return
        body: Any = response.body
        if body.get("errors") is False:
            counts = Counter(op.kind for op in chunk)
            for kind, n in counts.items():
                tally.done(kind, Outcome.CREATED, n)
            return
        for op, (outcome, status, reason) in zip(chunk, item_results(body, len(chunk)), strict=True):
            if outcome is Outcome.RETRY:
                rnd.retry.append(op)
                rnd.why[str(status)] += 1
            elif outcome is Outcome.REJECT:
                rnd.rejected.append((op, reason or f"status {status}"))
            else:
                tally.done(op.kind, outcome)

    def _request_refused(self, chunk: list[Operation], exc: ApiError, tally: _Tally, rnd: _Round) -> None:
        """The whole request failed with an HTTP error: retry it, or bisect to isolate the bad item."""
        status = exc.meta.status
        if classify(status) is Outcome.RETRY:
            node = exc.meta.node
            rnd.again(
                chunk, str(status), f"{node.scheme}://{node.host}:{node.port}: {error_reason(exc.info)}"
            )
        elif len(chunk) == 1:  # e.g. 413: this one document is larger than http.max_content_length
            size = len(chunk[0].payload)
            log.warning("bulk_document_refused", status=status, bytes=size, reason=error_reason(exc.info))
            rnd.rejected.append(
                (chunk[0], f"request refused with {status} ({size} bytes): {error_reason(exc.info)}")
            )
        else:
            half = len(chunk) // 2
            first, second = chunk[:half], chunk[half:]
            log.warning(
                "bulk_split",
                status=status,
                items=len(chunk),
                bytes=sum(len(op.payload) for op in chunk),
                halves=[
                    [len(first), sum(len(op.payload) for op in first)],
                    [len(second), sum(len(op.payload) for op in second)],
                ],
                reason=error_reason(exc.info),
            )
            self._send(first, tally, rnd)
            self._send(second, tally, rnd)

    def _reroute(self, rejected: list[tuple[Operation, str]], tally: _Tally) -> list[Operation]:
        """Dead-letter operations for refused events and alerts; refused dead letters go to the spool."""
        if not rejected:
            return []
        now = iso_utc(time.time())
        follow: list[Operation] = []
        spool: list[dict[str, object]] = []
        kinds: Counter[str] = Counter()
        for op, reason in rejected:
            kinds[f"{op.kind}:{reason.split(':', 1)[0]}"] += 1
            src = op.source
            if op.kind == EVENT and isinstance(src, AccessEvent):
                follow.append(self._event_dead_letter(src, reason, now))
            elif op.kind == ALERT and isinstance(src, Alert):
                follow.append(self._body.refused_alert(src, reason, now))
            else:
                action, _, document = op.payload.partition(b"\n")
                spool.append(
                    {
                        "spooled_at": now,
                        "reason": reason,
                        "action": orjson.loads(action),
                        "document": orjson.loads(document),
                    }
                )
        log.warning("bulk_refused", items=len(rejected), to_dead_letter=len(follow), causes=dict(kinds))
        if spool:
            if self._spool is None:
                raise DeliveryError(
                    f"the dead-letter index {self._names.dead_letter} refused {len(spool)} documents "
                    "and no spool file is configured"
                )
            tally.spooled += self._spool.append(spool)
            log.error("dead_letters_spooled", items=len(spool), path=str(self._spool.path))
        return follow

    def _event_dead_letter(self, event: AccessEvent, reason: str, now: str) -> Operation:
        parser = event.fields.get("auditwatch.parser")
        ts = event.fields.get("@timestamp")
        target = self._names.events_for(ts) if isinstance(ts, str) else None
        dead = DeadLetter(event.raw, "index", reason, parser if isinstance(parser, str) else "")
        return self._body.dead_letter(dead, now, event_id=event.id, target=target)

    def _pause(self, seconds: float, tally: _Tally, started: float, pending: int) -> None:
        stop = self._stop
        if stop is not None and stop.is_set():
            raise DeliveryInterrupted(tally.report(started), pending)
        if stop is not None and self._sleep is time.sleep:
            stop.wait(seconds)  # wakes at once on shutdown
        else:
            self._sleep(seconds)
        if stop is not None and stop.is_set():
            raise DeliveryInterrupted(tally.report(started), pending)


def _message(exc: TransportError) -> str:
    """The transport's own message: names the host and the cause (refused, timeout, TLS reason)."""
    message = exc.message if isinstance(exc.message, str) else str(exc)
    return f"{type(exc).__name__}: {message}"
