"""Delivery to Elasticsearch: config, client, templates and the bulk indexer (nothing lost or duplicated)."""

from auditwatch.indexing.client import make_client
from auditwatch.indexing.config import ElasticsearchConfig, read_elasticsearch_config
from auditwatch.indexing.deliver import BulkIndexer, DeliveryInterrupted, DeliveryReport
from auditwatch.indexing.security import RAW_LINE_FIELDS
from auditwatch.indexing.templates import missing_parts, setup_cluster
from auditwatch.indexing.verify import ClusterNotReady, wrong_mappings

__all__ = [
    "RAW_LINE_FIELDS",
    "BulkIndexer",
    "ClusterNotReady",
    "DeliveryInterrupted",
    "DeliveryReport",
    "ElasticsearchConfig",
    "make_client",
    "missing_parts",
    "read_elasticsearch_config",
    "setup_cluster",
    "wrong_mappings",
]
