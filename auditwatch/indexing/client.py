"""Build the Elasticsearch client from the config (TLS, API key or basic auth, orjson responses)."""

from __future__ import annotations

from typing import Any

import structlog
from elasticsearch import Elasticsearch
from elasticsearch.serializer import NdjsonSerializer, OrjsonSerializer

from auditwatch.indexing.config import ElasticsearchConfig

log = structlog.get_logger(__name__)


class _BulkBodySerializer(NdjsonSerializer):
    """NDJSON request bodies: a finished `bytes` body (the bulk indexer's, megabytes) goes out as it
    is; the stock serializer copies it twice (into a bytearray, then to bytes) for the same bytes."""

    def dumps(self, data: Any) -> bytes:
        if data.__class__ is bytes and data.endswith(b"\n"):
            return data
        return super().dumps(data)


def make_client(cfg: ElasticsearchConfig) -> Elasticsearch:
    """A client for `cfg.hosts`; responses are parsed with orjson (bulk responses are large)."""
    kwargs: dict[str, Any] = {
        "request_timeout": cfg.request_timeout,
        "verify_certs": cfg.verify_certs,
        "serializers": {
            OrjsonSerializer.mimetype: OrjsonSerializer(),
            _BulkBodySerializer.mimetype: _BulkBodySerializer(),
        },
    }
    if cfg.api_key is not None:
        key_id, sep, key = cfg.api_key.partition(":")
        kwargs["api_key"] = (key_id, key) if sep else cfg.api_key
    elif cfg.username is not None and cfg.password is not None:
        kwargs["basic_auth"] = (cfg.username, cfg.password)
    if cfg.ca_certs is not None:
        kwargs["ca_certs"] = cfg.ca_certs
    if cfg.ssl_assert_fingerprint is not None:
        kwargs["ssl_assert_fingerprint"] = cfg.ssl_assert_fingerprint
    if not cfg.verify_certs:
        kwargs["ssl_show_warn"] = False  # warned once here instead of on every request
        log.warning("tls_verification_disabled", hosts=list(cfg.hosts))
    return Elasticsearch(list(cfg.hosts), **kwargs)
