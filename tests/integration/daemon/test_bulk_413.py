"""Elasticsearch with a 1 MB `http.max_content_length`: the daemon's 5,000-document requests get 413,
are split (logged with their sizes) until they fit, and every line arrives exactly once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditwatch.testing.elasticsearch import LocalElasticsearch
from auditwatch.testing.logwriter import NumberedLogWriter


@pytest.fixture(scope="module")
def small_requests_es() -> Iterator[LocalElasticsearch]:
    """A second, small Elasticsearch that refuses requests over 1 MB (own temporary directory,
    which the harness makes readable to the Elasticsearch user when running as root)."""
    server = LocalElasticsearch(heap="512m", settings={"http.max_content_length": "1mb"})
    server.start()
    try:
        yield server
    finally:
        server.close()


def test_413_is_split_logged_and_delivers_everything_once(
    small_requests_es: LocalElasticsearch, tmp_path: Path, make_daemon_setup
):
    """20,000 lines (~3 MB per full request): split twice, no dead letters, every line once."""
    client = small_requests_es.client()
    try:
        setup = make_daemon_setup(tmp_path, small_requests_es.url, client, "aw413")
        writer = NumberedLogWriter(setup.logs / "audit.log")
        writer.write(20_000)
        writer.close()
        done = setup.run_until_idle()
        assert done.returncode == 0, done.stderr.decode()[-3000:]
        setup.assert_exactly_once(20_000)
        assert setup.dead_letters() == []
        splits = [json.loads(line) for line in done.stderr.decode().splitlines() if '"bulk_split"' in line]
        assert splits, "413 splits must be logged"
        first = splits[0]
        assert first["status"] == 413
        assert first["items"] == 5000
        assert first["bytes"] > 1 << 20
        assert [n for n, _ in first["halves"]] == [2500, 2500]
        assert sum(b for _, b in first["halves"]) == first["bytes"]
    finally:
        client.close()
