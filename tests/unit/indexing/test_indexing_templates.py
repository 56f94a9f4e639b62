"""Templates are generated from schema.EVENT_FIELDS and use server-module features only."""

from __future__ import annotations

from typing import Any

from auditwatch import schema
from auditwatch.indexing.templates import (
    DEAD_LETTER_FIELDS,
    component_templates,
    index_templates,
    properties,
)
from auditwatch.schema import IndexNames

NAMES = IndexNames("aw")


def _leaf(props: dict[str, Any], dotted: str) -> dict[str, Any]:
    *parents, leaf = dotted.split(".")
    for part in parents:
        props = props[part]["properties"]
    return dict(props[leaf])


def test_every_schema_field_is_mapped_with_its_type() -> None:
    """Each canonical field appears with the Elasticsearch type schema.py declares."""
    mappings = component_templates(NAMES)["aw-events-mappings"]["template"]["mappings"]
    assert mappings["dynamic"] == "strict"
    for name, kind in schema.EVENT_FIELDS.items():
        leaf = _leaf(mappings["properties"], name)
        expected = "keyword" if kind == schema.ORIGINAL else kind
        assert leaf["type"] == expected, name
    assert _leaf(mappings["properties"], "event.original") == {
        "type": "keyword",
        "index": False,
        "doc_values": False,
    }
    assert _leaf(mappings["properties"], "source.ip") == {"type": "ip"}


def test_properties_nest_dotted_names() -> None:
    """Dotted names become nested objects sharing parents."""
    assert properties({"a.b": schema.LONG, "a.c": schema.IP, "d": schema.DATE}) == {
        "a": {"properties": {"b": {"type": "long"}, "c": {"type": "ip"}}},
        "d": {"type": "date"},
    }


def test_index_templates_cover_events_alerts_dead_letters_health_and_risk() -> None:
    """Five composable templates, each composed of the shared settings and its own mappings."""
    templates = index_templates(NAMES)
    assert {name: t["index_patterns"] for name, t in templates.items()} == {
        "aw-events": ["aw-events-*"],
        "aw-alerts": ["aw-alerts"],
        "aw-deadletter": ["aw-deadletter"],
        "aw-health": ["aw-health"],
        "aw-risk": ["aw-risk"],
    }
    components = component_templates(NAMES)
    for template in templates.values():
        assert all(name in components for name in template["composed_of"])
    dead = components["aw-deadletter-mappings"]["template"]["mappings"]
    assert set(DEAD_LETTER_FIELDS) >= {"error.message", "error.type", "event.original", "log.offset"}
    assert dead["dynamic"] == "strict"


def test_no_features_outside_the_server_module() -> None:
    """No ILM policy, ingest pipeline, script or data stream anywhere in what is installed."""
    text = repr(component_templates(NAMES)) + repr(index_templates(NAMES))
    for word in ("lifecycle", "pipeline", "script", "data_stream", "painless"):
        assert word not in text
