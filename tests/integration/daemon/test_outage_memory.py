"""Elasticsearch unreachable for minutes at >= 2,000 lines/s: RSS stays flat once the queue is full,
SIGTERM ends the daemon in time with rc 0, and after a restart every line is there exactly once.

The suite runs a 45 s outage; `deploy/dev/soak.sh` runs it for AUDITWATCH_OUTAGE_SECONDS (200 s).
Before the retry path freed failed requests this grew ~1 GB a minute against a closed port."""

from __future__ import annotations

import json
import os
import signal
import time

import psutil
import pytest

from auditwatch.testing.faults import TcpProxy, set_es_url, set_pipeline, stop_and_time, wait_for_log
from auditwatch.testing.logwriter import NumberedLogWriter

OUTAGE = float(os.environ.get("AUDITWATCH_OUTAGE_SECONDS", "45"))
RATE = int(os.environ.get("AUDITWATCH_OUTAGE_RATE", "2000"))
FILLED = 15.0  # seconds into the outage by which the queue is full and reading has paused
BOUND = 32 * 1024 * 1024  # RSS may not grow more than this after FILLED, however long the outage
STOP_TIMEOUT = 10.0


@pytest.mark.soak
@pytest.mark.parametrize("lateness", [0, 0.25], ids=["lateness-0", "lateness-0.25"])
def test_rss_is_bounded_while_elasticsearch_is_unreachable(daemon_setup, es_url, lateness):
    """Connection refused (the way to the cluster cut) with backoff_max 1 s: a retry round every
    second or so. With a reorder bound too (events held, released by the wall clock)."""
    set_pipeline(daemon_setup.config, stop_timeout=STOP_TIMEOUT, lateness=lateness)
    config = daemon_setup.config
    config.write_text(config.read_text().replace("backoff_max: 2", "backoff_max: 1"))
    proxy = TcpProxy(es_url)
    set_es_url(config, proxy.url)
    writer = NumberedLogWriter(daemon_setup.logs / "audit.log", rotate_every=100_000)
    proc = daemon_setup.start()
    samples: list[tuple[float, int]] = []
    try:
        daemon = psutil.Process(proc.pid)
        wait_for_log(daemon_setup.root / "daemon.log", '"started"')
        proxy.cut()
        writer.start(lines_per_second=RATE)
        wait_for_log(daemon_setup.root / "daemon.log", "bulk_retry")
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < OUTAGE:  # on purpose: sample through the outage
            samples.append((elapsed, daemon.memory_info().rss))
            time.sleep(1.0)
        writer.stop()
        assert proc.poll() is None, "the daemon must ride out the outage"
        took = stop_and_time(proc, signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
        writer.close()
        proxy.close()
    report = {
        "outage_s": OUTAGE,
        "lines_written": writer.written,
        "rate": RATE,
        "lateness": lateness,
        "rss_mb": [(round(t), round(r / 2**20, 1)) for t, r in samples[::5]],
        "stop_s": round(took, 2),
    }
    (daemon_setup.root / "rss.json").write_text(json.dumps(report))
    print("outage memory:", json.dumps(report))
    assert proc.returncode == 0
    assert took < STOP_TIMEOUT, took
    assert writer.written >= RATE * OUTAGE * 0.9
    filled = max(r for t, r in samples if t <= FILLED)
    later = max(r for t, r in samples if t > FILLED)
    assert later - filled < BOUND, report

    set_es_url(config, es_url)
    done = daemon_setup.run_until_idle(timeout=900)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    daemon_setup.assert_exactly_once(writer.written)
