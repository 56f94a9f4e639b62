"""Reference exports change under a running daemon: a good export applies, a broken one is refused."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
HEADER = "staff_id,surname,forenames,unit,status,status_from\n"


def _line(n: int, day: int) -> str:
    return (
        json.dumps(
            {
                "audit_id": f"RMS-R-{n:04d}",
                "ts": f"2026-11-{day:02d}T10:00:00Z",
                "action": "VIEW",
                "user": {"staff_no": "MP000101"},
                "record": {"type": "PERSON", "id": f"P-{n}"},
                "subject": {"person_id": f"P-{n}", "surname": "Jones"},
            }
        )
        + "\n"
    )


def _restricted_alerts(client, prefix: str) -> int:
    client.indices.refresh(index=f"{prefix}-alerts")
    return int(
        client.count(index=f"{prefix}-alerts", query={"term": {"rule.id": "restricted-user"}})["count"]
    )


def _indexed(client, prefix: str) -> int:
    client.indices.refresh(index=f"{prefix}-events-*", allow_no_indices=True)
    return int(client.count(index=f"{prefix}-events-*", allow_no_indices=True)["count"])


def test_hr_export_changes_apply_and_a_broken_export_keeps_the_previous_data(
    tmp_path, es_url, es_client, index_prefix, wait_until
):
    """Suspension added to HR -> next access alerts; HR export broken -> previous data stays in force."""
    staff = tmp_path / "hr.csv"
    staff.write_text(HEADER + "MP000101,Reid,Sam,Response North,active,2026-01-01\n")
    log = tmp_path / "rms.jsonl"
    log.touch()
    config = tmp_path / "auditwatch.yml"
    config.write_text(
        textwrap.dedent(
            f"""\
            inputs: [{{name: rms, paths: ["rms.jsonl"], parser: rms_json, poll_interval: 0.2}}]
            parsers_dir: {REPO / "parsers"}
            rules_dir: {REPO / "rules"}
            state_dir: state
            elasticsearch: {{hosts: ["{es_url}"], index_prefix: {index_prefix}}}
            reference:
              reload_debounce_seconds: 0.2
              sources: [{{kind: staff, path: hr.csv}}]
            pipeline: {{idle_wait: 0.2}}
            """
        )
    )
    cli = [sys.executable, "-m", "auditwatch"]
    subprocess.run([*cli, "setup", "--config", str(config)], check=True, capture_output=True)
    with (tmp_path / "daemon.log").open("ab") as daemon_log:
        proc = subprocess.Popen([*cli, "run", "--config", str(config)], stderr=daemon_log)
    try:
        with log.open("a") as f:
            f.write(_line(1, 10))
        wait_until(lambda: _indexed(es_client, index_prefix) == 1)
        assert _restricted_alerts(es_client, index_prefix) == 0

        reloads = (tmp_path / "daemon.log").read_text().count("reference_reloaded")
        staff.write_text(HEADER + "MP000101,Reid,Sam,Response North,suspended,2026-11-01\n")
        wait_until(lambda: (tmp_path / "daemon.log").read_text().count("reference_reloaded") > reloads)
        with log.open("a") as f:
            f.write(_line(2, 12))
        wait_until(lambda: _restricted_alerts(es_client, index_prefix) == 1)

        staff.write_text("this is not the HR export\n")
        wait_until(lambda: "reference_reload_rejected" in (tmp_path / "daemon.log").read_text())
        with log.open("a") as f:
            f.write(_line(3, 14))  # a day later: the suppression (1 day) has passed
        wait_until(lambda: _restricted_alerts(es_client, index_prefix) == 2)
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert proc.returncode == 0
    assert "hr.csv" in (tmp_path / "daemon.log").read_text()
