"""Alert folding: a generic rule's alert on an event that a more specific rule also alerted on is not
raised on its own; it is recorded on the specific alert under `auditwatch.alert.also`.

Rules declare it (`folds_into: [colleague-lookup, ...]` in the generic rule's file). Runs once per
batch over the alerts just built, so it costs nothing per event that raised no alert.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from auditwatch.model import Alert


def fold_alerts(alerts: list[Alert], folds: Mapping[str, frozenset[str]]) -> list[Alert]:
    """`alerts` with every folding alert merged into a target alert on the same event, if any."""
    if not folds or len(alerts) < 2:
        return alerts
    folding = [a for a in alerts if a.rule_id in folds]
    if not folding:
        return alerts
    by_event: dict[str, list[Alert]] = {}
    for alert in alerts:
        for event_id in _event_ids(alert):
            by_event.setdefault(event_id, []).append(alert)
    absorbed: set[str] = set()
    for alert in folding:
        anchor = _anchor(alert)
        targets = folds[alert.rule_id]
        host = next(
            (a for a in by_event.get(anchor, ()) if a.rule_id in targets and a.id not in absorbed), None
        )
        if host is None:
            continue
        _record_also(host, alert)
        absorbed.add(alert.id)
    return alerts if not absorbed else [a for a in alerts if a.id not in absorbed]


def _evidence(alert: Alert) -> Sequence[Mapping[str, Any]]:
    doc: Any = alert.fields
    return doc["auditwatch"]["alert"]["evidence"]  # type: ignore[no-any-return]


def _event_ids(alert: Alert) -> list[str]:
    return [str(e.get("event_id")) for e in _evidence(alert) if e.get("event_id")]


def _anchor(alert: Alert) -> str:
    evidence = _evidence(alert)
    return str(evidence[-1].get("event_id")) if evidence else ""


def _record_also(host: Alert, folded: Alert) -> None:
    """Add `folded` to `host`'s `also` list (the host document is still being built: not yet shared)."""
    doc: Any = folded.fields
    info = doc["auditwatch"]["alert"]
    entry = {
        "rule_id": folded.rule_id,
        "rule_name": doc["rule"]["name"],
        "alert_id": folded.id,
        "severity": info["severity_label"],
        "risk_score": doc["event"]["risk_score"],
        "reason": info["reasons"][0] if info["reasons"] else doc["rule"]["name"],
        "explanations_tried": info["explanations_tried"],
    }
    host_doc: Any = host.fields
    host_doc["auditwatch"]["alert"].setdefault("also", []).append(entry)
    host_doc["tags"] = sorted({*host_doc.get("tags", []), *doc.get("tags", [])})
