"""One log stream: auditwatch's own events and library warnings come out as the same JSON lines."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from auditwatch.service.logsetup import configure_logging


def _lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_library_records_are_json_like_ours(capsys: pytest.CaptureFixture[str]) -> None:
    """A stdlib warning from a library is a JSON object with level, timestamp and logger name."""
    configure_logging("info", "json")
    structlog.get_logger("auditwatch.test").info("rules_reloaded", rules=3)
    logging.getLogger("elastic_transport.transport").warning("Connection refused %s", "es1")
    logging.getLogger("apscheduler.executors.default").info("Running job heartbeat")  # chatty: held back
    ours, theirs = _lines(capsys.readouterr().err)
    assert ours["event"] == "rules_reloaded"
    assert ours["rules"] == 3
    assert theirs["event"] == "Connection refused es1"
    assert theirs["level"] == "warning"
    assert theirs["logger"] == "elastic_transport.transport"
    assert "timestamp" in theirs


def test_debug_shows_library_detail(capsys: pytest.CaptureFixture[str]) -> None:
    """`--log-level debug` lets the libraries' request and job logs through."""
    configure_logging("debug", "json")
    logging.getLogger("elastic_transport.transport").info("POST http://es1:9200/_bulk [status:200]")
    structlog.get_logger("auditwatch.test").debug("batch_read", records=10)
    events = [line["event"] for line in _lines(capsys.readouterr().err)]
    assert events == ["POST http://es1:9200/_bulk [status:200]", "batch_read"]
    configure_logging("info", "json")
