"""The `elasticsearch:` config section: where the cluster is, how to authenticate, how to batch.

Secrets (API key, password) are never accepted inline: config files get committed and copied into
tickets. They are read from a file (`api_key_file`, `password_file`) or an environment variable
(`api_key_env`, `password_env`) when the config is loaded, and are kept out of `repr()`.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import structlog

from auditwatch.config.spec import Reader, positive
from auditwatch.schema import DEFAULT_INDEX_PREFIX

log = structlog.get_logger(__name__)

MIB = 1024 * 1024
_MAX_BULK_BYTES = 100 * MIB  # Elasticsearch's default http.max_content_length
_INDEX_PREFIX = re.compile(r"[a-z0-9][a-z0-9._-]{0,199}")
_FINGERPRINT = re.compile(r"(?:[0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}")
_CREDENTIALS = re.compile(r"\$\{CREDENTIALS_DIRECTORY\}|\$CREDENTIALS_DIRECTORY\b")
_INLINE_SECRETS = {"api_key": "api_key_file or api_key_env", "password": "password_file or password_env"}


@dataclass(frozen=True)
class ElasticsearchConfig:
    """How to reach the cluster and how to batch writes to it. Secrets never appear in repr()."""

    hosts: tuple[str, ...]
    index_prefix: str = DEFAULT_INDEX_PREFIX
    api_key: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_certs: str | None = None
    ssl_assert_fingerprint: str | None = None
    verify_certs: bool = True
    request_timeout: float = 30.0
    bulk_max_docs: int = 5000
    bulk_max_bytes: int = 10 * MIB
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    setup: str = "verify"  # at start: "verify" refuses a cluster without templates, "auto" installs them


def read_elasticsearch_config(reader: Reader) -> ElasticsearchConfig:
    """Read the `elasticsearch:` section. Problems are collected on `reader` (call `raise_if_any`)."""
    d = ElasticsearchConfig(hosts=())
    base = Path(reader.doc.file).resolve().parent if reader.doc.file else Path.cwd()
    hosts = reader.string_list("hosts")
    if not hosts:
        reader.problem((*reader.path, "hosts"), "at least one host URL is required (e.g. https://es1:9200)")
    for i, host in enumerate(hosts):
        message = _host_problem(host)
        if message:
            where = (
                (*reader.path, "hosts", i) if reader.data.get("hosts") != host else (*reader.path, "hosts")
            )
            reader.problem(where, message)
    for key, instead in _INLINE_SECRETS.items():
        if reader.has(key):
            reader.optional(key, object, None)  # consumed, so it is reported once, here
            reader.problem((*reader.path, key), f"secrets must not be written in the config; use {instead}")
    api_key = _secret(reader, base, "api_key")
    username = reader.optional("username", str, None)
    password = _secret(reader, base, "password")
    if api_key is not None and (username is not None or password is not None):
        reader.problem(reader.path, "use either an API key or username/password, not both")
    if (username is None) != (password is None) and api_key is None:
        reader.problem(reader.path, "username and password_file/password_env go together")
    ca_certs = reader.optional("ca_certs", str, None, _existing_file(base))
    fingerprint = reader.optional("ssl_assert_fingerprint", str, None, _fingerprint)
    cfg = ElasticsearchConfig(
        hosts=hosts,
        index_prefix=reader.optional("index_prefix", str, d.index_prefix, _index_prefix),
        api_key=api_key,
        username=username,
        password=password,
        ca_certs=ca_certs,
        ssl_assert_fingerprint=fingerprint,
        verify_certs=reader.optional("verify_certs", bool, d.verify_certs),
        request_timeout=reader.optional("request_timeout", float, d.request_timeout, positive),
        bulk_max_docs=reader.optional("bulk_max_docs", int, d.bulk_max_docs, positive),
        bulk_max_bytes=reader.optional("bulk_max_bytes", int, d.bulk_max_bytes, _bulk_bytes),
        backoff_initial=reader.optional("backoff_initial", float, d.backoff_initial, positive),
        backoff_max=reader.optional("backoff_max", float, d.backoff_max, positive),
        setup=reader.optional("setup", str, d.setup, _setup_mode),
    )
    if cfg.backoff_initial and cfg.backoff_max and cfg.backoff_max < cfg.backoff_initial:
        reader.problem((*reader.path, "backoff_max"), "must be at least backoff_initial")
    reader.done()
    return cfg


def _secret(reader: Reader, base: Path, name: str) -> str | None:
    file_key, env_key = f"{name}_file", f"{name}_env"
    from_file = reader.optional(file_key, str, None)
    from_env = reader.optional(env_key, str, None)
    if from_file is not None and from_env is not None:
        reader.problem((*reader.path, env_key), f"set only one of {file_key} and {env_key}")
        return None
    if from_file is not None:
        return _read_secret_file(reader, base, file_key, from_file)
    if from_env is not None:
        value = os.environ.get(from_env, "").strip()
        if not value:
            reader.problem((*reader.path, env_key), f"environment variable {from_env} is not set or empty")
            return None
        return value
    return None


def _read_secret_file(reader: Reader, base: Path, key: str, value: str) -> str | None:
    if _CREDENTIALS.search(value):  # systemd's LoadCredential= directory, known only at run time
        credentials = os.environ.get("CREDENTIALS_DIRECTORY")
        if not credentials:
            reader.problem(
                (*reader.path, key),
                f"{value} uses $CREDENTIALS_DIRECTORY, which is not set: run under the systemd unit "
                "(LoadCredential=) or export CREDENTIALS_DIRECTORY",
            )
            return None
        value = _CREDENTIALS.sub(lambda _m: credentials, value)
    path = Path(value).expanduser()
    path = path if path.is_absolute() else base / path
    try:
        text = path.read_text(encoding="utf-8").strip()
        mode = path.stat().st_mode
    except OSError as exc:
        reader.problem((*reader.path, key), f"cannot read secret file {path}: {exc.strerror or exc}")
        return None
    except UnicodeDecodeError:
        reader.problem((*reader.path, key), f"secret file {path} is not UTF-8 text")
        return None
    if not text:
        reader.problem((*reader.path, key), f"secret file {path} is empty")
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("secret_file_readable_by_others", path=str(path), mode=oct(mode & 0o777))
    return text


def _host_problem(host: str) -> str:
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{host!r} is not an http(s) URL such as https://es1:9200"
    if parts.username or parts.password:
        return "credentials must not be written into the host URL; use username and password_file"
    return ""


def _existing_file(base: Path) -> Callable[[str], str]:
    def convert(value: str) -> str:
        path = Path(value).expanduser()
        path = path if path.is_absolute() else base / path
        if not path.is_file():
            raise ValueError(f"file {path} does not exist")
        return str(path)

    return convert


def _fingerprint(value: str) -> str:
    if not _FINGERPRINT.fullmatch(value):
        raise ValueError("must be a SHA-256 fingerprint: 64 hex digits, colons allowed")
    return value


def _index_prefix(value: str) -> str:
    if not _INDEX_PREFIX.fullmatch(value):
        raise ValueError(
            "must be lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return value


def _setup_mode(value: str) -> str:
    if value not in ("verify", "auto"):
        raise ValueError("must be 'verify' (refuse to start without `auditwatch setup`) or 'auto'")
    return value


def _bulk_bytes(value: int) -> int:
    if not 1024 <= value <= _MAX_BULK_BYTES:
        raise ValueError(f"must be between 1024 and {_MAX_BULK_BYTES} bytes")
    return value
