"""With Elasticsearch unreachable, deliver retries with growing backoff until `stop` is set."""

from __future__ import annotations

import contextlib
import gc
import random
import socket
import threading

import pytest
from elasticsearch import Elasticsearch
from structlog.testing import capture_logs

from auditwatch.indexing import BulkIndexer, DeliveryInterrupted, ElasticsearchConfig
from auditwatch.model import AccessEvent, RawLine
from auditwatch.schema import IndexNames


def _closed_port() -> int:
    with socket.socket() as s:  # bound then closed: nothing listens there
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_stop_interrupts_the_retry_loop() -> None:
    """Connection refused is retried (no sleeping in the test); setting stop raises DeliveryInterrupted."""
    url = f"http://127.0.0.1:{_closed_port()}"
    cfg = ElasticsearchConfig(hosts=(url,), backoff_initial=0.5, backoff_max=4.0)
    stop = threading.Event()
    delays: list[float] = []

    def sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) == 6:
            stop.set()

    raw = RawLine("s", "/f", "k", 0, 10, b"line", 4)
    event = AccessEvent("id1", 0.0, {"@timestamp": "2026-11-18T00:00:00Z"}, raw)
    client = Elasticsearch(url)
    indexer = BulkIndexer(client, IndexNames("t"), cfg, stop=stop, sleep=sleep, rng=random.Random(1))
    with pytest.raises(DeliveryInterrupted) as err:
        indexer.deliver([event], (), ())
    client.close()
    assert len(delays) == 6
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert all(0 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert err.value.pending == 1
    assert (err.value.report.retries, err.value.report.created) == (6, 0)


def test_stop_wakes_a_real_backoff_wait_at_once() -> None:
    """With the default sleep, a long backoff wait ends as soon as stop is set."""
    url = f"http://127.0.0.1:{_closed_port()}"
    cfg = ElasticsearchConfig(hosts=(url,), backoff_initial=30.0, backoff_max=30.0)
    stop = threading.Event()
    raw = RawLine("s", "/f", "k", 0, 10, b"line", 4)
    event = AccessEvent("id1", 0.0, {"@timestamp": "2026-11-18T00:00:00Z"}, raw)
    client = Elasticsearch(url)
    indexer = BulkIndexer(client, IndexNames("t"), cfg, stop=stop, rng=random.Random(3))
    timer = threading.Timer(0.3, stop.set)
    timer.start()
    watch = threading.Event()
    result: list[BaseException] = []

    def run() -> None:
        try:
            indexer.deliver([event], (), ())
        except DeliveryInterrupted as exc:
            result.append(exc)
        watch.set()

    threading.Thread(target=run, daemon=True).start()
    assert watch.wait(10), "deliver did not return within 10 s of stop"
    client.close()
    assert isinstance(result[0], DeliveryInterrupted)


def test_failed_rounds_leave_no_reference_cycles_holding_the_request() -> None:
    """Connection refused 20 times: nothing for the cyclic collector (each body is freed at once);
    each retry log line names the host and the cause."""
    port = _closed_port()
    url = f"http://127.0.0.1:{port}"
    cfg = ElasticsearchConfig(hosts=(url,), backoff_initial=0.5, backoff_max=1.0)
    stop = threading.Event()
    rounds: list[float] = []

    def sleep(seconds: float) -> None:
        rounds.append(seconds)
        if len(rounds) == 20:
            stop.set()

    raw = RawLine("s", "/f", "k", 0, 10, b"x" * 100_000, 100_000)
    events = [AccessEvent(f"id{i}", 0.0, {"@timestamp": "2026-11-18T00:00:00Z"}, raw) for i in range(20)]
    client = Elasticsearch(url)
    indexer = BulkIndexer(client, IndexNames("t"), cfg, stop=stop, sleep=sleep, rng=random.Random(1))
    gc.collect()
    gc.disable()
    try:
        with capture_logs() as logs, contextlib.suppress(DeliveryInterrupted):
            indexer.deliver(events, (), ())
        garbage = gc.collect()
    finally:
        gc.enable()
        client.close()
    assert len(rounds) == 20
    assert garbage == 0
    retries = [e for e in logs if e["event"] == "bulk_retry"]
    assert len(retries) == 20
    assert retries[0]["hosts"] == [url]
    detail = retries[0]["detail"]["ConnectionError"]
    assert f"port={port}" in detail
    assert "Connection refused" in detail
