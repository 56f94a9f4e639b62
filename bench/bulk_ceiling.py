"""Bulk throughput: the raw ceiling of one Elasticsearch node versus auditwatch's BulkIndexer.

`raw_bulk_ceiling` sends pre-serialised ~390-byte documents (`create` with `_id`, 5,000 per request,
one connection, strict keyword mapping): the most Elasticsearch takes when the client does nothing.
`indexer_throughput` pushes canonical events through `BulkIndexer.deliver`, body building included.
Their ratio is what the delivery path costs end to end.

    .venv/bin/python bench/bulk_ceiling.py --url http://127.0.0.1:9200 --docs 200000
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import orjson
from elasticsearch import Elasticsearch

from auditwatch.indexing import BulkIndexer, ElasticsearchConfig, make_client, setup_cluster
from auditwatch.indexing.templates import component_templates, index_templates
from auditwatch.model import AccessEvent, RawLine
from auditwatch.schema import IndexNames

_PER_REQUEST = 5000
_HEADERS = {"accept": "application/json", "content-type": "application/x-ndjson"}
_RAW_FIELDS = (
    "@timestamp",
    "event.action",
    "event.outcome",
    "event.dataset",
    "event.id",
    "user.id",
    "user.name",
    "host.name",
    "auditwatch.record.type",
    "auditwatch.record.id",
    "auditwatch.subject.surname",
    "auditwatch.terminal",
    "event.original",
)


def _raw_doc(i: int) -> dict[str, str]:
    doc = {
        "@timestamp": f"2026-11-25T10:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z",
        "event.action": "view-person",
        "event.outcome": "success",
        "event.dataset": "pnc.audit",
        "event.id": f"{i:012d}",
        "user.id": f"MP{i % 5000:06d}",
        "user.name": f"officer{i % 5000}",
        "host.name": "pncapp01",
        "auditwatch.record.type": "person",
        "auditwatch.record.id": f"P{i * 7 % 999983:07d}",
        "auditwatch.subject.surname": "SMITH",
        "auditwatch.terminal": f"T{i % 300:04d}",
    }
    doc["event.original"] = "|".join(doc.values())
    return doc


def raw_bulk_ceiling(client: Elasticsearch, n_docs: int, prefix: str, connections: int = 1) -> float:
    """Docs/s for `n_docs` pre-serialised documents sent as fast as `connections` connections allow."""
    index = f"{prefix}-ceiling"
    props = {name: {"type": "keyword"} for name in _RAW_FIELDS}
    client.options(ignore_status=404).indices.delete(index=index)
    client.indices.create(
        index=index,
        settings={"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "1s"},
        mappings={"dynamic": "strict", "properties": props},
    )
    bodies: list[bytes] = []
    for start in range(0, n_docs, _PER_REQUEST):
        lines = []
        for i in range(start, min(n_docs, start + _PER_REQUEST)):
            lines.append(b'{"create":{"_index":"%b","_id":"%d"}}\n' % (index.encode(), i))
            lines.append(orjson.dumps(_raw_doc(i)) + b"\n")
        bodies.append(b"".join(lines))
    fast = client.options(request_timeout=120)

    def send(body: bytes) -> None:
        response = fast.perform_request(
            "PUT", "/_bulk", params={"filter_path": "errors"}, headers=_HEADERS, body=body
        )
        if response.body.get("errors"):
            raise RuntimeError("raw bulk reported item errors")

    try:
        started = time.perf_counter()
        if connections == 1:
            for body in bodies:
                send(body)
        else:  # each thread takes the next body: `connections` requests in flight
            with ThreadPoolExecutor(connections) as pool:
                list(pool.map(send, bodies))
        return n_docs / (time.perf_counter() - started)
    finally:
        client.options(ignore_status=404).indices.delete(index=index)


def synthetic_events(n: int, start: float = 1_795_000_000.0) -> list[AccessEvent]:
    """`n` canonical events shaped like a parsed record-system audit line (~390 bytes of JSON)."""
    events = []
    for i in range(n):
        ts = start + i * 0.01
        iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"
        line = f"{iso}|MP{i % 5000:06d}|VIEW|PERSON|P{i * 7 % 999983:07d}|SMITH|T{i % 300:04d}".encode()
        digest = hashlib.sha1(line, usedforsecurity=False).hexdigest()
        raw = RawLine("pnc", "/var/log/pnc/audit.log", "dev:ino:1", i * 100, i * 100 + 99, line, len(line))
        fields = {
            "@timestamp": iso,
            "event.kind": "event",
            "event.category": ["database"],
            "event.type": ["access"],
            "event.action": "view-person",
            "event.dataset": "pnc.audit",
            "event.id": digest,
            "event.hash": digest,
            "event.original": line.decode(),
            "user.id": f"MP{i % 5000:06d}",
            "host.name": "pncapp01",
            "log.offset": i * 100,
            "auditwatch.record.type": "person",
            "auditwatch.record.id": f"P{i * 7 % 999983:07d}",
        }
        events.append(AccessEvent(digest, ts, fields, raw))
    return events


def indexer_throughput(client: Elasticsearch, events: Sequence[AccessEvent], prefix: str) -> float:
    """Docs/s through `BulkIndexer.deliver`, 5,000 events per call (as the daemon batches them)."""
    names = IndexNames(prefix)
    setup_cluster(client, names)
    cfg = ElasticsearchConfig(hosts=("http://unused",), index_prefix=prefix, request_timeout=120)
    indexer = BulkIndexer(client, names, cfg)
    created = 0
    started = time.perf_counter()
    for start in range(0, len(events), _PER_REQUEST):
        report = indexer.deliver(events[start : start + _PER_REQUEST], (), ())
        created += report.created
    elapsed = time.perf_counter() - started
    if created != len(events):
        raise RuntimeError(f"only {created} of {len(events)} events were created")
    return len(events) / elapsed


def remove_deployment(client: Elasticsearch, prefix: str) -> None:
    """Delete a prefix's indices and templates (by name: wildcard deletes are refused by default)."""
    indices = list(client.indices.get(index=f"{prefix}-*", expand_wildcards="all").body)
    if indices:
        client.indices.delete(index=",".join(indices))
    for name in index_templates(IndexNames(prefix)):
        client.options(ignore_status=404).indices.delete_index_template(name=name)
    for name in component_templates(IndexNames(prefix)):
        client.options(ignore_status=404).cluster.delete_component_template(name=name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--prefix", default="bench")
    args = parser.parse_args()
    # the daemon's own client (orjson for responses), for both measurements
    client = make_client(ElasticsearchConfig(hosts=(args.url,), request_timeout=120))
    ceiling = raw_bulk_ceiling(client, args.docs, args.prefix)
    print(f"raw bulk ceiling: {ceiling:,.0f} docs/s")
    events = synthetic_events(args.docs)
    size = sum(len(orjson.dumps(dict(e.fields))) for e in events[:1000]) / 1000
    print(f"event document size: {size:.0f} bytes")
    try:
        cpu = time.process_time()
        rate = indexer_throughput(client, events, args.prefix)
        cpu = time.process_time() - cpu
    finally:
        remove_deployment(client, args.prefix)
    print(f"BulkIndexer.deliver: {rate:,.0f} docs/s ({rate / ceiling:.0%} of the raw ceiling)")
    print(f"BulkIndexer CPU in this process: {cpu / len(events) * 1e6:.2f} µs/event (body, send, response)")


if __name__ == "__main__":
    main()
