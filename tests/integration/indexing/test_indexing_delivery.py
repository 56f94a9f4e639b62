"""BulkIndexer against a real Elasticsearch: monthly routing, replays, dead letters, spool, alerts."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from pathlib import Path

import orjson
import pytest
from elasticsearch import Elasticsearch

from auditwatch.errors import DeliveryError
from auditwatch.indexing import BulkIndexer, ElasticsearchConfig, setup_cluster
from auditwatch.model import AccessEvent, Alert, DeadLetter, RawLine
from auditwatch.schema import IndexNames

EventFactory = Callable[..., list[AccessEvent]]


NOV = 1_795_000_000.0  # 2026-11-18
OCT = 1_792_000_000.0  # 2026-10-14


def test_events_land_in_the_month_of_their_own_timestamp(
    indexer: BulkIndexer,
    names: IndexNames,
    make_events: EventFactory,
    count: Callable[[str], int],
    ids: Callable[[str], Sequence[str]],
) -> None:
    """Events from two months go to two monthly indices, each under its deterministic _id."""
    october, november = make_events(30, OCT), make_events(20, NOV, offset=10_000)
    report = indexer.deliver(october + november, (), ())
    assert (report.created, report.duplicates, report.dead_lettered, report.retries) == (50, 0, 0, 0)
    assert count(f"{names.prefix}-events-2026.10") == 30
    assert count(f"{names.prefix}-events-2026.11") == 20
    assert sorted(ids(f"{names.prefix}-events-2026.10")) == sorted(e.id for e in october)


def test_replay_is_counted_as_duplicates_and_changes_nothing(
    indexer: BulkIndexer,
    names: IndexNames,
    make_events: EventFactory,
    count: Callable[[str], int],
) -> None:
    """Delivering the same batch again yields 409s reported as duplicates; the count stays."""
    events = make_events(120, NOV)
    assert indexer.deliver(events, (), ()).created == 120
    again = indexer.deliver(events, (), ())
    assert (again.created, again.duplicates, again.dead_lettered) == (0, 120, 0)
    assert count(names.events_pattern) == 120


def test_small_chunks_deliver_everything(
    es_client: Elasticsearch, cluster: IndexNames, make_events: EventFactory, count: Callable[[str], int]
) -> None:
    """With tiny bulk limits the batch is split into many requests and every event still lands once."""
    cfg = ElasticsearchConfig(hosts=("http://unused",), bulk_max_docs=7, bulk_max_bytes=2048)
    report = BulkIndexer(es_client, cluster, cfg).deliver(make_events(100, NOV), (), ())
    assert report.created == 100
    assert count(cluster.events_pattern) == 100


def test_mapping_rejections_become_dead_letters(
    es_client: Elasticsearch,
    indexer: BulkIndexer,
    names: IndexNames,
    make_events: EventFactory,
    count: Callable[[str], int],
) -> None:
    """Unknown fields and a non-IP source.ip go to the dead-letter index with the raw line and the reason."""
    good = make_events(3, NOV)
    unknown_field = make_events(1, NOV, offset=1000, extra={"user.shoe_size": "44"})
    bad_ip = make_events(1, NOV, offset=2000, extra={"source.ip": "not-an-ip"})
    report = indexer.deliver(good + unknown_field + bad_ip, (), ())
    assert (report.created, report.dead_lettered, report.spooled) == (3, 2, 0)
    assert count(names.events_pattern) == 3
    es_client.indices.refresh(index=names.dead_letter)
    hits = es_client.search(index=names.dead_letter, sort=["log.offset"])["hits"]["hits"]
    docs = [h["_source"] for h in hits]
    assert [d["event.id"] for d in docs] == [unknown_field[0].id, bad_ip[0].id]
    assert docs[0]["event.original"] == unknown_field[0].raw.data.decode()
    assert "strict" in docs[0]["error.message"]
    assert "shoe_size" in docs[0]["error.message"]
    assert "source.ip" in docs[1]["error.message"]
    assert {d["error.type"] for d in docs} == {"index"}
    assert {d["auditwatch.parser"] for d in docs} == {"pnc"}
    assert docs[1]["auditwatch.target_index"] == f"{names.prefix}-events-2026.11"

    replay = indexer.deliver(unknown_field + bad_ip, (), ())
    assert (replay.created, replay.dead_lettered) == (0, 2)
    assert count(names.dead_letter) == 2


def test_parse_dead_letters_keep_exact_bytes(
    es_client: Elasticsearch, indexer: BulkIndexer, names: IndexNames
) -> None:
    """Dead letters from parsing are indexed with the raw line, invalid UTF-8 preserved in base64."""
    data = b"garbage \xff\xfe line"
    raw = RawLine("pnc", "/logs/pnc/audit.log", "dev1:ino42", 640, 640 + len(data) + 1, data, len(data))
    dead = DeadLetter(raw, "parse", "no record pattern matched", "pnc")
    assert indexer.deliver((), [dead], ()).dead_lettered == 1
    assert indexer.deliver((), [dead], ()).dead_lettered == 1  # replay: 409, still one document
    es_client.indices.refresh(index=names.dead_letter)
    (hit,) = es_client.search(index=names.dead_letter)["hits"]["hits"]
    doc = hit["_source"]
    assert base64.b64decode(doc["auditwatch.line.original_b64"]) == data
    assert (doc["error.type"], doc["error.message"], doc["log.offset"]) == (
        "parse",
        "no record pattern matched",
        640,
    )


def test_refused_dead_letters_are_spooled(
    es_client: Elasticsearch, names: IndexNames, tmp_path: Path, make_events: EventFactory
) -> None:
    """When the dead-letter index itself refuses a document, it is appended to the local spool file."""
    es_client.indices.create(index=names.dead_letter, mappings={"dynamic": "strict", "properties": {}})
    setup_cluster(es_client, names)  # keeps the hostile dead-letter index that already exists
    cfg = ElasticsearchConfig(hosts=("http://unused",))
    spool = tmp_path / "spool" / "deadletter.jsonl"
    indexer = BulkIndexer(es_client, names, cfg, spool_path=spool, sleep=lambda _s: None)
    bad = make_events(1, NOV, extra={"source.ip": "nope"})
    report = indexer.deliver(make_events(2, NOV, offset=500) + bad, (), ())
    assert (report.created, report.dead_lettered, report.spooled) == (2, 0, 1)
    (line,) = spool.read_bytes().splitlines()
    record = orjson.loads(line)
    assert "strict_dynamic_mapping_exception" in record["reason"]
    assert record["action"]["create"]["_index"] == names.dead_letter
    assert record["document"]["event.original"] == bad[0].raw.data.decode()
    assert "source.ip" in record["document"]["error.message"]

    no_spool = BulkIndexer(es_client, names, cfg, sleep=lambda _s: None)
    with pytest.raises(DeliveryError, match="no spool file"):
        no_spool.deliver(bad, (), ())


def _alert(status: str = "new") -> Alert:
    fields = {
        "rule.id": "colleague-lookup",
        "rule.name": "Colleague lookup",
        "event.kind": "alert",
        "event.severity": 3,
        "event.risk_score": 61.5,
        "user.id": "MP000001",
        "auditwatch.subject.surname": "SMITH",
        "auditwatch.alert.reasons": ["subject is a member of staff"],
        "auditwatch.alert.evidence": [
            {"event.original": "2026-11-18T00:00:00Z|MP000001|VIEW", "hash": "ab12", "offset": 0}
        ],
        "auditwatch.triage.status": status,
        "auditwatch.triage.notes": "",
    }
    return Alert("colleague-lookup:MP000001:2026-11-18", NOV, "colleague-lookup", fields)


def test_alert_replay_never_overwrites_triage(
    es_client: Elasticsearch, indexer: BulkIndexer, names: IndexNames
) -> None:
    """An alert is created once; after a reviewer's update, re-creating it is a 409 that keeps the update."""
    first = indexer.deliver((), (), [_alert()])
    assert first.created == 1
    current = es_client.get(index=names.alerts, id=_alert().id)
    es_client.update(
        index=names.alerts,
        id=_alert().id,
        doc={"auditwatch": {"triage": {"status": "under review", "assignee": "psd-7"}}},
        if_seq_no=current["_seq_no"],
        if_primary_term=current["_primary_term"],
    )
    replay = indexer.deliver((), (), [_alert()])
    assert (replay.created, replay.duplicates) == (0, 1)
    source = es_client.get(index=names.alerts, id=_alert().id)["_source"]
    assert source["auditwatch"]["triage"]["status"] == "under review"
    assert source["event.severity"] == 3


def test_alert_mapping_keeps_evidence_unindexed(
    es_client: Elasticsearch, indexer: BulkIndexer, names: IndexNames
) -> None:
    """Strings are keywords, raw evidence lines are stored but not indexed, scores are numbers."""
    indexer.deliver((), (), [_alert()])
    props = es_client.indices.get_mapping(index=names.alerts)[names.alerts]["mappings"]["properties"]
    evidence = props["auditwatch"]["properties"]["alert"]["properties"]["evidence"]["properties"]
    assert evidence["event"]["properties"]["original"] == {
        "type": "keyword",
        "index": False,
        "doc_values": False,
    }
    assert props["rule"]["properties"]["name"]["type"] == "keyword"
    assert props["event"]["properties"]["severity"] == {"type": "long"}
    assert props["event"]["properties"]["risk_score"] == {"type": "float"}
    assert props["auditwatch"]["properties"]["triage"]["properties"]["notes"] == {"type": "text"}
    assert props["@timestamp"] == {"type": "date"}
