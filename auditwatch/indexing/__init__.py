"""Delivery to Elasticsearch: config, client, templates and the bulk indexer (nothing lost or duplicated)."""

from auditwatch.indexing.client import make_client
from auditwatch.indexing.config import ElasticsearchConfig, read_elasticsearch_config
from auditwatch.indexing.deliver import BulkIndexer, DeliveryInterrupted, DeliveryReport
from auditwatch.indexing.templates import setup_cluster

__all__ = [
    "BulkIndexer",
    "DeliveryInterrupted",
    "DeliveryReport",
    "ElasticsearchConfig",
    "make_client",
    "read_elasticsearch_config",
    "setup_cluster",
]
