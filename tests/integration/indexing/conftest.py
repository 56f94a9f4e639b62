"""Helpers for the indexing integration tests: canonical events and an indexer per test prefix."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from auditwatch.indexing import BulkIndexer, ElasticsearchConfig, setup_cluster
from auditwatch.model import AccessEvent, RawLine
from auditwatch.schema import IndexNames

EventFactory = Callable[..., list[AccessEvent]]


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"


def _make_events(
    n: int, start: float = 1_795_000_000.0, *, offset: int = 0, extra: dict[str, Any] | None = None
) -> list[AccessEvent]:
    """`n` parsed-looking events, one second apart, from one file; ids from (file, offset, line hash)."""
    out = []
    for i in range(n):
        ts = start + i
        pos = offset + i * 64
        line = f"{_iso(ts)}|MP{i:06d}|VIEW|PERSON|P{i:07d}|10.0.0.{i % 250}".encode()
        digest = hashlib.sha1(line).hexdigest()
        raw = RawLine("pnc", "/logs/pnc/audit.log", "dev1:ino42", pos, pos + len(line) + 1, line, len(line))
        fields: dict[str, Any] = {
            "@timestamp": _iso(ts),
            "event.kind": "event",
            "event.category": ["database"],
            "event.type": ["access"],
            "event.action": "view-person",
            "event.id": f"ev-{pos}-{digest[:12]}",
            "event.hash": digest,
            "event.original": line.decode(),
            "user.id": f"MP{i:06d}",
            "source.ip": f"10.0.0.{i % 250}",
            "log.file.path": raw.path,
            "log.offset": pos,
            "auditwatch.parser": "pnc",
            "auditwatch.record.id": f"P{i:07d}",
        }
        fields.update(extra or {})
        out.append(AccessEvent(fields["event.id"], ts, fields, raw))
    return out


@pytest.fixture
def names(index_prefix: str) -> IndexNames:
    """Index names under this test's unique prefix."""
    return IndexNames(index_prefix)


@pytest.fixture
def cluster(es_client: Elasticsearch, names: IndexNames) -> IndexNames:
    """Templates and indices installed for this test's prefix."""
    setup_cluster(es_client, names)
    return names


@pytest.fixture
def indexer(es_client: Elasticsearch, cluster: IndexNames) -> BulkIndexer:
    """A BulkIndexer for this test's indices that never really sleeps."""
    cfg = ElasticsearchConfig(hosts=("http://unused",), index_prefix=cluster.prefix, request_timeout=10)
    return BulkIndexer(es_client, cluster, cfg, sleep=lambda _s: None)


@pytest.fixture
def make_events() -> EventFactory:
    """`make_events(n, start=..., offset=..., extra={...})`: parsed-looking events from one file."""
    return _make_events


@pytest.fixture
def count(es_client: Elasticsearch) -> Callable[[str], int]:
    """Documents in an index (pattern), after a refresh."""

    def count_docs(index: str) -> int:
        es_client.indices.refresh(index=index)
        return int(es_client.count(index=index)["count"])

    return count_docs


@pytest.fixture
def ids(es_client: Elasticsearch) -> Callable[[str], Sequence[str]]:
    """Every _id in an index (up to 10,000), after a refresh."""

    def doc_ids(index: str) -> Sequence[str]:
        es_client.indices.refresh(index=index)
        hits = es_client.search(index=index, size=10_000, source=False, sort=["_doc"])["hits"]["hits"]
        return [h["_id"] for h in hits]

    return doc_ids
