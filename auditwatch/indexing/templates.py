"""Index templates and indices for one deployment, built from `schema.EVENT_FIELDS`.

Only features of the Elasticsearch `server` module: component templates, composable index
templates, core field types. No ILM, ingest pipelines or scripts (the test distribution lacks them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from elasticsearch import ApiError, Elasticsearch

from auditwatch import schema
from auditwatch.indexing.verify import ClusterNotReady, wrong_mappings
from auditwatch.schema import IndexNames

# Lucene refuses terms over 32766 bytes; 8191 characters of UTF-8 always fit, longer values are
# kept in _source but not indexed instead of failing the whole document.
_IGNORE_ABOVE = 8191
_PRIORITY = 200  # above the 100 of the stack's built-in logs-*-* style templates
_NOT_INDEXED: dict[str, Any] = {"type": "keyword", "index": False, "doc_values": False}

_FIELD_TYPES: dict[str, dict[str, Any]] = {
    schema.KEYWORD: {"type": "keyword", "ignore_above": _IGNORE_ABOVE},
    schema.DATE: {"type": "date"},
    schema.LONG: {"type": "long"},
    schema.IP: {"type": "ip"},
    schema.BOOLEAN: {"type": "boolean"},
    schema.TEXT: {"type": "text"},
    schema.ORIGINAL: _NOT_INDEXED,
}

_ALERT_REFRESH = "200ms"
_SETTINGS: dict[str, Any] = {
    "index": {
        "number_of_shards": 1,
        "auto_expand_replicas": "0-1",  # no replica on a single node (stays green), one on a cluster
        "refresh_interval": "1s",
        "codec": "best_compression",  # audit logs are kept for years
    }
}

# Dead letters: what failed, why, and the exact line so it can be replayed once fixed.
DEAD_LETTER_FIELDS: dict[str, str] = {
    "@timestamp": schema.DATE,  # when it was dead-lettered
    "error.message": schema.KEYWORD,
    "error.type": schema.KEYWORD,  # stage: parse / index
    "event.original": schema.ORIGINAL,
    "event.hash": schema.KEYWORD,
    "event.id": schema.KEYWORD,  # the _id the event would have had (index stage)
    "rule.id": schema.KEYWORD,  # for a refused alert
    "log.file.path": schema.KEYWORD,
    "log.offset": schema.LONG,
    "auditwatch.parser": schema.KEYWORD,
    "auditwatch.source": schema.KEYWORD,
    "auditwatch.file_key": schema.KEYWORD,
    "auditwatch.target_index": schema.KEYWORD,
    "auditwatch.alert.id": schema.KEYWORD,
    "auditwatch.line.original_b64": schema.ORIGINAL,
    "auditwatch.line.size": schema.LONG,
    "auditwatch.line.truncated": schema.BOOLEAN,
}

# Heartbeats: how the daemon is doing, charted by operators (no personal data).
HEALTH_FIELDS: dict[str, str] = {
    "@timestamp": schema.DATE,
    "host.name": schema.KEYWORD,
    "service.version": schema.KEYWORD,
    "auditwatch.health.uptime_s": schema.LONG,
    "auditwatch.health.records": schema.LONG,
    "auditwatch.health.events": schema.LONG,
    "auditwatch.health.dead_letters": schema.LONG,
    "auditwatch.health.alerts": schema.LONG,
    "auditwatch.health.checkpoints": schema.LONG,
    "auditwatch.health.delivered_batches": schema.LONG,
    "auditwatch.health.files": schema.LONG,
    "auditwatch.health.bytes_behind": schema.LONG,
    "auditwatch.health.queued_batches": schema.LONG,
    "auditwatch.health.state_rows": schema.LONG,
    "auditwatch.health.state_bytes": schema.LONG,
    "auditwatch.health.checkpoint_bytes": schema.LONG,
    "auditwatch.health.silent_inputs": schema.KEYWORD,
}

# Alerts are written by the detection engine; known fields are typed here, the rest is dynamic.
_ALERT_FIELDS: dict[str, str] = {
    "@timestamp": schema.DATE,
    "event.kind": schema.KEYWORD,
    "event.severity": schema.LONG,
    "rule.id": schema.KEYWORD,
    "rule.name": schema.KEYWORD,
    "rule.ruleset": schema.KEYWORD,
    "rule.category": schema.KEYWORD,
    "auditwatch.triage.status": schema.KEYWORD,
    "auditwatch.triage.assignee": schema.KEYWORD,
    "auditwatch.triage.notes": schema.TEXT,
    "auditwatch.triage.outcome": schema.KEYWORD,
    "auditwatch.triage.updated_at": schema.DATE,
    "auditwatch.triage.updated_by": schema.KEYWORD,
    "auditwatch.triage.history.at": schema.DATE,
    "auditwatch.alert.case.id": schema.KEYWORD,
    "auditwatch.alert.severity_label": schema.KEYWORD,
    "user.id": schema.KEYWORD,
}

# Per-user rolling risk (early intervention): written by `auditwatch risk update`.
RISK_FIELDS: dict[str, str] = {
    "@timestamp": schema.DATE,  # when computed
    "user.id": schema.KEYWORD,
    "user.name": schema.KEYWORD,
    "auditwatch.risk.score": schema.LONG,
    "auditwatch.risk.alerts": schema.LONG,
    "auditwatch.risk.open": schema.LONG,
    "auditwatch.risk.upheld": schema.LONG,
    "auditwatch.risk.latest_alert": schema.DATE,
    "auditwatch.risk.threshold": schema.LONG,
    "auditwatch.risk.above_threshold": schema.BOOLEAN,
    "auditwatch.risk.top_rules": schema.KEYWORD,
}

_ALERT_DYNAMIC_TEMPLATES: list[dict[str, Any]] = [
    {  # raw evidence lines are kept verbatim for a hearing, never searched or aggregated
        "raw_evidence": {
            "path_match": ["auditwatch.alert.evidence.*", "*.event.original"],
            "match": ["original", "raw", "raw_line", "line", "*_b64"],
            "match_mapping_type": "string",
            "mapping": _NOT_INDEXED,
        }
    },
    {"strings": {"match_mapping_type": "string", "mapping": _FIELD_TYPES[schema.KEYWORD]}},
]


def properties(fields: Mapping[str, str]) -> dict[str, Any]:
    """Nested mapping `properties` from flat dotted field names and schema type names."""
    root: dict[str, Any] = {}
    for name, kind in fields.items():
        node = root
        *parents, leaf = name.split(".")
        for part in parents:
            node = node.setdefault(part, {"properties": {}})["properties"]
        node[leaf] = dict(_FIELD_TYPES[kind])
    return root


def component_templates(names: IndexNames) -> dict[str, dict[str, Any]]:
    """Component template name -> body."""
    alert_props = properties(_ALERT_FIELDS)
    alert_props["event"]["properties"]["risk_score"] = {"type": "float"}
    return {
        f"{names.prefix}-settings": {"template": {"settings": _SETTINGS}},
        f"{names.prefix}-events-mappings": {
            "template": {
                "mappings": {
                    "dynamic": "strict",  # a parser bug becomes a dead letter, not a mapping explosion
                    "date_detection": False,
                    "properties": properties(schema.EVENT_FIELDS),
                }
            }
        },
        f"{names.prefix}-alerts-mappings": {
            "template": {
                # alerts are few and wanted at once: searchable 200 ms after delivery, not 1 s
                "settings": {"index": {"refresh_interval": _ALERT_REFRESH}},
                "mappings": {
                    "dynamic": True,
                    "date_detection": False,
                    "numeric_detection": False,
                    "dynamic_templates": _ALERT_DYNAMIC_TEMPLATES,
                    "properties": alert_props,
                },
            }
        },
        f"{names.prefix}-deadletter-mappings": {
            "template": {
                "mappings": {
                    "dynamic": "strict",
                    "date_detection": False,
                    "properties": properties(DEAD_LETTER_FIELDS),
                }
            }
        },
        f"{names.prefix}-health-mappings": {
            "template": {
                "mappings": {
                    "dynamic": "strict",
                    "date_detection": False,
                    "properties": properties(HEALTH_FIELDS),
                }
            }
        },
        f"{names.prefix}-risk-mappings": {
            "template": {
                "mappings": {
                    "dynamic": "strict",
                    "date_detection": False,
                    "properties": properties(RISK_FIELDS),
                }
            }
        },
    }


def index_templates(names: IndexNames) -> dict[str, dict[str, Any]]:
    """Composable index template name -> body."""
    p = names.prefix

    def template(pattern: str, mappings: str) -> dict[str, Any]:
        return {
            "index_patterns": [pattern],
            "composed_of": [f"{p}-settings", mappings],
            "priority": _PRIORITY,
            "_meta": {"managed_by": "auditwatch"},
        }

    return {
        f"{p}-events": template(names.events_pattern, f"{p}-events-mappings"),
        f"{p}-alerts": template(names.alerts, f"{p}-alerts-mappings"),
        f"{p}-deadletter": template(names.dead_letter, f"{p}-deadletter-mappings"),
        f"{p}-health": template(names.health, f"{p}-health-mappings"),
        f"{p}-risk": template(names.risk, f"{p}-risk-mappings"),
    }


def setup_cluster(client: Elasticsearch, names: IndexNames) -> list[str]:
    """Install templates, create the alerts and dead-letter indices; safe to run again and again.

    Raises `ClusterNotReady` (with the fix) when an index exists with a mapping auditwatch did not give it.
    """
    wrong = wrong_mappings(client, names)
    if wrong:
        raise ClusterNotReady(wrong)
    done: list[str] = []
    for name, body in component_templates(names).items():
        client.cluster.put_component_template(name=name, template=body["template"])
        done.append(f"component template {name}: installed")
    for name, body in index_templates(names).items():
        client.indices.put_index_template(name=name, **body)
        done.append(f"index template {name}: installed ({body['index_patterns'][0]})")
    for index in (names.alerts, names.dead_letter, names.health, names.risk):
        if client.indices.exists(index=index):
            done.append(f"index {index}: already exists")
        else:
            try:
                client.indices.create(index=index)
                done.append(f"index {index}: created")
            except ApiError as exc:  # created concurrently by another process
                if exc.error != "resource_already_exists_exception":
                    raise
                done.append(f"index {index}: already exists")
    done.append(_extend_existing_event_indices(client, names))
    return done


def missing_parts(client: Elasticsearch, names: IndexNames) -> list[str]:
    """The templates and indices `run` needs that the cluster lacks; empty when `setup` has run."""
    problems: list[str] = []
    for name in component_templates(names):
        if not client.cluster.exists_component_template(name=name):
            problems.append(f"component template {name} is missing")
    for name in index_templates(names):
        if not client.indices.exists_index_template(name=name):
            problems.append(f"index template {name} is missing")
    for index in (names.alerts, names.dead_letter, names.health):
        if not client.indices.exists(index=index):
            problems.append(f"index {index} is missing")
    return problems


def _extend_existing_event_indices(client: Elasticsearch, names: IndexNames) -> str:
    """Add fields new in this version to monthly indices that already exist (the current month)."""
    props = properties(schema.EVENT_FIELDS)
    if not client.indices.exists(index=names.events_pattern, allow_no_indices=False):
        return f"event indices {names.events_pattern}: none yet"
    client.indices.put_mapping(index=names.events_pattern, properties=props)
    return f"event indices {names.events_pattern}: mapping brought up to date"
