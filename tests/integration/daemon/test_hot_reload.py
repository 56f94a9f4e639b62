"""Rules change under a running daemon: a valid set is swapped in, an invalid one is refused."""

from __future__ import annotations

import json
import signal
from pathlib import Path

RULE = """\
id: {rule_id}
title: A watched account was used
description: Fires when one particular account opens anything.
severity: high
risk_score: 80
condition: event.action == view and user.id == "{user}"
reasons: ["{{user.id}} used a watched account"]
"""


def _line(n: int, user: str) -> str:
    return json.dumps({"ts": f"2026-11-25T10:00:{n:02d}Z", "user": user, "seq": f"{n:08d}"}) + "\n"


def _rule_alerts(setup) -> dict[str, int]:
    setup.client.indices.refresh(index=f"{setup.prefix}-alerts")
    resp = setup.client.search(
        index=f"{setup.prefix}-alerts", size=0, aggs={"r": {"terms": {"field": "rule.id"}}}
    )
    return {b["key"]: b["doc_count"] for b in resp["aggregations"]["r"]["buckets"]}


def _log_has(setup, text: str) -> bool:
    return text in (setup.root / "daemon.log").read_text(errors="replace")


def test_invalid_rule_change_is_refused_and_a_valid_one_applies_without_restart(daemon_setup, wait_until):
    """Broken rule: old set keeps firing and the log names file and line; then a new rule fires."""
    rules = daemon_setup.root / "rules"
    rule_a = rules / "watch-a.yml"
    rule_a.write_text(RULE.format(rule_id="watch-a", user="MP000007"))
    config = daemon_setup.config
    config.write_text(config.read_text().replace("pipeline:\n", "pipeline:\n  rules_poll_interval: 0.3\n"))
    log = daemon_setup.logs / "audit.log"
    proc = daemon_setup.start()
    try:
        with log.open("a") as f:
            f.write(_line(1, "MP000007"))
        wait_until(lambda: _rule_alerts(daemon_setup).get("watch-a") == 1)

        rule_a.write_text(RULE.format(rule_id="watch-a", user="MP000007").replace('== "MP000007"', "=="))
        wait_until(lambda: _log_has(daemon_setup, "rules_reload_rejected"))
        assert _log_has(daemon_setup, f"{rule_a}:6:")
        assert _log_has(daemon_setup, "AW301 [condition] condition syntax")
        with log.open("a") as f:
            f.write(_line(2, "MP000007"))
        wait_until(lambda: _rule_alerts(daemon_setup).get("watch-a") == 2)

        rule_a.write_text(RULE.format(rule_id="watch-a", user="MP000007"))
        Path(rules / "watch-b.yml").write_text(RULE.format(rule_id="watch-b", user="MP000008"))
        wait_until(lambda: _log_has(daemon_setup, '"rules": 2'))
        with log.open("a") as f:
            f.write(_line(3, "MP000008"))
        wait_until(lambda: _rule_alerts(daemon_setup).get("watch-b") == 1)
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert proc.returncode == 0
    assert _rule_alerts(daemon_setup) == {"watch-a": 2, "watch-b": 1}
