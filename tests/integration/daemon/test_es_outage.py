"""Elasticsearch stopped under load: reading pauses, memory stays flat, everything arrives once."""

from __future__ import annotations

import signal
import time

import psutil

from auditwatch.testing.logwriter import NumberedLogWriter


def _wait_for_count(setup, expected: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    count = -1
    while time.monotonic() < deadline:
        setup.client.indices.refresh(index=setup.events_index())
        count = int(setup.client.count(index=setup.events_index())["count"])
        if count >= expected:
            return count
        time.sleep(1)
    return count


def test_outage_under_load_delivers_everything_exactly_once(daemon_setup, es_server):
    """ES paused for 25 s while 4,000 lines/s keep coming; afterwards all lines are there once."""
    writer = NumberedLogWriter(daemon_setup.logs / "audit.log", rotate_every=20000)
    proc = daemon_setup.start()
    daemon = psutil.Process(proc.pid)
    try:
        writer.start(lines_per_second=4000)
        time.sleep(4)
        baseline_rss = daemon.memory_info().rss
        es_server.pause()
        outage_start = time.monotonic()
        samples: list[tuple[float, int]] = []
        try:
            while time.monotonic() < outage_start + 25:
                samples.append((time.monotonic() - outage_start, daemon.memory_info().rss))
                time.sleep(0.25)
            written_during_outage = writer.written
        finally:
            es_server.resume()
        time.sleep(3)
        writer.stop()
        count = _wait_for_count(daemon_setup, writer.written, timeout=180)
        assert proc.poll() is None, "the daemon must survive the outage"
    finally:
        writer.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert proc.returncode == 0
    assert count == writer.written
    seqs = sorted(int(str(e["auditwatch.record.id"])) for e in daemon_setup.all_events())
    assert seqs == list(range(1, writer.written + 1))
    # ~100,000 lines arrived during the outage. The bounded queue fills within a few seconds (at
    # most queue_batches + 2 batches of batch_max_records events); after that reading pauses, so
    # memory is flat however long the outage lasts, instead of growing with every line written.
    assert written_during_outage > 90_000
    filling = max(rss for t, rss in samples if t < 12)
    plateau = max(rss for t, rss in samples if t >= 12)
    assert plateau - filling < 16 * 1024 * 1024, (
        baseline_rss,
        [(round(t), r >> 20) for t, r in samples[::8]],
    )
    assert plateau - baseline_rss < 150 * 1024 * 1024, (baseline_rss, plateau)
