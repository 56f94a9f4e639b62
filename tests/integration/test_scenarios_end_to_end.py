"""The synthetic force through `auditwatch scan` and through the daemon into Elasticsearch: same alerts,
and the recall / false-alert targets hold on what actually landed in Elasticsearch."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from auditwatch.commands.scanning import field_value, scan_files
from auditwatch.detection import load_ruleset
from auditwatch.model import Alert
from auditwatch.testing.scenarios import SCENARIOS, generate, load_truth, write_config
from auditwatch.testing.scenarios.score import score


def _cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "auditwatch", "--log-level", "warning", *args],
        capture_output=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def force(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("force")
    return root, generate(root, scale="test")


def _alerts_in_es(client, prefix: str) -> list[Alert]:
    client.indices.refresh(index=f"{prefix}-alerts")
    hits = client.search(index=f"{prefix}-alerts", size=10_000, track_total_hits=True)["hits"]
    assert hits["total"]["value"] < 10_000
    out = []
    for hit in hits["hits"]:
        doc = hit["_source"]
        when = datetime.fromisoformat(str(doc["@timestamp"]).replace("Z", "+00:00")).timestamp()
        out.append(Alert(hit["_id"], when, str(field_value(doc, "rule.id")), doc))
    return out


def test_scan_and_daemon_raise_the_same_alerts_and_meet_the_targets(force, es_url, es_client, index_prefix):
    """Same alert ids both ways; per-scenario recall >= 0.95 and <= 1 false alert per 10k events in ES."""
    root, scenario_set = force
    config = write_config(root, es_url, root / "state", index_prefix=index_prefix)
    files = sorted(p for p in (root / "logs").rglob("*") if p.is_file())

    scanned = scan_files(config, files)
    assert scanned.events == scenario_set.events

    assert _cli("setup", "--config", str(config)).returncode == 0
    done = _cli("run", "--until-idle", "--config", str(config))
    assert done.returncode == 0, done.stderr.decode()[-3000:]

    es_client.indices.refresh(index=f"{index_prefix}-events-*")
    assert es_client.count(index=f"{index_prefix}-events-*")["count"] == scenario_set.events
    indexed = _alerts_in_es(es_client, index_prefix)
    assert {a.id for a in indexed} == {a.id for a in scanned.alerts}

    # a backtest of one rule over the indexed history finds what the daemon raised for it
    by_rule = Counter(a.rule_id for a in indexed)
    for rule_id in ("vip-watchlist", "bulk-browsing"):
        backtest = _cli("rules", "backtest", rule_id, "--since", "3650d", "--config", str(config))
        assert backtest.returncode == 0, backtest.stderr.decode()[-2000:]
        first_line = backtest.stdout.decode().splitlines()[0]
        assert first_line.startswith(
            f"rule {rule_id}: {by_rule[rule_id]} alert(s) over {scenario_set.events} event(s)"
        )
        assert by_rule[rule_id] > 0

    ruleset = load_ruleset(Path(__file__).resolve().parents[2] / "rules")
    severities = {rule.id: rule.severity for rule in ruleset}
    result = score(
        indexed, load_truth(scenario_set.truth), root, events=scenario_set.events, rule_severity=severities
    )
    print("\n" + result.report())
    assert set(result.recall) == set(SCENARIOS)
    assert {s: r for s, r in result.recall.items() if r < 0.95} == {}
    assert result.false_per_10k <= 1.0
    assert result.lookalike_violations == []
