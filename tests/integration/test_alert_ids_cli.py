"""Alert ids appear in `auditwatch alerts` (table, jsonl) and `rules backtest`, as Elasticsearch's `_id`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from elasticsearch import Elasticsearch

REPO = Path(__file__).resolve().parents[2]
RULE = """\
id: any-view
title: Any view
description: Every record view (a test rule).
severity: low
risk_score: 10
status: stable
owner: ACU
kind: event
condition: event.action == "view"
reasons: ["{user.id} viewed {auditwatch.record.id}"]
tests:
  should_fire:
    - name: a view
      events: [{user.id: MP000001, event.action: view}]
  should_not_fire:
    - name: a search
      events: [{user.id: MP000001, event.action: search}]
"""
LINE = (
    '{"audit_id":"A-%d","ts":"2026-11-25T09:45:1%dZ","action":"VIEW",'
    '"user":{"staff_no":"1"},"record":{"id":"R%d"}}\n'
)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditwatch", "--log-level", "warning", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_alerts_and_backtest_show_the_alert_ids(
    tmp_path: Path, es_url: str, es_client: Elasticsearch, index_prefix: str
) -> None:
    """After the daemon raised two alerts, `alerts` lists both ids newest first (the table's first
    column, `_id` in jsonl) and the backtest's samples name the same ids (in time order)."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "any-view.yml").write_text(RULE, encoding="utf-8")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "rms.jsonl").write_text(
        "".join(LINE % (i, i, i) for i in range(2)), encoding="utf-8"
    )
    config = tmp_path / "aw.yml"
    config.write_text(
        f"parsers_dir: {REPO / 'parsers'}\nrules_dir: rules\nstate_dir: state\n"
        "inputs: [{name: rms, paths: [logs/*.jsonl], parser: rms_json}]\n"
        f"elasticsearch: {{hosts: ['{es_url}'], index_prefix: {index_prefix}}}\n",
        encoding="utf-8",
    )
    for step in (("setup",), ("run", "--until-idle")):
        done = _cli(*step, "--config", str(config))
        assert done.returncode == 0, done.stderr[-2000:]
    es_client.indices.refresh(index=f"{index_prefix}-alerts")
    hits = es_client.search(index=f"{index_prefix}-alerts", size=10, sort=[{"@timestamp": "asc"}])["hits"][
        "hits"
    ]
    ids = [hit["_id"] for hit in hits]
    assert len(ids) == 2

    table = _cli("alerts", "--config", str(config))
    assert table.returncode == 0, table.stderr[-2000:]
    rows = table.stdout.splitlines()
    assert rows[0].startswith("alert id")
    assert [row.split()[0] for row in rows[1:]] == ids[::-1]

    jsonl = _cli("alerts", "--format", "jsonl", "--config", str(config))
    assert [json.loads(line)["_id"] for line in jsonl.stdout.splitlines()] == ids[::-1]

    backtest = _cli("rules", "backtest", "any-view", "--since", "3650d", "--config", str(config))
    assert backtest.returncode == 0, backtest.stderr[-2000:]
    samples = [line.split() for line in backtest.stdout.splitlines() if line.strip().startswith("sample ")]
    assert [s[1] for s in samples] == ids
