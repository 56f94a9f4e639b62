"""A real, local Elasticsearch for tests, demos and benchmarks (think pytest-elasticsearch).

    es = LocalElasticsearch(security=True)
    es.start()                      # free loopback port, waits for health yellow/green
    es.client().index(...)          # configured elasticsearch.Elasticsearch (CA + superuser)
    es.stop(); es.start()           # same port, same data
    es.stop()

Command line (used by the demo and the benchmarks):

    python -m auditwatch.testing.elasticsearch ensure
    python -m auditwatch.testing.elasticsearch start --dir DIR [--port N] [--security] [--heap 1g]
    python -m auditwatch.testing.elasticsearch status --dir DIR
    python -m auditwatch.testing.elasticsearch stop --dir DIR
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Protocol

from elasticsearch import Elasticsearch

from auditwatch.config.yamlsource import load_yaml_text
from auditwatch.errors import AuditwatchError
from auditwatch.testing.elasticsearch import _node, _proc, _security
from auditwatch.testing.elasticsearch._dist import (
    DEFAULT_VERSION,
    DistributionError,
    cache_dir,
    default_version,
    ensure_distribution,
    find_java,
)

__all__ = [
    "DEFAULT_VERSION",
    "DistributionError",
    "ElasticsearchServer",
    "ExternalElasticsearch",
    "LocalElasticsearch",
    "StartError",
    "delete_prefixed",
    "ensure_distribution",
    "find_java",
]

SUPERUSER: Final = "auditwatch-admin"
_MARKER_ROLE: Final = "auditwatch_reload_marker"


class StartError(AuditwatchError, RuntimeError):
    """Elasticsearch did not become healthy; the message ends with the tail of its logs."""


class ElasticsearchServer(Protocol):
    """What tests need from a cluster, whether started here or already running."""

    @property
    def url(self) -> str: ...

    @property
    def version(self) -> str: ...

    def client(self, **kwargs: Any) -> Elasticsearch: ...


@dataclass(frozen=True)
class ExternalElasticsearch:
    """An already running cluster (the "noproc" variant), e.g. from env AUDITWATCH_ES_URL."""

    url: str
    version: str
    ca_certs: str | None = None

    @classmethod
    def from_env(cls) -> ExternalElasticsearch | None:
        """From AUDITWATCH_ES_URL (credentials may be in the URL) and AUDITWATCH_ES_CA_CERTS."""
        url = os.environ.get("AUDITWATCH_ES_URL")
        if not url:
            return None
        return cls(url.rstrip("/"), default_version(), os.environ.get("AUDITWATCH_ES_CA_CERTS") or None)

    def client(self, **kwargs: Any) -> Elasticsearch:
        options: dict[str, Any] = {"request_timeout": 30}
        if self.ca_certs:
            options["ca_certs"] = self.ca_certs
        return Elasticsearch(self.url, **{**options, **kwargs})


class LocalElasticsearch:
    """One single-node Elasticsearch on loopback with its own config, data and log dirs.

    `directory` holds everything (config/, data/, logs/, state.json); a temporary one is made and
    removed when not given. Ports are chosen on first start and kept for later starts.
    """

    def __init__(
        self,
        directory: Path | str | None = None,
        *,
        version: str | None = None,
        port: int | None = None,
        security: bool = False,
        heap: str = "1g",
        startup_timeout: float = 120.0,
        settings: Mapping[str, object] | None = None,
    ) -> None:
        self._version = version or default_version()
        self._extra_settings = dict(settings or {})  # e.g. {"http.max_content_length": "1mb"} for 413s
        self._owns_dir = directory is None
        self._dir = Path(directory or tempfile.mkdtemp(prefix="auditwatch-es-")).absolute()
        self._security = security
        self._heap = heap
        self._startup_timeout = startup_timeout
        saved = _node.read_state(self._dir)
        self._port: int | None = port or saved.get("port")
        self._transport_port: int | None = saved.get("transport_port")
        self._password: str = saved.get("password") or secrets.token_urlsafe(18)
        self._password_known = bool(saved.get("password"))  # else (re)create the superuser
        self._process: subprocess.Popen[bytes] | None = None
        self._home: Path | None = None
        self._java: Path | None = None
        self._roles_revision = 0

    # -- properties -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._port is None:
            raise RuntimeError("Elasticsearch has not been started yet")
        return f"{'https' if self._security else 'http'}://127.0.0.1:{self._port}"

    @property
    def port(self) -> int | None:
        return self._port

    @property
    def version(self) -> str:
        return self._version

    @property
    def pid(self) -> int | None:
        """Pid of the launched process group leader while running (the group holds the JVMs)."""
        return self._process.pid if self.running and self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def directory(self) -> Path:
        return self._dir

    @property
    def ca_certs(self) -> Path | None:
        return self._config / _security.CA_CERT if self._security else None

    @property
    def superuser(self) -> tuple[str, str] | None:
        """(name, password) of the file-realm superuser the harness uses, when security is on."""
        return (SUPERUSER, self._password) if self._security else None

    @property
    def _config(self) -> Path:
        return self._dir / "config"

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Start Elasticsearch (no-op when running) and wait until its health is yellow or green."""
        if self.running:
            return
        self._java = find_java(self._version)
        self._prepare()
        self._write_settings()
        logs = self._dir / "logs"
        with (logs / "console.log").open("ab") as console:
            self._process = subprocess.Popen(
                _proc.command([str(self._es_home / "bin" / "elasticsearch"), "-q"], self._env()),
                cwd=logs,  # writable by the Elasticsearch user, whatever a JVM writes relative to it
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: stop() signals every JVM in it
            )
        _LIVE.add(self)
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        self._write_state()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop Elasticsearch (SIGTERM to the group, SIGKILL after `timeout`); data and port stay."""
        _LIVE.discard(self)
        if self._process is not None:
            _proc.stop_group(self._process.pid, self._process, timeout)
            self._process = None
            self._write_state()

    pause = stop
    resume = start

    def close(self) -> None:
        """Stop, and remove the directory when it was a temporary one made here."""
        self.stop()
        if self._owns_dir:
            shutil.rmtree(self._dir, ignore_errors=True)

    def detach(self) -> None:
        """Leave the process running after this Python process exits (the CLI's `start`)."""
        _LIVE.discard(self)

    def __enter__(self) -> LocalElasticsearch:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- clients and security -----------------------------------------------------------------

    def client(self, **kwargs: Any) -> Elasticsearch:
        """An `elasticsearch.Elasticsearch` for this node (CA and superuser when secured)."""
        options: dict[str, Any] = {"request_timeout": 30}
        if self._security:
            options["ca_certs"] = str(self.ca_certs)
            options["basic_auth"] = (SUPERUSER, self._password)
        return Elasticsearch(self.url, **{**options, **kwargs})

    def add_user(self, name: str, password: str, roles: Sequence[str], timeout: float = 30.0) -> None:
        """Add a file-realm user; when running, return once it can authenticate."""
        self._require_security()
        self._prepare()
        _security.add_user(
            self._es_home, self._config, self._env(), name=name, password=password, roles=roles
        )
        if self.running:
            _node.poll(
                lambda: self._request("/_security/_authenticate", (name, password)) is not None,
                timeout,
                f"user {name} to be loaded",
            )

    def write_roles(self, text: str, timeout: float = 30.0) -> None:
        """Replace config/roles.yml with `text`; when running, return once it has been reloaded."""
        self._require_security()
        parsed = load_yaml_text(text, "roles.yml").data
        if parsed is not None and not isinstance(parsed, dict):
            raise ValueError("roles.yml must be a mapping of role name to role descriptor")
        self._prepare()
        token = self._write_roles_file(text)
        if self.running:
            privileges = "/_security/user/_privileges"
            _node.poll(lambda: token in json.dumps(self._request(privileges)), timeout, "roles.yml reload")

    def _write_roles_file(self, text: str) -> str:
        # The harness superuser also holds a marker role naming a fresh index on every write; its
        # privileges show that name once Elasticsearch has loaded this very file.
        token = f"auditwatch-reload-{secrets.token_hex(8)}"
        marker = f'{_MARKER_ROLE}:\n  indices:\n    - names: ["{token}"]\n      privileges: ["read"]\n'
        target = self._config / "roles.yml"
        staging = target.with_suffix(".tmp")
        staging.write_text(f"{text.rstrip()}\n{marker}", encoding="utf-8")
        staging.chmod(0o644)
        staging.replace(target)
        return token

    def _require_security(self) -> None:
        if not self._security:
            raise RuntimeError("users and roles need LocalElasticsearch(security=True)")

    # -- internals ----------------------------------------------------------------------------

    @property
    def _es_home(self) -> Path:
        """The cached home, or when root and it is unreachable (~root), a hard-linked copy."""
        if self._home is None:
            home = ensure_distribution(self._version)
            if _proc.running_as_root() and not _proc.reachable(home):
                copy = self._dir / "home"
                if not (copy / "bin" / "elasticsearch").is_file():
                    _proc.link_tree(home, copy)
                home = copy
            self._home = home
        return self._home

    def _env(self) -> dict[str, str]:
        if self._java is None:
            self._java = find_java(self._version)
        return {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "ES_JAVA_HOME": str(self._java),
            "ES_PATH_CONF": str(self._config),
            "ES_TMPDIR": str(self._dir / "tmp"),
        }

    def _prepare(self) -> None:
        """Create the instance layout once: config copy, dirs, ownership, certificates, superuser."""
        fresh = not (self._config / "jvm.options").is_file()
        if fresh:
            for name in ("data", "logs", "tmp"):
                (self._dir / name).mkdir(parents=True, exist_ok=True)
            shutil.copytree(self._es_home / "config", self._config, dirs_exist_ok=True)
            (self._config / "elasticsearch.yml").unlink(missing_ok=True)
            (self._config / _security.CERTS_DIR).mkdir(exist_ok=True)
            if _proc.running_as_root():
                _proc.check_reachable(self._dir.parent)  # the dir itself is chowned below
                uid, gid = _proc.ensure_es_user()
                os.chown(self._dir, uid, gid)
                for name in ("config", "data", "logs", "tmp"):  # not home/: its files are hard links
                    _proc.chown_tree(self._dir / name, uid, gid)
        if self._security:
            certs_cache = cache_dir() / f"tls-{self._version}"
            _security.make_certificates(self._es_home, self._config, self._env(), certs_cache)
            if not (self._password_known and _security.has_user(self._config, SUPERUSER)):
                self._write_roles_file("")
                roles = ["superuser", _MARKER_ROLE]
                _security.add_user(
                    self._es_home,
                    self._config,
                    self._env(),
                    name=SUPERUSER,
                    password=self._password,
                    roles=roles,
                )
                self._password_known = True

    def _write_settings(self) -> None:
        if self._port is None:
            self._port = _node.free_port()
        if self._transport_port is None:
            self._transport_port = _node.free_port(avoid=self._port)
        settings = _node.settings(
            self._dir,
            port=self._port,
            transport_port=self._transport_port,
            security=self._security,
            extra=self._extra_settings,
        )
        _node.write_config(self._config, self._dir / "logs", settings, self._heap)

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise StartError(f"Elasticsearch {self._version} exited during start-up\n{self._log_tail()}")
            health = self._request("/_cluster/health?wait_for_status=yellow&timeout=1s")
            if health and health.get("status") in ("yellow", "green"):
                return
            time.sleep(0.25)
        raise StartError(
            f"Elasticsearch {self._version} not healthy after {self._startup_timeout:.0f}s at "
            f"{self.url}\n{self._log_tail()}"
        )

    def _request(self, path: str, auth: tuple[str, str] | None = None) -> dict[str, Any] | None:
        """GET `path` as JSON; None on any connection or HTTP error (callers poll)."""
        return _node.get_json(self.url + path, auth or self.superuser, self.ca_certs)

    def _log_tail(self) -> str:
        return _node.log_tail(self._dir / "logs")

    def _write_state(self) -> None:
        state = {
            "url": self.url,
            "pid": self.pid,
            "port": self._port,
            "transport_port": self._transport_port,
            "version": self._version,
            "security": self._security,
            "ca_certs": str(self.ca_certs) if self.ca_certs else None,
            "username": SUPERUSER if self._security else None,
            "password": self._password if self._security else None,
            "directory": str(self._dir),
        }
        _node.write_state(self._dir, state)


def delete_prefixed(client: Elasticsearch, prefix: str) -> None:
    """Delete the indices, index templates and component templates whose names start with `prefix`.

    Names are resolved first and deleted explicitly, so this also works on clusters that keep
    `action.destructive_requires_name: true`.
    """
    pattern = f"{prefix}*"
    lenient = client.options(ignore_status=404)
    resolved = client.indices.resolve_index(name=pattern, expand_wildcards="all")
    indices = [entry["name"] for entry in resolved.get("indices", [])]
    if indices:
        lenient.indices.delete(index=indices)
    templates = lenient.indices.get_index_template(name=pattern).get("index_templates", [])
    if templates:  # before component templates, which cannot go while an index template uses them
        client.indices.delete_index_template(name=",".join(entry["name"] for entry in templates))
    components = lenient.cluster.get_component_template(name=pattern).get("component_templates", [])
    if components:
        client.cluster.delete_component_template(name=",".join(entry["name"] for entry in components))


_LIVE: set[LocalElasticsearch] = set()


@atexit.register
def _stop_leftovers() -> None:
    """Never leave an Elasticsearch running after the Python process that started it exits."""
    for server in list(_LIVE):
        server.close()
