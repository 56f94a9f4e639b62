"""`auditwatch backfill` is idempotent; every verb's missing-input and Elasticsearch-down paths give the
documented exit code and one line, never a traceback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

PARSERS = Path(__file__).resolve().parents[2] / "parsers"


def _aw(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "auditwatch", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def _config(root: Path, url: str, prefix: str) -> Path:
    (root / "logs").mkdir(exist_ok=True)
    (root / "rules").mkdir(exist_ok=True)
    config = root / "auditwatch.yml"
    config.write_text(
        "inputs:\n  - {name: rms, paths: [logs/*.jsonl], parser: rms_json}\n"
        f"parsers_dir: {PARSERS}\nrules_dir: rules\nstate_dir: state\n"
        f"elasticsearch: {{hosts: ['{url}'], index_prefix: {prefix}, backoff_max: 1}}\n"
    )
    return config


def _lines(n: int, *, bad: int = 0) -> str:
    good = [
        json.dumps(
            {
                "audit_id": f"B-{i}",
                "ts": "2026-11-20T10:00:00Z",
                "user": {"staff_no": "MP1"},
                "action": "view",
            }
        )
        for i in range(n)
    ]
    return "\n".join(good + ['{"audit_id": "broken"'] * bad) + "\n"


def test_backfill_twice_gives_the_same_documents(
    tmp_path: Path, es_url: str, es_client: Elasticsearch, index_prefix: str
) -> None:
    """First run creates every event; the second creates nothing and reports them as already indexed."""
    config = _config(tmp_path, es_url, index_prefix)
    archive = tmp_path / "logs" / "archive.jsonl"
    archive.write_text(_lines(300, bad=2))
    assert _aw("setup", "--config", str(config)).returncode == 0
    first = _aw("backfill", "--config", str(config), str(archive))
    assert first.returncode == 1, first.stderr  # two dead letters are findings
    assert "300 documents new" in first.stdout
    es_client.indices.refresh(index=f"{index_prefix}-events-*")
    count = es_client.count(index=f"{index_prefix}-events-*")["count"]
    assert count == 300
    second = _aw("backfill", "--config", str(config), str(archive))
    assert "0 documents new, 300 already indexed" in second.stdout
    es_client.indices.refresh(index=f"{index_prefix}-events-*")
    assert es_client.count(index=f"{index_prefix}-events-*")["count"] == count


def test_backfill_refuses_a_cluster_without_setup(tmp_path: Path, es_url: str, index_prefix: str) -> None:
    config = _config(tmp_path, es_url, index_prefix)
    archive = tmp_path / "logs" / "a.jsonl"
    archive.write_text(_lines(3))
    done = _aw("backfill", "--config", str(config), str(archive))
    assert done.returncode == 2
    assert "auditwatch setup" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture
def down(tmp_path: Path, index_prefix: str) -> Path:
    """A config whose Elasticsearch is a closed port, with one log file."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = _config(tmp_path, f"http://127.0.0.1:{port}", index_prefix)
    (tmp_path / "logs" / "a.jsonl").write_text(_lines(3))
    return config


@pytest.mark.parametrize(
    "verb",
    [
        ("setup",),
        ("alerts", "list"),
        ("alerts", "show", "some-id"),
        ("status",),
        ("test", "output"),
        ("rules", "backtest", "RULE"),
        ("backfill", "LOG"),
    ],
)
def test_elasticsearch_down_is_exit_3_and_at_most_one_line(down: Path, verb: tuple[str, ...]) -> None:
    rule = PARSERS.parent / "rules" / "vetting-lapsed.yml"
    args = [{"LOG": str(down.parent / "logs" / "a.jsonl"), "RULE": str(rule)}.get(a, a) for a in verb]
    done = _aw(*args, "--config", str(down))
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 1, done.stderr


@pytest.mark.parametrize(
    ("verb", "needs_config"),
    [
        (("parse", "--parser", "rms_json", "NOPE"), False),
        (("scan", "NOPE"), True),
        (("backfill", "NOPE"), True),
        (("rules", "test", "no-such-rule"), True),
        (("check-config",), "missing"),
        (("run",), "missing"),
    ],
)
def test_missing_input_is_exit_2_and_one_line(
    down: Path, verb: tuple[str, ...], needs_config: object
) -> None:
    args = [str(down.parent / "logs" / "nope.jsonl") if a == "NOPE" else a for a in verb]
    config = down.parent / "missing.yml" if needs_config == "missing" else down
    extra = ["--config", str(config)] if needs_config else ["--parsers-dir", str(PARSERS)]
    done = _aw(*args, *extra)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
