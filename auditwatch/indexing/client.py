"""Build the Elasticsearch client from the config (TLS, API key or basic auth, orjson responses)."""

from __future__ import annotations

from typing import Any

import structlog
from elasticsearch import Elasticsearch
from elasticsearch.serializer import OrjsonSerializer

from auditwatch.indexing.config import ElasticsearchConfig

log = structlog.get_logger(__name__)


def make_client(cfg: ElasticsearchConfig) -> Elasticsearch:
    """A client for `cfg.hosts`; responses are parsed with orjson (bulk responses are large)."""
    kwargs: dict[str, Any] = {
        "request_timeout": cfg.request_timeout,
        "verify_certs": cfg.verify_certs,
        "serializers": {OrjsonSerializer.mimetype: OrjsonSerializer()},
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
