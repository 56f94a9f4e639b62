"""Alert ids appear in `scan` output (table and jsonl), as in Elasticsearch (`_id`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditwatch.commands.backtest import BacktestReport
from auditwatch.commands.cli import main
from auditwatch.commands.scanning import scan_files

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


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "any-view.yml").write_text(RULE, encoding="utf-8")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "rms.jsonl").write_text(
        "".join(LINE % (i, i, i) for i in range(2)), encoding="utf-8"
    )
    cfg = tmp_path / "aw.yml"
    cfg.write_text(
        f"parsers_dir: {REPO / 'parsers'}\nrules_dir: rules\n"
        "inputs: [{name: rms, paths: [logs/*.jsonl], parser: rms_json}]\n"
        "elasticsearch: {hosts: ['http://127.0.0.1:9200']}\n",
        encoding="utf-8",
    )
    return cfg


def test_scan_jsonl_and_table_show_each_alert_id(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each scanned alert carries its id: `_id` in jsonl, the first column of the table."""
    log = config.parent / "logs" / "rms.jsonl"
    ids = [a.id for a in scan_files(config, [log]).alerts]
    assert len(ids) == 2
    capsys.readouterr()  # drop what the direct call logged
    assert main(["scan", "--config", str(config), "--format", "jsonl", str(log)]) == 1
    out = capsys.readouterr().out
    assert [json.loads(line)["_id"] for line in out.splitlines()] == ids
    assert main(["scan", "--config", str(config), str(log)]) == 1
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("alert id")
    assert [row.split()[0] for row in table[1:]] == ids


def test_backtest_samples_show_alert_ids(config: Path) -> None:
    """The backtest report's samples name each alert by its id."""
    alerts = scan_files(config, [config.parent / "logs" / "rms.jsonl"]).alerts
    text = BacktestReport("any-view", "30d", events=2, alerts=alerts).render()
    samples = [line for line in text.splitlines() if line.strip().startswith("sample ")]
    assert [line.split()[1] for line in samples] == [a.id for a in alerts]
    assert "MP000001 viewed R0" in samples[0]
