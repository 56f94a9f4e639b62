"""Build the alert document: who, what, when, why (reasons, explanations tried, matches) and evidence."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from auditwatch.detection.context import EvalContext
from auditwatch.detection.evidence import evidence_of
from auditwatch.detection.kinds.base import Trigger
from auditwatch.detection.rule import SEVERITIES, Rule
from auditwatch.model import Alert, AlertSummary, subject_text
from auditwatch.reference import VALUES, value_getter
from auditwatch.schema import EVENT_FIELDS
from auditwatch.timefmt import iso_utc

RULESET = "auditwatch"
_SUBJECT_PREFIX = "auditwatch.subject."
_CONTEXT = (
    "user.unit",
    "user.rank",
    "user.status",
    "user.roles",
    "subject.staff_id",
    "subject.watchlist_category",
)
_CONTEXT_GETTERS = tuple((name, value_getter(name)) for name in _CONTEXT if name in VALUES)
_PREFIX_LEN = len(_SUBJECT_PREFIX)
_SCALARS = frozenset({str, int, float, bool})


def alert_id(rule_id: str, group: tuple[object, ...], anchor: str) -> str:
    """base64url SHA-1 of (rule id, group key, anchor event): a replay yields the same id."""
    payload = orjson.dumps([rule_id, [list(g) if isinstance(g, tuple) else g for g in group], anchor])
    return base64.urlsafe_b64encode(hashlib.sha1(payload).digest()).rstrip(b"=").decode()


def build_alert(rule: Rule, trigger: Trigger, c: EvalContext) -> Alert:
    f = c.f
    severity, risk = rule.severity, rule.risk_score
    adjustments: list[dict[str, Any]] = []
    for raise_ in rule.raises:
        if raise_.test(c):
            severity = max(severity, raise_.severity, key=SEVERITIES.index)
            risk = max(risk, raise_.risk_score)
            adjustments.append({"label": raise_.label, "severity": raise_.severity, "risk_score": risk})
    tried: list[dict[str, Any]] = []
    for explanation in rule.unless:
        held = explanation.test(c)
        if held and explanation.downgrade_severity is not None:
            severity = min(severity, explanation.downgrade_severity, key=SEVERITIES.index)
            if explanation.downgrade_risk is not None:
                risk = min(risk, explanation.downgrade_risk)
            result = f"holds, so severity lowered to {severity} rather than silenced"
            adjustments.append({"label": explanation.label, "severity": severity, "risk_score": risk})
        else:
            result = "holds" if held else explanation.no_match_text
        label = explanation.label
        tried.append({"name": explanation.name, "label": label, "matched": held, "result": result})
    matches = _matches(rule, c)
    summaries = {m["name"]: m["summary"] for m in matches}
    start = iso_utc(trigger.start)
    window = {
        "start": start,
        "end": start if trigger.end == trigger.start else iso_utc(trigger.end),
        "count": trigger.total,
        "distinct": trigger.distinct,
        "days": trigger.days,
    }

    def lookup(name: str) -> object:
        if name.startswith("match."):
            return summaries.get(name[6:])
        if name.startswith("window."):
            return window.get(name[7:])
        return _value(c, name)

    user_id = f.get("user.id")
    group = f"user:{user_id}" if user_id is not None else f"{rule.id}:" + "/".join(map(str, trigger.group))
    timestamp = str(f.get("@timestamp") or iso_utc(c.ts))
    reasons = [t.render(lookup) for t in rule.reasons]
    case_id = f"{user_id if user_id is not None else group}@{iso_utc(c.ts)[:10]}"
    doc: dict[str, Any] = {
        "@timestamp": timestamp,
        "event": {
            "kind": "alert",
            "severity": SEVERITIES.index(severity) + 1,
            "risk_score": risk,
            "category": ["database"],
            "type": ["info"],
        },
        "rule": {
            "id": rule.id,
            "name": rule.title,
            "description": rule.description,
            "version": str(rule.version),
            "category": rule.category,
            "ruleset": RULESET,
            "author": [rule.owner] if rule.owner else [],
        },
        "tags": list(rule.tags),
        "user": {"id": user_id, "name": f.get("user.name")},
        "auditwatch": {
            "subject": _subject(f),
            "record": {"type": f.get("auditwatch.record.type"), "id": f.get("auditwatch.record.id")},
            "alert": {
                "kind": rule.spec.kind,
                "severity_label": severity,
                "reasons": reasons,
                "explanations_tried": tried,
                "adjustments": adjustments,
                "matches": matches,
                "context": _context(c),
                "evidence": [evidence_of(item) for item in trigger.evidence],
                "evidence_total": trigger.total,
                "group": group,
                "group_key": [list(g) if isinstance(g, tuple) else g for g in trigger.group],
                "window": window,
                "triage_guide": rule.triage,
                "case": {"id": case_id},
            },
            "triage": {"status": "new", "assignee": None, "notes": [], "history": []},
        },
    }
    the_id = alert_id(rule.id, trigger.group, trigger.anchor)
    subject = doc["auditwatch"]["subject"]
    record_id = doc["auditwatch"]["record"]["id"]
    summary = AlertSummary(
        id=the_id,
        timestamp=timestamp,
        severity=severity,
        risk_score=float(risk),
        rule_id=rule.id,
        rule_name=rule.title,
        user_id="" if user_id is None else str(user_id),
        user_name=str(f.get("user.name") or ""),
        subject=subject_text(subject, str(record_id or "")),
        record_id=str(record_id or ""),
        reasons=tuple(reasons),
        case_id=case_id,
        status="new",
    )
    return Alert(the_id, c.ts, rule.id, doc, summary)


def _value(c: EvalContext, name: str) -> object:
    value = c.f.get(name) if name in EVENT_FIELDS else None
    if value is None and name in VALUES:
        value = c.view().value(name)
    return value


def _matches(rule: Rule, c: EvalContext) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name in rule.signals:
        evidence = c.view().match(name)
        if evidence is not None:
            out.append(
                {
                    "name": name,
                    "kind": evidence.kind,
                    "source": evidence.source,
                    "as_of": evidence.as_of,
                    "summary": evidence.summary,
                    "entry": _json_ready(evidence.entry),
                }
            )
    return out


def _context(c: EvalContext) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, get in _CONTEXT_GETTERS:
        value = get(c)
        out[name] = value if value is None or value.__class__ in _SCALARS else _json_ready(value)
    return out


def _subject(f: Mapping[str, object]) -> dict[str, object]:
    """The event's `auditwatch.subject.*` fields without the prefix, in the event's order."""
    out: dict[str, object] = {}
    for k, v in f.items():
        if k[:_PREFIX_LEN] == _SUBJECT_PREFIX:
            out[k[_PREFIX_LEN:]] = v
    return out


def _json_ready(value: object) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [_json_ready(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
