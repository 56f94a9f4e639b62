"""setup_cluster against a real Elasticsearch: idempotent, and the mappings are what schema.py says."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from elasticsearch import Elasticsearch

from auditwatch import schema
from auditwatch.indexing import BulkIndexer, setup_cluster
from auditwatch.model import AccessEvent
from auditwatch.schema import IndexNames

EventFactory = Callable[..., list[AccessEvent]]


def _flatten(props: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, spec in props.items():
        if "properties" in spec:
            out.update(_flatten(spec["properties"], f"{prefix}{name}."))
        else:
            out[f"{prefix}{name}"] = spec
    return out


def test_setup_is_idempotent_and_creates_indices(es_client: Elasticsearch, names: IndexNames) -> None:
    """Running setup twice succeeds, installs five index templates, creates alerts, dead-letter, health
    and risk."""
    first = setup_cluster(es_client, names)
    second = setup_cluster(es_client, names)
    assert f"index {names.alerts}: created" in first
    assert f"index {names.alerts}: already exists" in second
    assert f"index {names.dead_letter}: already exists" in second
    templates = es_client.indices.get_index_template(name=f"{names.prefix}-*")["index_templates"]
    assert sorted(t["name"] for t in templates) == sorted(
        f"{names.prefix}-{k}" for k in ("alerts", "deadletter", "events", "health", "risk")
    )
    assert es_client.indices.exists(index=[names.alerts, names.dead_letter, names.risk])


def test_monthly_index_mapping_matches_schema(
    es_client: Elasticsearch, indexer: BulkIndexer, names: IndexNames, make_events: EventFactory
) -> None:
    """The index created from the template maps every canonical field with schema.py's type."""
    indexer.deliver(make_events(1), (), ())
    index = names.events_for("2026-11-18T00:00:00Z")
    mapping = es_client.indices.get_mapping(index=index)[index]["mappings"]
    assert mapping["dynamic"] == "strict"
    fields = _flatten(mapping["properties"])
    assert set(fields) == set(schema.EVENT_FIELDS)
    for name, kind in schema.EVENT_FIELDS.items():
        if kind == schema.ORIGINAL:
            assert fields[name] == {"type": "keyword", "index": False, "doc_values": False}, name
        else:
            assert fields[name]["type"] == kind, name
    settings = es_client.indices.get_settings(index=index)[index]["settings"]["index"]
    assert (settings["number_of_shards"], settings["refresh_interval"]) == ("1", "1s")
    assert settings["codec"] == "best_compression"


def test_setup_brings_existing_event_indices_up_to_date(
    es_client: Elasticsearch, indexer: BulkIndexer, names: IndexNames, make_events: EventFactory
) -> None:
    """A monthly index created by an older version gains fields it lacks when setup runs again."""
    indexer.deliver(make_events(1), (), ())
    index = names.events_for("2026-11-18T00:00:00Z")
    es_client.indices.delete(index=index)
    es_client.indices.create(
        index=index, mappings={"dynamic": "strict", "properties": {"a": {"type": "long"}}}
    )
    lines = setup_cluster(es_client, names)
    assert any("brought up to date" in line for line in lines)
    props = es_client.indices.get_mapping(index=index)[index]["mappings"]["properties"]
    assert props["source"]["properties"]["ip"] == {"type": "ip"}


def test_alerts_are_searchable_sooner_than_events(es_client: Elasticsearch, names: IndexNames) -> None:
    """The alerts index refreshes every 200 ms (alerts are few and wanted at once); events every 1 s."""
    setup_cluster(es_client, names)
    settings = es_client.indices.get_settings(index=names.alerts, flat_settings=True)
    assert settings[names.alerts]["settings"]["index.refresh_interval"] == "200ms"
    es_client.indices.create(index=f"{names.prefix}-events-2026.11")
    events = es_client.indices.get_settings(index=f"{names.prefix}-events-2026.11", flat_settings=True)
    assert events[f"{names.prefix}-events-2026.11"]["settings"]["index.refresh_interval"] == "1s"
