"""Hostile rule files under a running daemon: refused with file:line by the poll and by SIGHUP, in < 1 s;
the daemon keeps running and keeps alerting with the rules it had."""

from __future__ import annotations

import json
import signal
from typing import Any

from auditwatch.testing import hostile

RULE = """\
id: watch-a
title: A watched account was used
description: Fires when one particular account opens anything.
severity: high
risk_score: 80
condition: event.action == view and user.id == "MP000007"
reasons: ["{user.id} used a watched account"]
"""


def _line(n: int) -> str:
    return json.dumps({"ts": f"2026-11-25T10:00:{n:02d}Z", "user": "MP000007", "seq": f"{n:08d}"}) + "\n"


def _alerts(setup) -> int:
    index = f"{setup.prefix}-alerts"
    setup.client.indices.refresh(index=index)
    return int(setup.client.count(index=index, query={"term": {"rule.id": "watch-a"}})["count"])


def _rejections(setup) -> list[dict[str, Any]]:
    out = []
    for line in (setup.root / "daemon.log").read_text(errors="replace").splitlines():
        if '"rules_reload_rejected"' in line:
            out.append(json.loads(line))
    return out


def test_hostile_rule_files_are_refused_live_and_the_old_rules_keep_alerting(daemon_setup, wait_until):
    """Alias bomb, 10,000-deep YAML, 3,000 `[`, 1,000 `not`s, 10,000 `(`: each refused, daemon alive."""
    rules = daemon_setup.root / "rules"
    (rules / "watch-a.yml").write_text(RULE)
    config = daemon_setup.config
    config.write_text(config.read_text().replace("pipeline:\n", "pipeline:\n  rules_poll_interval: 0.3\n"))
    log = daemon_setup.logs / "audit.log"
    proc = daemon_setup.start()
    n = 0
    try:
        n += 1
        with log.open("a") as f:
            f.write(_line(n))
        wait_until(lambda: _alerts(daemon_setup) == 1)
        for bad in hostile.every_hostile_file():
            path = rules / bad.name
            seen = len(_rejections(daemon_setup))
            path.write_text(bad.text)  # found by the poll
            wait_until(lambda seen=seen: len(_rejections(daemon_setup)) > seen)
            seen = len(_rejections(daemon_setup))
            proc.send_signal(signal.SIGHUP)  # and asked for explicitly
            wait_until(lambda seen=seen: len(_rejections(daemon_setup)) > seen)
            for rejection in _rejections(daemon_setup)[-2:]:
                assert any(str(p).startswith(f"{path}:{bad.line}:") for p in rejection["problems"])
                assert rejection["seconds"] < 1.0, (bad.name, rejection["seconds"])
            path.unlink()
            n += 1
            with log.open("a") as f:
                f.write(_line(n))
            wait_until(lambda n=n: _alerts(daemon_setup) == n)
            assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert proc.returncode == 0
    text = (daemon_setup.root / "daemon.log").read_text(errors="replace")
    assert "Traceback" not in text
    assert "RecursionError" not in text
