"""Every field the Kibana assets use exists, with a suitable type, in the real mappings: auditwatch's
templates installed into the test Elasticsearch and read back. A broken panel is caught."""

from __future__ import annotations

import json
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from auditwatch.indexing import setup_cluster
from auditwatch.kibana import assets, validate
from auditwatch.schema import IndexNames

Mappings = dict[str, dict[str, tuple[str, bool]]]


@pytest.fixture
def mappings(es_client: Elasticsearch, index_prefix: str) -> Mappings:
    """Data view title (default prefix) -> the real mapping of that index under this test's prefix."""
    names = IndexNames(index_prefix)
    setup_cluster(es_client, names)
    events = f"{index_prefix}-events-2026.01"
    es_client.indices.create(index=events)  # mapped by the events template
    got = es_client.indices.get_mapping(index=[names.alerts, events, names.risk])
    default = IndexNames()
    return {
        default.alerts: validate.field_types(got[names.alerts]["mappings"]),
        default.risk: validate.field_types(got[names.risk]["mappings"]),
        default.events_pattern: validate.field_types(got[events]["mappings"]),
    }


def _objects() -> list[dict[str, Any]]:
    return assets.parse_ndjson(assets.NDJSON.read_text(encoding="utf-8"))


def _rules() -> list[dict[str, Any]]:
    return assets.parse_ndjson(assets.RULES_NDJSON.read_text(encoding="utf-8"))


def test_every_field_used_is_mapped_with_a_suitable_type(mappings: Mappings) -> None:
    """Panels, searches (columns, sort, filters, queries), data views and the rule: all fields exist."""
    assert mappings[IndexNames().alerts]["auditwatch.triage.status"] == ("keyword", True)
    assert mappings[IndexNames().events_pattern]["event.original"][1] is False  # kept, not aggregatable
    assert validate.check_fields(_objects(), _rules(), mappings) == []


def test_field_check_catches_unmapped_and_unsuitable_fields(mappings: Mappings) -> None:
    """A terms split on an unmapped field, a date histogram on a keyword and a terms split on the raw
    line (not aggregatable) are each reported; so is a rule mapping risk from a keyword."""
    objects = _objects()
    dash = next(o for o in objects if o["type"] == "dashboard")
    panels = json.loads(dash["attributes"]["panelsJSON"])
    columns = panels[0]["embeddableConfig"]["attributes"]["state"]["datasourceStates"]["formBased"]["layers"][
        "layer1"
    ]["columns"]
    columns["c_rule"]["sourceField"] = "rule.idd"
    columns["c_time"]["sourceField"] = "rule.id"
    events_columns = panels[5]["embeddableConfig"]["attributes"]["state"]["datasourceStates"]["formBased"][
        "layers"
    ]["layer1"]["columns"]
    events_columns["c_source"]["sourceField"] = "event.original"
    dash["attributes"]["panelsJSON"] = json.dumps(panels)
    rules = _rules()
    rules[0]["risk_score_mapping"][0]["field"] = "rule.id"
    problems = validate.check_fields(objects, rules, mappings)
    assert (
        "dashboard auditwatch-overview: terms field rule.idd is not in the mapping of auditwatch-alerts"
        in problems
    )
    assert (
        "dashboard auditwatch-overview: date_histogram on rule.id needs a date, the mapping has keyword"
        in problems
    )
    assert any("terms on event.original needs an aggregatable field" in p for p in problems)
    assert any("detection rule" in p and "metric on rule.id needs a number" in p for p in problems)
    assert len(problems) == 4
