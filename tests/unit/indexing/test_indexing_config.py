"""The `elasticsearch:` config section: secrets from files or the environment, never inline or logged."""

from __future__ import annotations

from pathlib import Path

import pytest
import structlog

from auditwatch.config.spec import Reader
from auditwatch.config.yamlsource import load_yaml_text
from auditwatch.errors import ConfigError
from auditwatch.indexing import ElasticsearchConfig, make_client, read_elasticsearch_config

SECRET = "c2VjcmV0LWtleS1kby1ub3QtbG9n"


def _read(text: str, file: Path) -> ElasticsearchConfig:
    file.write_text(text)
    reader = Reader(load_yaml_text(text, str(file)))
    cfg = read_elasticsearch_config(reader.section("elasticsearch", required=True))
    reader.done()
    reader.raise_if_any()
    return cfg


def test_full_section_is_read(tmp_path: Path) -> None:
    """Every key lands in the frozen config, relative secret paths resolve next to the config file."""
    (tmp_path / "es.key").write_text(SECRET + "\n")
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    cfg = _read(
        "elasticsearch:\n"
        "  hosts: [https://es1:9200, https://es2:9200]\n"
        "  index_prefix: force-a\n"
        "  api_key_file: es.key\n"
        "  ca_certs: ca.pem\n"
        "  request_timeout: 12\n"
        "  bulk_max_docs: 1000\n"
        "  bulk_max_bytes: 2097152\n"
        "  backoff_initial: 0.25\n"
        "  backoff_max: 10\n",
        tmp_path / "auditwatch.yml",
    )
    assert cfg.hosts == ("https://es1:9200", "https://es2:9200")
    assert cfg.index_prefix == "force-a"
    assert cfg.api_key == SECRET
    assert cfg.ca_certs == str(tmp_path / "ca.pem")
    assert (cfg.request_timeout, cfg.bulk_max_docs, cfg.bulk_max_bytes) == (12.0, 1000, 2097152)
    assert (cfg.backoff_initial, cfg.backoff_max, cfg.verify_certs) == (0.25, 10.0, True)


def test_defaults(tmp_path: Path) -> None:
    """A host alone gives the documented defaults."""
    cfg = _read("elasticsearch:\n  hosts: http://127.0.0.1:9200\n", tmp_path / "a.yml")
    assert cfg == ElasticsearchConfig(hosts=("http://127.0.0.1:9200",))
    assert (cfg.bulk_max_docs, cfg.bulk_max_bytes, cfg.request_timeout) == (5000, 10 * 1024 * 1024, 30.0)


def test_password_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """password_env reads the named variable when the config is loaded."""
    monkeypatch.setenv("AW_TEST_ES_PASSWORD", "hunter2-long-password")
    cfg = _read(
        "elasticsearch:\n  hosts: https://es:9200\n  username: auditwatch\n"
        "  password_env: AW_TEST_ES_PASSWORD\n",
        tmp_path / "a.yml",
    )
    assert (cfg.username, cfg.password) == ("auditwatch", "hunter2-long-password")


def test_secrets_never_in_repr_or_logs(tmp_path: Path) -> None:
    """Neither repr(cfg) nor anything logged while reading it and building a client shows a secret."""
    (tmp_path / "pw").write_text("hunter2-long-password")
    (tmp_path / "pw").chmod(0o644)  # readable by others: warned about, by path only
    with structlog.testing.capture_logs() as logs:
        cfg = _read(
            "elasticsearch:\n  hosts: https://es:9200\n  username: u\n  password_file: pw\n"
            "  verify_certs: false\n",
            tmp_path / "a.yml",
        )
        client = make_client(cfg)
        client.close()
    assert "hunter2" not in repr(cfg)
    assert "hunter2" not in repr(logs)
    assert {entry["event"] for entry in logs} >= {
        "secret_file_readable_by_others",
        "tls_verification_disabled",
    }
    key_cfg = ElasticsearchConfig(hosts=("https://es:9200",), api_key=SECRET)
    assert SECRET not in repr(key_cfg)
    assert SECRET not in str(key_cfg)


def test_missing_secret_file_names_file_line_and_field(tmp_path: Path) -> None:
    """A secret file that does not exist is a ConfigError pointing at the key that names it."""
    with pytest.raises(ConfigError) as err:
        _read(
            "elasticsearch:\n  hosts: https://es:9200\n  api_key_file: /nonexistent/es.key\n",
            tmp_path / "auditwatch.yml",
        )
    (problem,) = err.value.problems
    assert problem.file == str(tmp_path / "auditwatch.yml")
    assert problem.line == 3
    assert problem.field == "elasticsearch.api_key_file"
    assert "/nonexistent/es.key" in problem.message


def test_inline_secrets_are_rejected_without_echoing_them(tmp_path: Path) -> None:
    """`api_key:` and `password:` written in the file are errors, and the value is not repeated."""
    with pytest.raises(ConfigError) as err:
        _read(
            f"elasticsearch:\n  hosts: https://es:9200\n  api_key: {SECRET}\n"
            "  username: u\n  password: pw-inline\n",
            tmp_path / "a.yml",
        )
    fields = {(p.field, p.line) for p in err.value.problems}
    assert ("elasticsearch.api_key", 3) in fields
    assert ("elasticsearch.password", 5) in fields
    assert SECRET not in str(err.value)
    assert "pw-inline" not in str(err.value)


def test_unset_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """api_key_env naming an unset variable is reported on that key."""
    monkeypatch.delenv("AW_TEST_UNSET", raising=False)
    with pytest.raises(ConfigError) as err:
        _read("elasticsearch:\n  hosts: https://es:9200\n  api_key_env: AW_TEST_UNSET\n", tmp_path / "a.yml")
    assert [p.field for p in err.value.problems] == ["elasticsearch.api_key_env"]


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("  color: blue\n", "elasticsearch.color"),
        ("  index_prefix: Bad Prefix\n", "elasticsearch.index_prefix"),
        ("  bulk_max_docs: 0\n", "elasticsearch.bulk_max_docs"),
        ("  bulk_max_bytes: 10\n", "elasticsearch.bulk_max_bytes"),
        ("  ssl_assert_fingerprint: abc\n", "elasticsearch.ssl_assert_fingerprint"),
        ("  ca_certs: missing.pem\n", "elasticsearch.ca_certs"),
        ("  verify_certs: no-thanks\n", "elasticsearch.verify_certs"),
        ("  backoff_max: 0.1\n", "elasticsearch.backoff_max"),
    ],
)
def test_bad_values_are_reported_on_their_key(tmp_path: Path, line: str, field: str) -> None:
    """Unknown keys and invalid values are errors naming the offending key and its line."""
    with pytest.raises(ConfigError) as err:
        _read("elasticsearch:\n  hosts: https://es:9200\n" + line, tmp_path / "a.yml")
    assert [(p.field, p.line) for p in err.value.problems] == [(field, 3)]


@pytest.mark.parametrize("host", ["es1:9200", "ftp://es1", "https://user:pw@es1:9200"])
def test_bad_hosts(tmp_path: Path, host: str) -> None:
    """Hosts must be http(s) URLs without embedded credentials."""
    with pytest.raises(ConfigError) as err:
        _read(f"elasticsearch:\n  hosts: ['{host}']\n", tmp_path / "a.yml")
    assert [p.field for p in err.value.problems] == ["elasticsearch.hosts[0]"]
    assert "user:pw" not in str(err.value)


def test_api_key_from_systemd_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`api_key_file: ${CREDENTIALS_DIRECTORY}/es-api-key` reads what LoadCredential= handed over."""
    creds = tmp_path / "credentials"
    creds.mkdir()
    (creds / "es-api-key").write_text(SECRET + "\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    text = "elasticsearch:\n  hosts: https://es:9200\n  api_key_file: ${CREDENTIALS_DIRECTORY}/es-api-key\n"
    assert _read(text, tmp_path / "a.yml").api_key == SECRET


def test_systemd_credentials_outside_the_unit_are_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without $CREDENTIALS_DIRECTORY the problem says so, on the key's line."""
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    text = "elasticsearch:\n  hosts: https://es:9200\n  api_key_file: $CREDENTIALS_DIRECTORY/es-api-key\n"
    with pytest.raises(ConfigError) as err:
        _read(text, tmp_path / "a.yml")
    assert "a.yml:3:3: AW104 [elasticsearch.api_key_file]" in str(err.value)
    assert "CREDENTIALS_DIRECTORY, which is not set" in str(err.value)


def test_the_client_sends_a_finished_bulk_body_as_it_is() -> None:
    """A bulk body already encoded (bytes ending in a newline) is the very object sent, not a copy;
    anything else is encoded as the client always did."""
    client = make_client(ElasticsearchConfig(hosts=("http://127.0.0.1:9",)))
    try:
        ndjson = client.transport.serializers.get_serializer("application/x-ndjson")
        body = b'{"create":{"_index":"x","_id":"1"}}\n{"a":1}\n'
        assert ndjson.dumps(body) is body
        assert ndjson.dumps(body[:-1]) == body
        assert ndjson.dumps([{"create": {"_index": "x", "_id": "1"}}, {"a": 1}]) == body
    finally:
        client.close()
