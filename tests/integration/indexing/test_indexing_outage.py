"""Elasticsearch unavailable mid-delivery: everything still lands exactly once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from elasticsearch import Elasticsearch

from auditwatch.indexing import BulkIndexer, ElasticsearchConfig
from auditwatch.model import AccessEvent
from auditwatch.schema import IndexNames

EventFactory = Callable[..., list[AccessEvent]]


NOV = 1_795_000_000.0


def test_write_block_is_retried_until_lifted(
    es_client: Elasticsearch, cluster: IndexNames, make_events: EventFactory, count: Callable[[str], int]
) -> None:
    """Per-item 403 (index write block, as on a disk flood stage) is retried, not dead-lettered."""
    index = cluster.events_for("2026-11-18T00:00:00Z")
    es_client.indices.create(index=index)
    es_client.indices.put_settings(index=index, settings={"index.blocks.write": True})
    rounds: list[float] = []

    def sleep(seconds: float) -> None:
        rounds.append(seconds)
        if len(rounds) == 3:
            es_client.indices.put_settings(index=index, settings={"index.blocks.write": False})

    cfg = ElasticsearchConfig(hosts=("http://unused",))
    events = make_events(50, NOV)
    report = BulkIndexer(es_client, cluster, cfg, sleep=sleep).deliver(events, (), ())
    assert (report.created, report.dead_lettered, report.retries) == (50, 0, 3)
    assert report.retried_items == 150
    assert count(index) == 50
    assert count(cluster.dead_letter) == 0


def test_es_down_mid_delivery_delivers_exactly_once(
    es_client: Elasticsearch,
    es_server: Any,
    cluster: IndexNames,
    make_events: EventFactory,
    ids: Callable[[str], Sequence[str]],
) -> None:
    """ES stopped before and during deliver, restarted from a timer thread: every event once, none lost."""
    events = make_events(3000, NOV)
    first, rest = events[:1000], events[1000:]
    cfg = ElasticsearchConfig(
        hosts=("http://unused",), request_timeout=5, backoff_initial=0.05, backoff_max=1.0, bulk_max_docs=500
    )
    indexer = BulkIndexer(es_client, cluster, cfg)
    assert indexer.deliver(first, (), ()).created == 1000
    es_server.pause()
    delays: list[float] = []

    def sleep(seconds: float) -> None:
        delays.append(seconds)
        time.sleep(seconds)

    retrying = BulkIndexer(es_client, cluster, cfg, sleep=sleep)
    resumer = threading.Timer(1.0, es_server.resume)
    resumer.start()
    try:
        report = retrying.deliver(first + rest, (), ())  # the first 1000 again: a replay after a crash
    finally:
        resumer.join()
    assert report.retries >= 1
    assert len(delays) == report.retries
    assert report.created + report.duplicates == 3000
    assert report.duplicates >= 1000
    assert report.dead_lettered == 0
    index = cluster.events_for("2026-11-18T00:00:00Z")
    stored = ids(index)
    assert len(stored) == len(set(stored)) == 3000
    assert set(stored) == {e.id for e in events}
