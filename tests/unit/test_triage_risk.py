"""The early-intervention risk: recent alerts' risk, halving every half-life, upheld weighing more than
open, explained less, false positives nothing, nothing beyond the lookback."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from auditwatch.triage.risk import RiskPolicy, compute

NOW = datetime(2026, 11, 30, tzinfo=UTC).timestamp()
POLICY = RiskPolicy(half_life_days=10, lookback_days=60, threshold=100)


def _alert(
    user: str, day: int, risk: float, status: str = "new", outcome: str | None = None
) -> dict[str, object]:
    return {
        "@timestamp": f"2026-11-{day:02d}T00:00:00.000Z",
        "user": {"id": user},
        "rule": {"id": "r"},
        "event": {"risk_score": risk},
        "auditwatch": {"triage": {"status": status, "outcome": outcome}},
    }


def test_risk_halves_every_half_life() -> None:
    """An open alert scores its risk today and half of it one half-life ago."""
    assert compute([_alert("A", 30, 80)], NOW, POLICY)["A"].score == pytest.approx(80)
    assert compute([_alert("A", 20, 80)], NOW, POLICY)["A"].score == pytest.approx(40)


def test_outcomes_weigh_differently() -> None:
    """Upheld x2, open x1, explained x0.25, false positive x0; counts of open and upheld kept."""
    docs = [
        _alert("A", 30, 40, "closed", "upheld"),
        _alert("A", 30, 40),
        _alert("A", 30, 40, "closed", "explained"),
        _alert("A", 30, 40, "closed", "false-positive"),
    ]
    risk = compute(docs, NOW, POLICY)["A"]
    assert risk.score == pytest.approx(80 + 40 + 10 + 0)
    assert (risk.alerts, risk.open, risk.upheld) == (4, 1, 1)


def test_alerts_beyond_the_lookback_do_not_count() -> None:
    """61 days ago is outside a 60-day lookback."""
    old = {**_alert("B", 1, 90), "@timestamp": "2026-09-30T00:00:00.000Z"}
    assert "B" not in compute([old], NOW, POLICY)
