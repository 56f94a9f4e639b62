"""SIGTERM and SIGINT end the daemon within `pipeline.stop_timeout` in every state, rc 0, and a
restart then delivers every line exactly once."""

from __future__ import annotations

import json
import signal
import time

import orjson
import pytest

from auditwatch.checkpoint import Checkpoint
from auditwatch.detection.engine import ENGINE_META
from auditwatch.testing.faults import (
    TcpProxy,
    frozen,
    set_es_url,
    set_pipeline,
    stop_and_time,
    wait_for_log,
)
from auditwatch.testing.logwriter import NumberedLogWriter
from auditwatch.testing.waiting import wait_until

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


def test_a_clean_stop_checkpoints_what_was_read_so_a_restart_reads_nothing_again(daemon_setup):
    """No periodic checkpoint is due (interval 600 s) and every event is held (lateness 600 s), so
    only the checkpoint taken on SIGTERM can record the offsets and the held events; the restart
    reads no line again and still detects the held events (`--until-idle` flushes them)."""
    config = daemon_setup.config
    config.write_text(
        config.read_text().replace("checkpoint_interval: 0.5", "checkpoint_interval: 600\n  lateness: 600")
    )
    log = daemon_setup.logs / "audit.log"
    writer = NumberedLogWriter(log)
    writer.write(3000)
    writer.close()
    proc = daemon_setup.start()
    try:
        wait_until(lambda: daemon_setup.count() == 3000, timeout=120, what="3,000 events indexed")
        took = stop_and_time(proc, signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert took < 20.0, took

    checkpoint = Checkpoint(daemon_setup.root / "state" / "checkpoint.sqlite")
    try:
        assert list(checkpoint.offsets().values()) == [log.stat().st_size]
        held = orjson.loads(checkpoint.rule_state().meta[ENGINE_META])["held"]["events"]
    finally:
        checkpoint.close()
    assert len(held) == 3000

    done = daemon_setup.run_until_idle()
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    stopped = [json.loads(line) for line in done.stderr.splitlines() if b'"stopped"' in line]
    assert stopped, done.stderr.decode()[-3000:]
    assert stopped[-1]["records"] == 0, stopped
    daemon_setup.assert_exactly_once(3000)
