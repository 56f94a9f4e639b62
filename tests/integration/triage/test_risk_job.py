"""`auditwatch risk update` over the alerts the daemon raised: one strict-mapped document per user in
`<prefix>-risk`, the same score the pure computation gives, and users whose alerts aged out drop to 0."""

from __future__ import annotations

from datetime import datetime

from elasticsearch import Elasticsearch

from auditwatch.schema import IndexNames
from auditwatch.triage.risk import RiskPolicy, compute, update_risk

from .conftest import Demo


def test_risk_index_matches_the_computation_and_ages_out(demo: Demo, es_client: Elasticsearch) -> None:
    """Scores per user equal `compute` over the alerts; users above the threshold are returned highest
    first; a run a year later leaves every score at 0 and nobody above the threshold."""
    names = IndexNames(demo.prefix)
    es_client.indices.refresh(index=names.alerts)
    docs = [h["_source"] for h in es_client.search(index=names.alerts, size=1000)["hits"]["hits"]]
    latest = max(datetime.fromisoformat(d["@timestamp"].replace("Z", "+00:00")).timestamp() for d in docs)
    policy = RiskPolicy(half_life_days=14, lookback_days=90, threshold=100)
    now = latest + 86400
    above = update_risk(es_client, names, policy, clock=lambda: now)
    expected = compute(docs, now, policy)
    stored = {h["_id"]: h["_source"] for h in es_client.search(index=names.risk, size=1000)["hits"]["hits"]}
    assert set(stored) == set(expected)
    for user, risk in expected.items():
        assert stored[user]["auditwatch.risk.score"] == round(risk.score)
        assert stored[user]["auditwatch.risk.alerts"] == risk.alerts
    assert [r.user_id for r in above] == sorted(
        (u for u, r in expected.items() if round(r.score) >= 100), key=lambda u: -expected[u].score
    )
    assert above, "the demo has staff above 100"
    assert all(stored[r.user_id]["auditwatch.risk.above_threshold"] for r in above)

    later = update_risk(es_client, names, policy, clock=lambda: now + 365 * 86400)
    assert later == []
    again = es_client.search(index=names.risk, size=1000)["hits"]["hits"]
    assert {h["_id"] for h in again} == set(expected)
    assert all(h["_source"]["auditwatch.risk.score"] == 0 for h in again)
