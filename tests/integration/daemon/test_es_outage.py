"""Elasticsearch stopped under load: reading pauses, memory stays flat, everything arrives once."""

from __future__ import annotations

import signal
import time

import psutil

from auditwatch.testing.logwriter import NumberedLogWriter


def _count(setup) -> int:
    setup.client.indices.refresh(index=setup.events_index())
    return int(setup.client.count(index=setup.events_index())["count"])


def test_outage_under_load_delivers_everything_exactly_once(daemon_setup, es_server, wait_until):
    """ES paused for 25 s while 4,000 lines/s keep coming; afterwards all lines are there once."""
    writer = NumberedLogWriter(daemon_setup.logs / "audit.log", rotate_every=20000)
    proc = daemon_setup.start()
    daemon = psutil.Process(proc.pid)
    try:
        writer.start(lines_per_second=4000)
        time.sleep(4)  # on purpose: the baseline memory is taken after 4 s under load
        baseline_rss = daemon.memory_info().rss
        es_server.pause()
        outage_start = time.monotonic()
        samples: list[tuple[float, int]] = []
        try:
            while time.monotonic() < outage_start + 25:  # on purpose: sample memory through 25 s of outage
                samples.append((time.monotonic() - outage_start, daemon.memory_info().rss))
                time.sleep(0.25)
            written_during_outage = writer.written
        finally:
            es_server.resume()
        time.sleep(3)  # on purpose: lines keep coming for 3 s after Elasticsearch is back
        writer.stop()
        wait_until(lambda: _count(daemon_setup) >= writer.written, 180, interval=1, what="every line indexed")
        count = _count(daemon_setup)
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
