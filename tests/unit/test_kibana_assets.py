"""Offline checks of the Kibana saved objects and the Security-app rule: the shipped assets pass, and
each check fails on a deliberately broken copy. (Field types against the real mapping: see
tests/integration/kibana.)"""

from __future__ import annotations

import copy
import json
from typing import Any

from auditwatch.kibana import assets, validate
from auditwatch.schema import IndexNames

NAMES = IndexNames()


def _objects() -> list[dict[str, Any]]:
    return assets.parse_ndjson(assets.NDJSON.read_text(encoding="utf-8"))


def _rules() -> list[dict[str, Any]]:
    return assets.parse_ndjson(assets.RULES_NDJSON.read_text(encoding="utf-8"))


def _by_id(objects: list[dict[str, Any]], oid: str) -> dict[str, Any]:
    return next(o for o in objects if o["id"] == oid)


def _dashboard(objects: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    dash = _by_id(objects, "auditwatch-overview")
    return dash, json.loads(dash["attributes"]["panelsJSON"])


def test_shipped_assets_pass_every_offline_check() -> None:
    """Envelope, generated = sources, references, grid, data views, default columns, rule shape."""
    objects = _objects()
    assert {o["type"] for o in objects} == {"index-pattern", "search", "dashboard"}
    assert len([o for o in objects if o["type"] == "search"]) == 4
    assert validate.check_envelope(objects) == []
    assert validate.check_generated(assets.NDJSON.read_text(encoding="utf-8"), assets.load_sources()) == []
    assert validate.check_references(objects) == []
    assert validate.check_grid(objects) == []
    assert validate.check_data_views(objects, NAMES) == []
    assert validate.check_default_columns(objects) == []
    assert validate.check_rules(_rules(), NAMES) == []
    assert assets.RULES_NDJSON.read_text(encoding="utf-8") == assets.build_rules_ndjson()


def test_envelope_check_catches_a_decoded_field_and_a_wrong_migration_version() -> None:
    """panelsJSON left as a list, or a typeMigrationVersion other than the oldest supported, fail."""
    objects = _objects()
    dash = _by_id(objects, "auditwatch-overview")
    dash["attributes"]["panelsJSON"] = json.loads(dash["attributes"]["panelsJSON"])
    _by_id(objects, "auditwatch-alerts-view")["typeMigrationVersion"] = "8.99.0"
    problems = validate.check_envelope(objects)
    assert "dashboard auditwatch-overview: panelsJSON must be JSON text (a string), not list" in problems
    assert "index-pattern auditwatch-alerts-view: typeMigrationVersion must be 8.0.0" in problems
    assert len(problems) == 2


def test_generated_check_catches_a_source_edit_not_regenerated() -> None:
    """Changing a source without regenerating the NDJSON is reported."""
    sources = assets.load_sources()
    sources[0]["attributes"]["title"] += " (edited)"
    assert validate.check_generated(assets.NDJSON.read_text(encoding="utf-8"), sources) != []


def test_reference_check_catches_a_dangling_and_an_undeclared_reference() -> None:
    """A search pointing at a missing data view, and a panel whose reference is not on the dashboard."""
    objects = _objects()
    _by_id(objects, "auditwatch-open-alerts-by-risk")["references"][0]["id"] = "auditwatch-nope"
    dash, _panels = _dashboard(objects)
    dash["references"] = [r for r in dash["references"] if not r["name"].startswith("p2:")]
    problems = validate.check_references(objects)
    assert any(
        "auditwatch-open-alerts-by-risk" in p and "auditwatch-nope not in the set" in p for p in problems
    )
    assert any("panel p2 reference" in p and "not on the dashboard" in p for p in problems)


def test_grid_check_catches_overlap_overflow_and_legacy_panels() -> None:
    """Overlapping panels, a panel past column 48 and a by-reference visualization are reported."""
    objects = _objects()
    dash, panels = _dashboard(objects)
    panels[1]["gridData"]["x"] = 10  # overlaps p1
    panels[2]["gridData"]["w"] = 40  # 0 + 40 fits; move it past the edge
    panels[2]["gridData"]["x"] = 20
    panels[3]["type"] = "visualization"
    dash["attributes"]["panelsJSON"] = json.dumps(panels)
    problems = validate.check_grid(objects)
    assert any("overlap" in p for p in problems)
    assert any("panel p3: outside the 48-column grid" in p for p in problems)
    assert any("panel p4: only by-value Lens panels" in p for p in problems)


def test_data_view_check_catches_a_wrong_title_and_unfiltered_raw_lines() -> None:
    """A data view over the wrong index, or one that shows raw lines, is reported."""
    objects = _objects()
    view = _by_id(objects, "auditwatch-events-view")
    view["attributes"]["title"] = "auditwatch-event-*"
    view["attributes"]["sourceFilters"] = json.dumps([{"value": "event.original"}])
    problems = validate.check_data_views(objects, NAMES)
    assert any("title 'auditwatch-event-*' is not one of" in p for p in problems)
    assert any("sourceFilters must hide the raw lines" in p for p in problems)


def test_default_column_check_catches_a_raw_line_column() -> None:
    """A saved search showing event.original by default is reported."""
    objects = _objects()
    _by_id(objects, "auditwatch-evidence-behind-an-alert")["attributes"]["columns"].append("event.original")
    assert validate.check_default_columns(objects) == [
        "search auditwatch-evidence-behind-an-alert: raw line column event.original in the default columns"
    ]


def test_rule_check_catches_a_wrong_index_and_missing_mappings() -> None:
    """The promotion rule must read the alerts index and map severity/risk/name from the alert."""
    rules = copy.deepcopy(_rules())
    rules[0]["index"] = ["auditwatch-events-*"]
    del rules[0]["severity_mapping"]
    problems = validate.check_rules(rules, NAMES)
    assert len(problems) == 2
