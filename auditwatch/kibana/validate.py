"""Offline checks of the Kibana assets (Kibana cannot run here). Each returns problems as strings.

The field checks take the real mappings: the index templates installed into Elasticsearch and read
back (`field_types`), so a panel on a field the templates do not map, or map with an unsuitable type,
is caught before a reviewer opens an empty panel.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from auditwatch.indexing import RAW_LINE_FIELDS
from auditwatch.kibana import assets
from auditwatch.schema import IndexNames

ID_PREFIX = "auditwatch-"
GRID_COLUMNS = 48
RAW_FIELDS = frozenset({*RAW_LINE_FIELDS, "auditwatch.alert.evidence.original"})
_KQL_FIELD = re.compile(r"(?<![\w.@\"])([A-Za-z@_][\w.@]*)\s*:")
_AGGREGATABLE = frozenset(
    {"keyword", "long", "integer", "short", "byte", "double", "float", "date", "ip", "boolean"}
)
_NUMERIC = frozenset({"long", "integer", "short", "byte", "double", "float"})


def field_types(mapping: Mapping[str, Any]) -> dict[str, tuple[str, bool]]:
    """Flatten one index's mapping (`get_mapping()[index]["mappings"]`) to field -> (type, aggregatable)."""
    out: dict[str, tuple[str, bool]] = {}

    def walk(props: Mapping[str, Any], prefix: str) -> None:
        for name, spec in props.items():
            path = f"{prefix}{name}"
            if "properties" in spec:
                walk(spec["properties"], path + ".")
                continue
            kind = str(spec.get("type", "object"))
            searchable = spec.get("index", True) is not False
            aggregatable = kind in _AGGREGATABLE and spec.get("doc_values", True) is not False and searchable
            out[path] = (kind, aggregatable)

    walk(mapping.get("properties", {}), "")
    return out


def check_envelope(objects: Sequence[Mapping[str, Any]]) -> list[str]:
    """Ids, types, migration versions, references shape and JSON-string encoding."""
    problems = []
    seen: set[tuple[str, str]] = set()
    for obj in objects:
        oid, kind = str(obj.get("id")), str(obj.get("type"))
        where = f"{kind} {oid}"
        if not oid.startswith(ID_PREFIX):
            problems.append(f"{where}: id must start with '{ID_PREFIX}' (stable ids)")
        if kind not in assets.TYPE_MIGRATION_VERSIONS:
            problems.append(f"{where}: type must be one of {sorted(assets.TYPE_MIGRATION_VERSIONS)}")
            continue
        if (kind, oid) in seen:
            problems.append(f"{where}: duplicate")
        seen.add((kind, oid))
        if obj.get("coreMigrationVersion") != assets.CORE_MIGRATION_VERSION:
            problems.append(f"{where}: coreMigrationVersion must be {assets.CORE_MIGRATION_VERSION}")
        if obj.get("typeMigrationVersion") != assets.TYPE_MIGRATION_VERSIONS[kind]:
            problems.append(f"{where}: typeMigrationVersion must be {assets.TYPE_MIGRATION_VERSIONS[kind]}")
        if not isinstance(obj.get("references"), list) or not all(
            isinstance(r, Mapping) and {"id", "type", "name"} <= r.keys() for r in obj["references"]
        ):
            problems.append(f"{where}: references must be a list of {{id, type, name}}")
        attributes = obj.get("attributes")
        if not isinstance(attributes, Mapping) or not attributes.get("title"):
            problems.append(f"{where}: attributes with a title required")
            continue
        for key in assets.ENCODED & attributes.keys():
            problems += _check_json_text(where, key, attributes[key])
        meta = attributes.get("kibanaSavedObjectMeta") or {}
        for key in assets.ENCODED_META & meta.keys():
            problems += _check_json_text(where, f"kibanaSavedObjectMeta.{key}", meta[key])
        if kind == "dashboard" and "panelsJSON" not in attributes:
            problems.append(f"{where}: dashboard without panelsJSON")
    return problems


def _check_json_text(where: str, key: str, value: object) -> list[str]:
    if not isinstance(value, str):
        return [f"{where}: {key} must be JSON text (a string), not {type(value).__name__}"]
    try:
        json.loads(value)
    except ValueError as exc:
        return [f"{where}: {key} is not valid JSON: {exc}"]
    return []


def check_generated(ndjson_text: str, sources: Sequence[Mapping[str, Any]]) -> list[str]:
    """The committed NDJSON is exactly what the sources generate."""
    if ndjson_text == assets.build_ndjson(sources):
        return []
    return [
        "deploy/kibana/auditwatch.ndjson differs from deploy/kibana/objects: "
        "run `python -m auditwatch.kibana.assets`"
    ]


def check_references(objects: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every reference names an object in the set, and every reference name used is declared."""
    problems = []
    known = {(str(o["type"]), str(o["id"])) for o in objects}
    for obj in map(assets.decode, objects):
        where = f"{obj['type']} {obj['id']}"
        names = {r["name"] for r in obj["references"]}
        for ref in obj["references"]:
            if (ref["type"], ref["id"]) not in known:
                problems.append(
                    f"{where}: reference {ref['name']} -> {ref['type']} {ref['id']} not in the set"
                )
        for used in _ref_names_used(obj):
            if used not in names:
                problems.append(f"{where}: uses reference '{used}' that is not declared")
        for panel in _panels(obj):
            for ref in panel["embeddableConfig"]["attributes"].get("references", []):
                if (ref["type"], ref["id"]) not in known:
                    problems.append(
                        f"{where}: panel {panel['panelIndex']} -> {ref['type']} {ref['id']} not in the set"
                    )
                if f"{panel['panelIndex']}:{ref['name']}" not in names:
                    problems.append(
                        f"{where}: panel {panel['panelIndex']} reference {ref['name']} not on the dashboard"
                    )
    return problems


def _ref_names_used(obj: Mapping[str, Any]) -> Iterator[str]:
    source = obj["attributes"].get("kibanaSavedObjectMeta", {}).get("searchSourceJSON", {})
    if source.get("indexRefName"):
        yield source["indexRefName"]
    for flt in source.get("filter", []):
        if flt.get("meta", {}).get("indexRefName"):
            yield flt["meta"]["indexRefName"]


def _panels(obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    panels = obj["attributes"].get("panelsJSON")
    return list(panels) if isinstance(panels, list) else []


def check_grid(objects: Sequence[Mapping[str, Any]]) -> list[str]:
    """Panels inside the 48-column grid, positive sizes, unique ids, no overlaps; by-value Lens only."""
    problems = []
    for obj in map(assets.decode, objects):
        where = f"{obj['type']} {obj['id']}"
        cells: dict[tuple[int, int], str] = {}
        ids: set[str] = set()
        for panel in _panels(obj):
            grid, pid = panel.get("gridData", {}), str(panel.get("panelIndex"))
            if pid in ids or grid.get("i") != pid:
                problems.append(f"{where}: panel {pid}: panelIndex must be unique and equal gridData.i")
            ids.add(pid)
            if panel.get("type") != "lens" or "attributes" not in panel.get("embeddableConfig", {}):
                problems.append(f"{where}: panel {pid}: only by-value Lens panels (no legacy visualizations)")
            x, y, w, h = (int(grid.get(k, -1)) for k in ("x", "y", "w", "h"))
            if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > GRID_COLUMNS:
                problems.append(f"{where}: panel {pid}: outside the {GRID_COLUMNS}-column grid or empty")
                continue
            for cx in range(x, x + w):
                for cy in range(y, y + h):
                    other = cells.setdefault((cx, cy), pid)
                    if other != pid:
                        problems.append(f"{where}: panels {other} and {pid} overlap")
                        break
                else:
                    continue
                break
    return problems


def check_data_views(objects: Sequence[Mapping[str, Any]], names: IndexNames) -> list[str]:
    """Data view titles are the deployment's indices; the time field is @timestamp; raw lines filtered."""
    problems = []
    allowed = {names.alerts, names.events_pattern, names.risk}
    for obj in map(assets.decode, objects):
        if obj["type"] != "index-pattern":
            continue
        where = f"data view {obj['id']}"
        attributes = obj["attributes"]
        if attributes["title"] not in allowed:
            problems.append(f"{where}: title {attributes['title']!r} is not one of {sorted(allowed)}")
        if attributes.get("timeFieldName") != "@timestamp":
            problems.append(f"{where}: timeFieldName must be @timestamp")
        filtered = {f.get("value") for f in attributes.get("sourceFilters", [])}
        if not filtered >= RAW_FIELDS:
            problems.append(f"{where}: sourceFilters must hide the raw lines {sorted(RAW_FIELDS - filtered)}")
    return problems


def check_default_columns(objects: Sequence[Mapping[str, Any]]) -> list[str]:
    """No saved search shows raw lines by default."""
    problems = []
    for obj in map(assets.decode, objects):
        if obj["type"] == "search":
            for column in obj["attributes"].get("columns", []):
                if column in RAW_FIELDS or column.startswith("auditwatch.alert.evidence"):
                    problems.append(f"search {obj['id']}: raw line column {column} in the default columns")
    return problems


def check_fields(
    objects: Sequence[Mapping[str, Any]],
    rules: Sequence[Mapping[str, Any]],
    mappings: Mapping[str, Mapping[str, tuple[str, bool]]],
) -> list[str]:
    """Every field a panel, search, sort, filter, query or rule uses exists in the real mapping of its
    data view's index, with a type that suits its use. `mappings`: data view title -> field_types."""
    problems = []
    decoded = [assets.decode(o) for o in objects]
    titles = {o["id"]: o["attributes"]["title"] for o in decoded if o["type"] == "index-pattern"}
    for obj in decoded:
        where = f"{obj['type']} {obj['id']}"
        for use, field, view_id in _field_uses(obj):
            title = titles.get(view_id)
            if title is None:
                continue  # reported by check_references
            problems += _check_use(where, use, field, title, mappings.get(title, {}))
    for rule in rules:
        where = f"detection rule {rule.get('rule_id')}"
        for index in rule.get("index", []):
            fields = mappings.get(index, {})
            for use, field in _rule_uses(rule):
                problems += _check_use(where, use, field, index, fields)
    return problems


def _check_use(
    where: str, use: str, field: str, title: str, fields: Mapping[str, tuple[str, bool]]
) -> list[str]:
    if field not in fields:
        return [f"{where}: {use} field {field} is not in the mapping of {title}"]
    kind, aggregatable = fields[field]
    needs_agg = use in {"terms", "date_histogram", "sort", "metric", "time"}
    if use in {"date_histogram", "time"} and kind != "date":
        return [f"{where}: {use} on {field} needs a date, the mapping has {kind}"]
    if use == "metric" and kind not in _NUMERIC:
        return [f"{where}: metric on {field} needs a number, the mapping has {kind}"]
    if needs_agg and not aggregatable:
        return [f"{where}: {use} on {field} needs an aggregatable field ({kind} here is not)"]
    return []


def _field_uses(obj: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(use, field, data view id) for every field the object uses."""
    attributes = obj["attributes"]
    refs = {r["name"]: r["id"] for r in obj["references"]}
    if obj["type"] == "index-pattern":
        yield "time", attributes.get("timeFieldName", ""), obj["id"]
        return
    source = attributes.get("kibanaSavedObjectMeta", {}).get("searchSourceJSON", {})
    view = refs.get(source.get("indexRefName", ""), "")
    if obj["type"] == "search":
        for column in attributes.get("columns", []):
            yield "column", column, view
        for field, _direction in attributes.get("sort", []):
            yield "sort", field, view
    for flt in source.get("filter", []):
        key = flt.get("meta", {}).get("key")
        if key:
            yield "filter", key, refs.get(flt["meta"].get("indexRefName", ""), view)
    for field in _KQL_FIELD.findall(str(source.get("query", {}).get("query", ""))):
        yield "query", field, view
    for panel in _panels(obj):
        lens = panel["embeddableConfig"]["attributes"]
        lens_refs = {r["name"]: r["id"] for r in lens.get("references", [])}
        state = lens.get("state", {})
        for layer_id, layer in (
            state.get("datasourceStates", {}).get("formBased", {}).get("layers", {}).items()
        ):
            layer_view = lens_refs.get(f"indexpattern-datasource-layer-{layer_id}", "")
            for column in layer.get("columns", {}).values():
                field = column.get("sourceField")
                if not field or field == "___records___":
                    continue
                op = column.get("operationType")
                use = op if op in {"terms", "date_histogram"} else "metric"
                yield use, field, layer_view
            for field in _KQL_FIELD.findall(str(state.get("query", {}).get("query", ""))):
                yield "query", field, layer_view


def _rule_uses(rule: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for item in rule.get("risk_score_mapping", []):
        yield "metric", item["field"]
    for item in rule.get("severity_mapping", []):
        yield "filter", item["field"]
    for key in ("rule_name_override", "timestamp_override"):
        if rule.get(key):
            yield ("time" if key == "timestamp_override" else "filter"), rule[key]
    for field in _KQL_FIELD.findall(str(rule.get("query", ""))):
        yield "query", field


def check_rules(rules: Sequence[Mapping[str, Any]], names: IndexNames) -> list[str]:
    """The Security-app rule: a query rule over the alerts index with mappings from the alert fields."""
    problems = []
    for rule in rules:
        where = f"detection rule {rule.get('rule_id')}"
        for key in ("rule_id", "name", "description", "type", "query", "index", "risk_score", "severity"):
            if key not in rule:
                problems.append(f"{where}: missing {key}")
        if rule.get("index") != [names.alerts]:
            problems.append(f"{where}: index must be [{names.alerts}]")
        if "event.kind" not in str(rule.get("query")):
            problems.append(f"{where}: the query must select event.kind alert")
        if (
            not rule.get("risk_score_mapping")
            or not rule.get("severity_mapping")
            or not rule.get("rule_name_override")
        ):
            problems.append(f"{where}: needs risk_score_mapping, severity_mapping and rule_name_override")
    return problems
