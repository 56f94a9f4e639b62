"""`auditwatch test output` and `auditwatch status` against the real Elasticsearch: first checks."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

PARSER = Path(__file__).resolve().parents[2] / "parsers"


def _aw(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "auditwatch", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def _config(root: Path, url: str, prefix: str) -> Path:
    (root / "logs").mkdir(exist_ok=True)
    config = root / "auditwatch.yml"
    config.write_text(
        "inputs:\n  - {name: rms, paths: [logs/*.log], parser: rms_json, poll_interval: 0.2}\n"
        f"parsers_dir: {PARSER}\nrules_dir: rules\nstate_dir: state\n"
        f"elasticsearch: {{hosts: ['{url}'], index_prefix: {prefix}, backoff_max: 1}}\n"
        "pipeline: {heartbeat_interval: 0.3, idle_wait: 0.1}\n"
    )
    (root / "rules").mkdir(exist_ok=True)
    return config


def _line(n: int) -> str:
    return json.dumps(
        {"audit_id": f"A{n}", "ts": "2026-11-25T10:00:00Z", "user": {"staff_no": "MP1"}, "action": "view"}
    )


def test_output_steps_before_and_after_setup(tmp_path: Path, es_url: str, index_prefix: str) -> None:
    """Connection and auth pass; templates fail until `setup` ran, naming the fix; then all ok, exit 0."""
    config = _config(tmp_path, es_url, index_prefix)
    before = _aw("test", "output", "--config", str(config))
    assert before.returncode == 3
    assert "connection... ok: version " in before.stdout
    assert "templates... ERROR" in before.stdout
    assert "run `auditwatch setup`" in before.stdout
    assert _aw("setup", "--config", str(config)).returncode == 0
    after = _aw("test", "output", "--config", str(config))
    assert after.returncode == 0, after.stdout
    assert after.stdout.count("... ok") == 4


def test_output_names_the_network_failure(tmp_path: Path, index_prefix: str) -> None:
    """A closed port: the connection step says so, no further steps, exit 3, no traceback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = _aw("test", "output", "--config", str(_config(tmp_path, f"http://127.0.0.1:{port}", index_prefix)))
    assert done.returncode == 3
    assert "connection... ERROR: ConnectionError" in done.stdout
    assert "authentication" not in done.stdout
    assert "Traceback" not in done.stderr


def test_status_shows_lag_and_the_daemon_heartbeat(
    tmp_path: Path, es_url: str, es_client: Elasticsearch, index_prefix: str
) -> None:
    """Before the daemon: 'not read yet'; after `run --until-idle`: 0 bytes behind and its last heartbeat."""
    config = _config(tmp_path, es_url, index_prefix)
    (tmp_path / "logs" / "a.log").write_text("".join(_line(n) + "\n" for n in range(50)))
    assert _aw("setup", "--config", str(config)).returncode == 0
    before = _aw("status", "--config", str(config))
    assert before.returncode == 0, before.stderr
    assert "a.log" in before.stdout
    assert "not read yet" in before.stdout
    assert "no heartbeat in Elasticsearch yet" in before.stdout
    run = _aw("run", "--until-idle", "--config", str(config))
    assert run.returncode == 0, run.stderr
    es_client.indices.refresh(index=f"{index_prefix}-health")
    assert es_client.count(index=f"{index_prefix}-health")["count"] >= 1  # at least the final beat
    after = _aw("status", "--config", str(config))
    assert after.returncode == 0, after.stderr
    assert "0 bytes behind" in after.stdout
    assert "daemon: last heartbeat" in after.stdout
    assert re.search(r"detection state: \d+ rows, \d+ bytes", after.stdout), after.stdout
    beat = es_client.search(index=f"{index_prefix}-health", size=1)["hits"]["hits"][0]["_source"]
    assert {"state_rows", "state_bytes", "checkpoint_bytes"} <= set(beat["auditwatch"]["health"])


@pytest.mark.parametrize("verb", [("status",), ("test", "output")])
def test_missing_config_is_exit_2_and_one_line(tmp_path: Path, verb: tuple[str, ...]) -> None:
    done = _aw(*verb, "--config", str(tmp_path / "nope.yml"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
