"""Shared fixtures: one real Elasticsearch per test session, started only when a test asks for it.

- `es_server`: the session's cluster (a `LocalElasticsearch`, or the already running one named by
  env AUDITWATCH_ES_URL, with optional AUDITWATCH_ES_CA_CERTS: the "noproc" variant).
- `es_client`: a session-scoped `elasticsearch.Elasticsearch` for it; `es_url`: its URL.
- `index_prefix`: a unique lowercase prefix per test (`awt-<hex>`); indices and templates whose
  names start with it are deleted after the test.
- `wait_until`: the shared `auditwatch.testing.waiting.wait_until` (poll a condition, fail after a
  timeout); tests wait with it, never with fixed sleeps or hand-written loops.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from auditwatch.testing.waiting import wait_until as _wait_until

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from auditwatch.testing.elasticsearch import ElasticsearchServer

_INTEGRATION_DIR = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration with `integration`."""
    for item in items:
        if _INTEGRATION_DIR in item.path.parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def es_server() -> Iterator[ElasticsearchServer]:
    """The session's Elasticsearch: started once, lazily, and stopped at the end of the session."""
    # imported here so that pure unit sessions never load the harness or the client
    from auditwatch.testing.elasticsearch import ExternalElasticsearch, LocalElasticsearch

    external = ExternalElasticsearch.from_env()
    if external is not None:
        yield external
        return
    server = LocalElasticsearch()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def es_url(es_server: ElasticsearchServer) -> str:
    """URL of the session's Elasticsearch."""
    return es_server.url


@pytest.fixture(scope="session")
def es_client(es_server: ElasticsearchServer) -> Iterator[Elasticsearch]:
    """A client for the session's Elasticsearch."""
    client = es_server.client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def index_prefix(es_client: Elasticsearch) -> Iterator[str]:
    """A unique index name prefix for one test; its indices and templates are removed afterwards."""
    prefix = f"awt-{uuid.uuid4().hex[:12]}"
    yield prefix
    from auditwatch.testing.elasticsearch import delete_prefixed

    delete_prefixed(es_client, prefix)


@pytest.fixture
def wait_until() -> Callable[..., None]:
    """`wait_until(check, timeout=60.0, *, interval=0.25, what=...)`: polls until `check()` holds."""
    return _wait_until
