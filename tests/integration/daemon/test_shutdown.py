"""SIGTERM and SIGINT end the daemon within `pipeline.stop_timeout` in every state, rc 0, and a
restart then delivers every line exactly once."""

from __future__ import annotations

import signal
import time

import pytest

from auditwatch.testing.faults import (
    TcpProxy,
    frozen,
    set_es_url,
    set_pipeline,
    stop_and_time,
    wait_for_log,
)
from auditwatch.testing.logwriter import NumberedLogWriter

STOP_TIMEOUT = 8.0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stop_while_elasticsearch_is_unreachable_and_the_queue_is_full(daemon_setup, es_url, sig):
    """Connection refused mid-run: delivery retries, the queue is full and reading is paused in `_put`."""
    set_pipeline(daemon_setup.config, stop_timeout=STOP_TIMEOUT)
    proxy = TcpProxy(es_url)
    set_es_url(daemon_setup.config, proxy.url)
    writer = NumberedLogWriter(daemon_setup.logs / "audit.log")
    proc = daemon_setup.start()
    try:
        wait_for_log(daemon_setup.root / "daemon.log", '"started"')
        proxy.cut()
        writer.write(60_000)  # 12 batches: far more than the queue holds
        wait_for_log(daemon_setup.root / "daemon.log", "bulk_retry")
        time.sleep(3)  # on purpose: several retry rounds; the main thread is blocked on the full queue
        assert proc.poll() is None
        took = stop_and_time(proc, sig)
    finally:
        if proc.poll() is None:
            proc.kill()
        writer.close()
        proxy.close()
    assert proc.returncode == 0
    assert took < STOP_TIMEOUT, took

    set_es_url(daemon_setup.config, es_url)
    done = daemon_setup.run_until_idle()
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    daemon_setup.assert_exactly_once(60_000)


def test_stop_while_elasticsearch_is_frozen_mid_request(daemon_setup, es_server):
    """SIGSTOPped Elasticsearch: a bulk request hangs (request_timeout 30 s > stop timeout); the
    daemon still exits in time, leaving that request behind unacknowledged."""
    set_pipeline(daemon_setup.config, stop_timeout=STOP_TIMEOUT)
    writer = NumberedLogWriter(daemon_setup.logs / "audit.log")
    writer.start(lines_per_second=3000)
    proc = daemon_setup.start()
    try:
        time.sleep(4)  # on purpose: 4 s of delivery under load, so a bulk request is in flight
        with frozen(es_server.pid):
            time.sleep(4)  # on purpose: that request hangs on the frozen node
            assert proc.poll() is None
            took = stop_and_time(proc, signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
        writer.close()
    assert proc.returncode == 0
    assert took < STOP_TIMEOUT, took
    assert "delivery_abandoned" in (daemon_setup.root / "daemon.log").read_text()

    done = daemon_setup.run_until_idle()
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    daemon_setup.assert_exactly_once(writer.written)


def test_stop_while_reading_a_large_backlog(daemon_setup):
    """300,000 lines waiting: full batches back to back, Elasticsearch up; SIGTERM ends it in time."""
    set_pipeline(daemon_setup.config, stop_timeout=STOP_TIMEOUT)
    writer = NumberedLogWriter(daemon_setup.logs / "audit.log")
    writer.write(300_000)
    writer.close()
    proc = daemon_setup.start()
    try:
        wait_for_log(daemon_setup.root / "daemon.log", '"started"')
        time.sleep(3)  # on purpose: 3 s into the backlog, full batches back to back
        assert proc.poll() is None
        took = stop_and_time(proc, signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert took < STOP_TIMEOUT, took

    # reading 300 MB back takes ~4 min of wall time on a loaded 2-core machine: the bound is a hang
    # guard, not a speed test
    done = daemon_setup.run_until_idle(timeout=900)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    daemon_setup.assert_exactly_once(300_000)
