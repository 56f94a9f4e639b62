"""Rule state is checkpointed with the offsets: a SIGKILL mid-window neither forgets nor repeats."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from auditwatch.checkpoint import Checkpoint
from auditwatch.commands.scanning import field_value as _get
from auditwatch.testing.waiting import wait_until

REPO = Path(__file__).resolve().parents[3]
USER = "MP000101"  # browses many people in one hour
STALKER = "MP000102"  # opens one person's record on three days
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _rms_line(n: int, when: datetime, person: str, user: str = USER) -> str:
    return json.dumps(
        {
            "audit_id": f"RMS-T-{n:06d}",
            "ts": when.isoformat(),
            "action": "VIEW",
            "user": {"staff_no": user},
            "client": {"terminal": "WS-01"},
            "record": {"type": "PERSON", "id": person},
            "subject": {"person_id": person, "surname": f"Surname{person[-3:]}", "forenames": "Alex"},
        }
    )


def _config(root: Path, es_url: str, prefix: str) -> Path:
    (root / "logs").mkdir()
    (root / "staff.csv").write_text(
        "staff_id,surname,forenames,unit,status\n"
        f"{USER},Reid,Sam,Response North,active\n{STALKER},Webb,Kim,Response South,active\n"
    )
    config = root / "auditwatch.yml"
    config.write_text(
        textwrap.dedent(
            f"""\
            inputs:
              - {{name: rms, paths: ["logs/rms.jsonl"], parser: rms_json, poll_interval: 0.2}}
            parsers_dir: {REPO / "parsers"}
            rules_dir: {REPO / "rules"}
            state_dir: state
            elasticsearch: {{hosts: ["{es_url}"], index_prefix: {prefix}}}
            reference:
              sources:
                - {{kind: staff, path: staff.csv}}
            pipeline: {{checkpoint_interval: 0.2, idle_wait: 0.2}}
            """
        )
    )
    return config


def _append(path: Path, lines: list[str]) -> None:
    with path.open("a") as f:
        f.write("".join(line + "\n" for line in lines))


def _wait_checkpointed(state: Path, log: Path, timeout: float = 90) -> None:
    """Until the checkpoint covers the whole log (offsets and rule state committed together)."""
    size = log.stat().st_size

    def covered() -> bool:
        if not (state / "checkpoint.sqlite").exists():
            return False
        cp = Checkpoint(state / "checkpoint.sqlite")
        try:
            return size in cp.offsets().values()
        finally:
            cp.close()

    wait_until(covered, timeout, interval=0.2, what="a checkpoint covering the whole log")


def _alerts(client, prefix: str, rule: str) -> list[dict[str, object]]:
    client.indices.refresh(index=f"{prefix}-alerts")
    resp = client.search(index=f"{prefix}-alerts", query={"term": {"rule.id": rule}}, size=100)
    return [h["_source"] for h in resp["hits"]["hits"]]


def test_threshold_and_repeat_fire_exactly_once_across_sigkill(tmp_path, es_url, es_client, index_prefix):
    """Half a bulk-browsing window and two of three repeat days, SIGKILL, then the rest, then a replay."""
    config = _config(tmp_path, es_url, index_prefix)
    log = tmp_path / "logs" / "rms.jsonl"
    cmd = [sys.executable, "-m", "auditwatch", "run", "--config", str(config)]
    subprocess.run([sys.executable, "-m", "auditwatch", "setup", "--config", str(config)], check=True)

    first = [_rms_line(i, T0 + timedelta(minutes=i), f"P-{i:03d}") for i in range(12)]
    # event time only moves forward here: windows measure event time, so data far ahead of a window
    # would (rightly) close it
    first = [_rms_line(100 + d, T0 - timedelta(days=d), "P-900", STALKER) for d in (2, 1)] + first
    _append(log, first)
    daemon = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
    try:
        _wait_checkpointed(tmp_path / "state", log)
    finally:
        daemon.send_signal(signal.SIGKILL)
        daemon.wait()
    assert _alerts(es_client, index_prefix, "bulk-browsing") == []
    assert _alerts(es_client, index_prefix, "repeat-subject") == []

    rest = [_rms_line(i, T0 + timedelta(minutes=20 + i), f"P-{i:03d}") for i in range(12, 24)]
    rest += [_rms_line(102, T0 + timedelta(hours=2), "P-900", STALKER)]
    _append(log, rest)
    daemon = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
    try:
        _wait_checkpointed(tmp_path / "state", log)
        # on purpose: the daemon runs on for a second past that checkpoint (idle checkpoints, alert
        # delivery), so the SIGKILL lands after it has done everything; the restart below must then
        # raise nothing again
        time.sleep(1)
    finally:
        daemon.send_signal(signal.SIGKILL)
        daemon.wait()
    # and once more with nothing new: a restart must not raise them again
    again = subprocess.run([*cmd, "--until-idle"], capture_output=True, timeout=120, check=False)
    assert again.returncode == 0, again.stderr.decode()[-2000:]

    bulk = _alerts(es_client, index_prefix, "bulk-browsing")
    repeat = _alerts(es_client, index_prefix, "repeat-subject")
    everything = es_client.search(index=f"{index_prefix}-alerts", size=200)["hits"]["hits"]
    assert len(bulk) == 1, sorted(
        (_get(h["_source"], "rule.id"), h["_source"]["@timestamp"]) for h in everything
    )
    assert len(repeat) == 1, repeat
    # suppression state crossed the restarts too: one out-of-hours alert per user for the morning
    off_hours = [_get(a, "user.id") for a in _alerts(es_client, index_prefix, "out-of-hours")]
    assert off_hours.count(USER) == 1, off_hours
    assert _get(bulk[0], "user.id") == USER
    assert _get(repeat[0], "user.id") == STALKER
    assert int(str(_get(bulk[0], "auditwatch.alert.window.distinct"))) >= 20
    assert _get(repeat[0], "auditwatch.alert.window.days") == 3
