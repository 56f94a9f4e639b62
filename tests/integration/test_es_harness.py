"""The real-Elasticsearch harness: the session fixtures, restarts and security mode."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from elastic_transport import TlsError
from elasticsearch import AuthorizationException, Elasticsearch

from auditwatch.config.spec import Reader
from auditwatch.config.yamlsource import load_yaml_text
from auditwatch.indexing import (
    BulkIndexer,
    ElasticsearchConfig,
    make_client,
    read_elasticsearch_config,
    setup_cluster,
)
from auditwatch.model import AccessEvent, RawLine
from auditwatch.schema import IndexNames
from auditwatch.testing.elasticsearch import (
    SUPERUSER,
    ElasticsearchServer,
    LocalElasticsearch,
    delete_prefixed,
)

_SECURED_INDEX = "awsec-events"
_READER_ROLES = """
aw_reader:
  indices:
    - names: ["awsec-*"]
      privileges: ["read"]
"""
_REDACTED_ROLE = """
aw_redacted:
  indices:
    - names: ["awsec-*"]
      privileges: ["read"]
      field_security:
        grant: ["*"]
        except: ["event.original"]
"""
_DOC = {"event": {"action": "view", "original": "2026-01-02 10:00 PC123 VIEW P-1"}, "user": {"id": "pc123"}}


def _local_version(client: Elasticsearch) -> str:
    nodes = client.nodes.info(node_id="_local")["nodes"]
    (node,) = nodes.values()
    version: str = node["version"]
    return version


def test_session_cluster_is_healthy(es_client: Elasticsearch) -> None:
    """The session cluster answers cluster health with yellow or green."""
    assert es_client.cluster.health()["status"] in {"yellow", "green"}


def test_session_cluster_runs_requested_version(
    es_server: ElasticsearchServer, es_client: Elasticsearch
) -> None:
    """The node reports the version that was requested (AUDITWATCH_ES_VERSION or the default)."""
    assert _local_version(es_client) == es_server.version


def test_bulk_create_replay_gives_409_per_item(es_client: Elasticsearch, index_prefix: str) -> None:
    """Replaying the same `create` bulk with fixed ids conflicts per item and adds nothing."""
    index = f"{index_prefix}-events"
    operations: list[dict[str, Any]] = []
    for n in range(3):
        operations += [{"create": {"_index": index, "_id": f"id-{n}"}}, {"n": n}]
    first = es_client.bulk(operations=operations, refresh=True)
    replay = es_client.bulk(operations=operations, refresh=True)
    assert [item["create"]["status"] for item in first["items"]] == [201, 201, 201]
    assert replay["errors"] is True
    assert [item["create"]["status"] for item in replay["items"]] == [409, 409, 409]
    assert es_client.count(index=index)["count"] == 3


def test_index_prefix_is_unique_and_lowercase(index_prefix: str, es_url: str) -> None:
    """Each test gets a lowercase `awt-` prefix usable in index names, and the URL is loopback."""
    assert index_prefix.startswith("awt-")
    assert index_prefix == index_prefix.lower()
    assert es_url.startswith(("http://", "https://"))


def test_delete_prefixed_removes_only_that_prefix(es_client: Elasticsearch, index_prefix: str) -> None:
    """Indices and (component) templates under the prefix go; a neighbour with a longer name stays."""
    other = f"{index_prefix}x"  # not under "<prefix>-"; deleted by the fixture afterwards
    es_client.cluster.put_component_template(name=f"{index_prefix}-settings", template={"settings": {}})
    es_client.indices.put_index_template(
        name=f"{index_prefix}-events",
        index_patterns=[f"{index_prefix}-events-*"],
        composed_of=[f"{index_prefix}-settings"],
    )
    es_client.indices.create(index=f"{index_prefix}-events-2026.01")
    es_client.indices.create(index=other)
    delete_prefixed(es_client, f"{index_prefix}-")
    assert es_client.indices.exists(index=other)
    assert not es_client.indices.exists(index=f"{index_prefix}-events-2026.01")
    assert not es_client.indices.exists_index_template(name=f"{index_prefix}-events")
    assert not es_client.cluster.exists_component_template(name=f"{index_prefix}-settings")


@pytest.fixture(scope="module")
def secured() -> Iterator[LocalElasticsearch]:
    """One secured instance for this module: TLS, trial licence, file users and file roles."""
    server = LocalElasticsearch(security=True)
    server.write_roles(_READER_ROLES)  # before start: read at boot
    server.add_user("reader", "reader-password", ["aw_reader"])
    server.start()
    admin = server.client()
    admin.index(index=_SECURED_INDEX, id="doc-1", document=_DOC, refresh=True)
    admin.close()
    try:
        yield server
    finally:
        server.close()


def test_secured_client_with_ca_authenticates(secured: LocalElasticsearch) -> None:
    """A client trusting the instance's CA connects over TLS as the harness superuser."""
    client = secured.client()
    assert secured.url.startswith("https://")
    assert client.security.authenticate()["username"] == SUPERUSER


def test_secured_client_without_ca_is_refused(secured: LocalElasticsearch) -> None:
    """Without the instance's CA the TLS handshake fails."""
    client = Elasticsearch(secured.url, basic_auth=secured.superuser, max_retries=0)
    with pytest.raises(TlsError):
        client.cluster.health()


def test_read_only_file_role_can_search_but_not_write(secured: LocalElasticsearch) -> None:
    """A file user with a read-only file role can search, and its writes get 403."""
    reader = secured.client(basic_auth=("reader", "reader-password"))
    assert reader.search(index=_SECURED_INDEX)["hits"]["total"]["value"] == 1
    with pytest.raises(AuthorizationException) as refused:
        reader.index(index=_SECURED_INDEX, id="doc-2", document=_DOC)
    assert refused.value.meta.status == 403


def test_field_security_hides_event_original(secured: LocalElasticsearch) -> None:
    """A role reloaded at runtime with `field_security.except: [event.original]` hides that field."""
    secured.write_roles(_READER_ROLES + _REDACTED_ROLE)
    secured.add_user("redacted", "redacted-password", ["aw_redacted"])
    redacted = secured.client(basic_auth=("redacted", "redacted-password"))
    (hit,) = redacted.search(index=_SECURED_INDEX)["hits"]["hits"]
    assert hit["_source"] == {"event": {"action": "view"}, "user": {"id": "pc123"}}
    (full,) = secured.client().search(index=_SECURED_INDEX)["hits"]["hits"]
    assert full["_source"]["event"]["original"] == _DOC["event"]["original"]


def test_stop_then_start_keeps_port_and_data(secured: LocalElasticsearch) -> None:
    """After stop() and start() the node listens on the same port and still has its documents."""
    port, url = secured.port, secured.url
    secured.stop()
    assert not secured.running
    secured.start()
    assert (secured.port, secured.url) == (port, url)
    assert secured.client().get(index=_SECURED_INDEX, id="doc-1")["_source"] == _DOC


def test_auditwatch_config_connects_over_tls_with_a_password_file(
    secured: LocalElasticsearch, tmp_path: Path
) -> None:
    """The daemon's own `elasticsearch:` section (CA path, user, password file) delivers over TLS;
    with a CA that did not sign the server's certificate the connection is refused."""
    assert secured.superuser is not None
    user, password = secured.superuser
    secret = tmp_path / "es-password"
    secret.write_text(password + "\n")
    secret.chmod(0o600)

    def config(ca: str) -> ElasticsearchConfig:
        text = (
            f"hosts: ['{secured.url}']\nindex_prefix: awtls\nusername: {user}\n"
            f"password_file: {secret}\nca_certs: {ca}\nbackoff_max: 1\n"
        )
        reader = Reader(load_yaml_text(text, str(tmp_path / "aw.yml")))
        cfg = read_elasticsearch_config(reader)
        reader.raise_if_any()
        return cfg

    good = config(str(secured.ca_certs))
    assert password not in repr(good)
    client = make_client(good)
    setup_cluster(client, IndexNames("awtls"))
    raw = RawLine("t", "/x.log", "k", 0, 3, b"abc", 3)
    fields = {"@timestamp": "2026-11-25T10:00:00.000Z", "event.kind": "event", "user.id": "MP000001"}
    report = BulkIndexer(client, IndexNames("awtls"), good).deliver(
        [AccessEvent("tls-1", 0.0, fields, raw)], [], []
    )
    assert report.created == 1
    client.indices.refresh(index="awtls-events-*")
    assert client.count(index="awtls-events-*")["count"] == 1

    wrong = make_client(config("/etc/ssl/certs/ca-certificates.crt"))
    with pytest.raises(TlsError):
        wrong.options(max_retries=0).cluster.health()
