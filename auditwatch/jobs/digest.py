"""The daily digest of open alerts: how many, how severe, which rules, how old the oldest is.

Counts only: no user ids, subjects or reasons go into operational logs (alert data is sensitive).
An alert is open until its triage status starts with "closed".
"""

from __future__ import annotations

from typing import Any

import structlog
from elasticsearch import Elasticsearch

from auditwatch.schema import IndexNames

log = structlog.get_logger(__name__)

_OPEN: dict[str, Any] = {"bool": {"must_not": [{"prefix": {"auditwatch.triage.status": "closed"}}]}}


def open_alerts_digest(client: Elasticsearch, names: IndexNames) -> dict[str, Any]:
    resp = client.search(
        index=names.alerts,
        size=0,
        query=_OPEN,
        track_total_hits=True,
        aggs={
            "severity": {"terms": {"field": "auditwatch.alert.severity_label", "size": 10}},
            "rule": {"terms": {"field": "rule.id", "size": 20}},
            "oldest": {"min": {"field": "@timestamp"}},
        },
    )
    aggs = resp["aggregations"]
    digest = {
        "open": int(resp["hits"]["total"]["value"]),
        "by_severity": {b["key"]: b["doc_count"] for b in aggs["severity"]["buckets"]},
        "by_rule": {b["key"]: b["doc_count"] for b in aggs["rule"]["buckets"]},
        "oldest_open": aggs["oldest"].get("value_as_string"),
    }
    log.info("open_alerts_digest", **digest)
    return digest
