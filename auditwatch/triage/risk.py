"""Early intervention: a per-user rolling risk from recent alerts, written to `<prefix>-risk`.

score = sum over the user's alerts in the lookback of risk_score x weight(triage) x 0.5^(age / half-life)
with weights upheld 2, open (new, under review, awaiting, referred) 1, explained 0.25, false positive 0.
One document per user (id = user id), rewritten on each run; users whose alerts all aged out are removed
from the index by the same run (their document is overwritten with score 0). `auditwatch risk update`
runs it (from cron or a systemd timer).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from elasticsearch import Elasticsearch

from auditwatch.errors import DeliveryError
from auditwatch.model import field_value
from auditwatch.schema import IndexNames
from auditwatch.timefmt import iso_utc

WEIGHTS: Final = {"upheld": 2.0, "open": 1.0, "explained": 0.25, "false-positive": 0.0}
_PAGE: Final = 5000


@dataclass(frozen=True, slots=True)
class RiskPolicy:
    half_life_days: float = 14.0
    lookback_days: float = 90.0
    threshold: int = 150


@dataclass
class UserRisk:
    user_id: str
    user_name: str = ""
    score: float = 0.0
    alerts: int = 0
    open: int = 0
    upheld: int = 0
    latest: str = ""
    rules: dict[str, float] = field(default_factory=dict)


def weight(triage_status: str, outcome: str | None) -> float:
    if triage_status == "closed":
        return WEIGHTS.get(outcome or "", 1.0)
    return WEIGHTS["open"]


def compute(docs: Iterable[Mapping[str, Any]], now: float, policy: RiskPolicy) -> dict[str, UserRisk]:
    """User id -> risk from alert documents (pure: no I/O)."""
    out: dict[str, UserRisk] = {}
    for doc in docs:
        user = field_value(doc, "user.id")
        stamp = field_value(doc, "@timestamp")
        if not user or not isinstance(stamp, str):
            continue
        age_days = max(0.0, now - _epoch(stamp)) / 86400.0
        if age_days > policy.lookback_days:
            continue
        status = str(field_value(doc, "auditwatch.triage.status") or "new")
        outcome = field_value(doc, "auditwatch.triage.outcome")
        risk = field_value(doc, "event.risk_score")
        base = float(risk) if isinstance(risk, int | float) else 0.0
        contribution = base * weight(status, outcome if isinstance(outcome, str) else None)
        contribution *= math.pow(0.5, age_days / policy.half_life_days)
        entry = out.setdefault(str(user), UserRisk(str(user)))
        entry.user_name = entry.user_name or str(field_value(doc, "user.name") or "")
        entry.score += contribution
        entry.alerts += 1
        entry.open += status != "closed"
        entry.upheld += outcome == "upheld"
        entry.latest = max(entry.latest, stamp)
        rule = str(field_value(doc, "rule.id") or "")
        entry.rules[rule] = entry.rules.get(rule, 0.0) + contribution
    return out


def update_risk(
    client: Elasticsearch, names: IndexNames, policy: RiskPolicy, clock: Callable[[], float] = time.time
) -> list[UserRisk]:
    """Recompute every user's risk from the alerts index and rewrite `<prefix>-risk`; returns users above
    the threshold, highest first."""
    now = clock()
    since = int((now - policy.lookback_days * 86400) * 1000)
    docs = list(_alerts_since(client, names, since))
    risks = compute(docs, now, policy)
    stamp = iso_utc(now)
    stale = _existing_users(client, names) - risks.keys()
    operations: list[dict[str, Any]] = []
    for user_id in stale:
        risks[user_id] = UserRisk(user_id)
    for risk in risks.values():
        score = round(risk.score)
        top = sorted(risk.rules, key=lambda r: -risk.rules[r])[:3]
        operations.append({"index": {"_index": names.risk, "_id": risk.user_id}})
        operations.append(
            {
                "@timestamp": stamp,
                "user.id": risk.user_id,
                "user.name": risk.user_name or None,
                "auditwatch.risk.score": score,
                "auditwatch.risk.alerts": risk.alerts,
                "auditwatch.risk.open": risk.open,
                "auditwatch.risk.upheld": risk.upheld,
                "auditwatch.risk.latest_alert": risk.latest or None,
                "auditwatch.risk.threshold": policy.threshold,
                "auditwatch.risk.above_threshold": score >= policy.threshold,
                "auditwatch.risk.top_rules": [r for r in top if r],
            }
        )
    if operations:
        resp = client.bulk(operations=operations, refresh="wait_for")
        if resp["errors"]:
            failed = [i["index"] for i in resp["items"] if i["index"].get("error")]
            raise DeliveryError(f"{len(failed)} risk document(s) refused, first: {failed[0]['error']}")
    above = [r for r in risks.values() if round(r.score) >= policy.threshold]
    return sorted(above, key=lambda r: -r.score)


def _alerts_since(client: Elasticsearch, names: IndexNames, since_ms: int) -> Iterable[Mapping[str, Any]]:
    after: list[Any] | None = None
    while True:
        resp = client.search(
            index=names.alerts,
            query={"range": {"@timestamp": {"gte": since_ms, "format": "epoch_millis"}}},
            size=_PAGE,
            sort=[{"@timestamp": "asc"}, "_doc"],  # the alerts index has one shard: _doc breaks ties
            search_after=after,
            source_includes=[
                "@timestamp",
                "user",
                "rule.id",
                "event.risk_score",
                "auditwatch.triage.status",
                "auditwatch.triage.outcome",
            ],
        )
        hits = resp["hits"]["hits"]
        if not hits:
            return
        for hit in hits:
            yield hit["_source"]
        after = hits[-1]["sort"]


def _existing_users(client: Elasticsearch, names: IndexNames) -> set[str]:
    resp = client.search(
        index=names.risk,
        size=10_000,
        source=False,
        query={"range": {"auditwatch.risk.score": {"gt": 0}}},
        ignore_unavailable=True,
    )
    return {str(h["_id"]) for h in resp["hits"]["hits"]}


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
