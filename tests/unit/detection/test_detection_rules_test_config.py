"""`rules test` runs the cases with the config's reference settings when a config is given."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditwatch.commands.cli import main

RULE = """\
id: off-duty
title: Record opened off duty
description: A record opened when no rostered shift covers the time.
severity: medium
risk_score: 40
status: stable
owner: ACU
kind: event
condition: event.action == "view"
unless: [rostered_on_duty]
reasons: ["{user.id} opened a record off duty"]
tests:
  reference:
    roster: [{staff_id: "4321", start: "2026-01-06T08:00:00Z", end: "2026-01-06T16:00:00Z"}]
  should_fire:
    - name: two hours after the shift
      start: "2026-01-06T18:00:00Z"
      events: [{user.id: PC4321, event.action: view}]
  should_not_fire:
    - name: 45 minutes after the shift, inside the force's 60-minute grace
      start: "2026-01-06T16:45:00Z"
      events: [{user.id: PC4321, event.action: view}]
"""

CONFIG = """\
inputs: []
elasticsearch: {hosts: ['http://127.0.0.1:9200']}
rules_dir: rules
reference:
  roster_grace_minutes: 60
  identifiers:
    staff_id: {staff_id: {prefix: PC, digits: 4}}
"""


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("AUDITWATCH_CONFIG", raising=False)
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "off-duty.yml").write_text(RULE, encoding="utf-8")
    (tmp_path / "aw.yml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


def test_cases_use_the_configs_roster_grace_and_identifiers(
    setup: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --config, the force's 60-minute grace and its PCnnnn staff numbers apply: both cases pass."""
    assert main(["rules", "test", "--config", str(setup / "aw.yml")]) == 0
    out, _err = capsys.readouterr()
    assert "2 passed, 0 failed" in out


def test_auditwatch_config_variable_is_honoured(
    setup: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """$AUDITWATCH_CONFIG works like --config."""
    monkeypatch.setenv("AUDITWATCH_CONFIG", str(setup / "aw.yml"))
    assert main(["rules", "test"]) == 0
    assert "2 passed, 0 failed" in capsys.readouterr().out


def test_without_a_config_the_defaults_apply(setup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without a config (30-minute grace, MP staff numbers) the same cases fail: the settings matter."""
    assert main(["rules", "test", "--rules-dir", str(setup / "rules")]) == 1
    assert "FAIL off-duty" in capsys.readouterr().out
