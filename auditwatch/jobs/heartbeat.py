"""Heartbeat documents: the daemon's counters every `heartbeat_interval`, for Kibana to chart."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Mapping
from typing import Any

import structlog
from elasticsearch import ApiError, Elasticsearch, TransportError

from auditwatch.schema import IndexNames
from auditwatch.timefmt import iso_utc

log = structlog.get_logger(__name__)

HOST = socket.gethostname()


def heartbeat_document(
    now: float, version: str, counts: Mapping[str, int | float | list[str]]
) -> dict[str, Any]:
    """One heartbeat: when, which host and version, and the counters (numbers and input names only)."""
    health: dict[str, Any] = {}
    for key, value in counts.items():
        health[key] = value if isinstance(value, list) else int(value)
    return {
        "@timestamp": iso_utc(now),
        "host": {"name": HOST},
        "service": {"version": version},
        "auditwatch": {"health": health},
    }


class HeartbeatWriter:
    """Writes heartbeats with deterministic ids (host + second); best effort: an outage only logs."""

    def __init__(self, client: Elasticsearch, names: IndexNames) -> None:
        self._client = client.options(max_retries=0)
        self._index = names.health
        self._failing = False

    def write(self, doc: dict[str, Any]) -> bool:
        doc_id = hashlib.sha1(f"{doc['host']['name']}\0{doc['@timestamp']}".encode()).hexdigest()
        try:
            self._client.create(index=self._index, id=doc_id, document=doc)
        except ApiError as exc:
            if exc.meta.status == 409:  # already written (a retried job)
                return True
            self._note_failure(f"HTTP {exc.meta.status} {exc.error}")
            return False
        except TransportError as exc:
            self._note_failure(str(exc.message))
            return False
        if self._failing:
            log.info("heartbeat_index_recovered", index=self._index)
        self._failing = False
        return True

    def _note_failure(self, reason: str) -> None:
        if not self._failing:  # once per outage, not once per beat
            log.warning("heartbeat_index_failed", index=self._index, reason=reason)
        self._failing = True
