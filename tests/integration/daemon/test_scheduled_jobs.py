"""Scheduled jobs against the real Elasticsearch: heartbeats, a silent source, retention and the digest."""

from __future__ import annotations

import json
import signal
from datetime import date

from auditwatch.jobs.digest import open_alerts_digest
from auditwatch.jobs.retention import apply_retention
from auditwatch.schema import IndexNames


def _line(n: int) -> str:
    return json.dumps({"ts": f"2026-11-25T10:00:{n:02d}Z", "user": "MP000001", "seq": f"{n:08d}"}) + "\n"


def _count(setup, index: str, **query) -> int:
    setup.client.indices.refresh(index=index)
    return int(setup.client.count(index=index, **query)["count"])


def test_heartbeats_and_a_silent_source_reach_elasticsearch(daemon_setup, wait_until):
    """A running daemon writes heartbeat documents, and one `source-silent` alert for a quiet input."""
    config = daemon_setup.config
    text = config.read_text()
    text = text.replace("    poll_interval: 0.2\n", "    poll_interval: 0.2\n    silent_after: 2\n")
    text = text.replace(
        "pipeline:\n", "jobs:\n  silence_check_interval: 0.5\npipeline:\n  heartbeat_interval: 0.5\n"
    )
    config.write_text(text)
    (daemon_setup.logs / "audit.log").write_text(_line(1))
    health, alerts = f"{daemon_setup.prefix}-health", f"{daemon_setup.prefix}-alerts"
    proc = daemon_setup.start()
    try:
        wait_until(lambda: _count(daemon_setup, health) >= 2)
        silent = {"term": {"rule.id": "source-silent"}}
        wait_until(lambda: _count(daemon_setup, alerts, query=silent) == 1)
        wait_until(
            lambda: (
                _count(daemon_setup, health, query={"term": {"auditwatch.health.silent_inputs": "seq"}}) >= 1
            )
        )
        hit = daemon_setup.client.search(index=alerts, query=silent)["hits"]["hits"][0]["_source"]
        assert hit["service"]["name"] == "seq"
        assert hit["auditwatch"]["triage"]["status"] == "new"
        beat = daemon_setup.client.search(index=health, size=1, sort=[{"@timestamp": "desc"}])["hits"][
            "hits"
        ][0]
        assert beat["_source"]["auditwatch"]["health"]["events"] >= 1
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert proc.returncode == 0
    assert _count(daemon_setup, alerts, query={"term": {"rule.id": "source-silent"}}) == 1


def test_retention_dry_run_then_delete(daemon_setup):
    """Dry run deletes nothing; with delete the old month goes and the recent one stays."""
    names = IndexNames(daemon_setup.prefix)
    client = daemon_setup.client
    for month in ("2019.01", "2026.11"):
        client.indices.create(index=f"{names.prefix}-events-{month}")
    dry = apply_retention(client, names, 24, date(2026, 12, 6), delete=False)
    assert dry.delete == (f"{names.prefix}-events-2019.01",)
    assert client.indices.exists(index=f"{names.prefix}-events-2019.01")
    apply_retention(client, names, 24, date(2026, 12, 6), delete=True)
    assert not client.indices.exists(index=f"{names.prefix}-events-2019.01")
    assert client.indices.exists(index=f"{names.prefix}-events-2026.11")
    mapping = client.indices.get_mapping(index=f"{names.prefix}-events-2026.11")
    assert next(iter(mapping.values()))["mappings"]["dynamic"] == "strict"  # made by the template


def test_digest_counts_open_alerts_only(daemon_setup):
    """Closed alerts leave the digest; severities and rules are counted; no personal data in it."""
    client, index = daemon_setup.client, f"{daemon_setup.prefix}-alerts"
    docs = [
        ("a1", "2026-11-01T10:00:00Z", "colleague-lookup", "high", "new"),
        ("a2", "2026-11-02T10:00:00Z", "vip-watchlist", "critical", "under_review"),
        ("a3", "2026-10-01T10:00:00Z", "colleague-lookup", "high", "closed"),
    ]
    for doc_id, ts, rule, severity, status in docs:
        client.create(
            index=index,
            id=doc_id,
            document={
                "@timestamp": ts,
                "rule": {"id": rule},
                "user": {"id": "MP000001"},
                "auditwatch": {"alert": {"severity_label": severity}, "triage": {"status": status}},
            },
        )
    client.indices.refresh(index=index)
    digest = open_alerts_digest(client, IndexNames(daemon_setup.prefix))
    assert digest["open"] == 2
    assert digest["by_severity"] == {"high": 1, "critical": 1}
    assert digest["by_rule"] == {"colleague-lookup": 1, "vip-watchlist": 1}
    assert digest["oldest_open"].startswith("2026-11-01T10:00:00")
    assert "MP000001" not in json.dumps(digest)


def test_prometheus_counters_on_loopback(daemon_setup, wait_until):
    """`metrics: {port: N}` serves the daemon's counters as Prometheus text on 127.0.0.1."""
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = daemon_setup.config
    config.write_text(config.read_text() + f"metrics: {{port: {port}}}\n")
    (daemon_setup.logs / "audit.log").write_text("".join(_line(n) for n in range(1, 31)))
    proc = daemon_setup.start()

    def scrape() -> dict[str, float]:
        try:
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
        except OSError:
            return {}
        return {
            line.split()[0]: float(line.split()[1])
            for line in text.splitlines()
            if line.startswith("auditwatch_")
        }

    try:
        wait_until(lambda: scrape().get("auditwatch_events_total") == 30)
        metrics = scrape()
        assert metrics["auditwatch_records_total"] == 30
        assert metrics["auditwatch_dead_letters_total"] == 0
        assert metrics["auditwatch_files"] == 1
        wait_until(lambda: scrape().get("auditwatch_bytes_behind") == 0)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert proc.returncode == 0
