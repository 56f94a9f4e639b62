"""The `triage:` section of the daemon config."""

from __future__ import annotations

from auditwatch.config.spec import Reader, parse_duration
from auditwatch.model import SEVERITY_LABELS
from auditwatch.triage.risk import RiskPolicy
from auditwatch.triage.workflow import Policy


def read_triage_config(r: Reader) -> tuple[Policy, RiskPolicy]:
    """`second_review: [high, critical]`: closing an alert of these severities needs two reviewers;
    `risk: {threshold: 150, half_life: 14d, lookback: 90d}`: the early-intervention risk job."""
    severities = r.string_list("second_review")
    risk = r.section("risk")
    d = RiskPolicy()
    days = 86400.0
    risk_policy = RiskPolicy(
        half_life_days=risk.optional("half_life", str, d.half_life_days * days, parse_duration) / days,
        lookback_days=risk.optional("lookback", str, d.lookback_days * days, parse_duration) / days,
        threshold=risk.optional("threshold", int, d.threshold),
    )
    risk.done()
    for severity in severities:
        if severity not in SEVERITY_LABELS:
            r.problem((*r.path, "second_review"), f"'{severity}': one of {', '.join(SEVERITY_LABELS)}")
    r.done()
    return Policy(second_review=frozenset(s for s in severities if s in SEVERITY_LABELS)), risk_policy
