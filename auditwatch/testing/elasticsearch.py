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

import argparse
import atexit
import base64
import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Protocol

from elasticsearch import Elasticsearch

from auditwatch.config.yamlsource import load_yaml_text
from auditwatch.errors import AuditwatchError
from auditwatch.testing import _proc, _security
from auditwatch.testing._dist import (
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
    "main",
]

SUPERUSER: Final = "auditwatch-admin"
_CLUSTER: Final = "auditwatch-test"
_STATE: Final = "state.json"
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
        saved = self._read_state()
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
            self._poll(
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
            self._poll(lambda: token in json.dumps(self._request(privileges)), timeout, "roles.yml reload")

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
            self._port = _free_port()
        if self._transport_port is None:
            self._transport_port = _free_port(avoid=self._port)
        settings: dict[str, Any] = {
            "cluster.name": _CLUSTER,
            "node.name": "auditwatch-node",
            "discovery.type": "single-node",
            "network.host": "127.0.0.1",
            "http.port": self._port,
            "transport.port": self._transport_port,
            "path.data": str(self._dir / "data"),
            "path.logs": str(self._dir / "logs"),
            "cluster.routing.allocation.disk.threshold_enabled": False,
            "action.destructive_requires_name": False,
            "resource.reload.interval.high": "1s",  # file users and roles are picked up within ~1 s
            "xpack.security.enabled": self._security,
        }
        if self._security:
            settings |= {
                "xpack.license.self_generated.type": "trial",
                "xpack.security.http.ssl.enabled": True,
                "xpack.security.http.ssl.key": _security.NODE_KEY,
                "xpack.security.http.ssl.certificate": _security.NODE_CERT,
                "xpack.security.http.ssl.certificate_authorities": [_security.CA_CERT],
            }
        settings |= self._extra_settings
        # JSON is valid YAML and quotes every path safely
        lines = [f"{key}: {json.dumps(value)}" for key, value in settings.items()]
        _write_readable(self._config / "elasticsearch.yml", "\n".join(lines) + "\n")
        _localise_jvm_options(self._config / "jvm.options", self._dir / "logs")
        _write_readable(
            self._config / "jvm.options.d" / "auditwatch-heap.options",
            f"-Xms{self._heap}\n-Xmx{self._heap}\n",
        )

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
        headers = {}
        credentials = auth or self.superuser
        if credentials:
            token = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        context = ssl.create_default_context(cafile=str(self.ca_certs)) if self._security else None
        request = urllib.request.Request(self.url + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=5, context=context) as response:
                body: dict[str, Any] = json.load(response)
                return body
        except (OSError, ValueError):  # URLError, HTTPError, resets, half-written JSON
            return None

    def _poll(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() >= deadline:
                raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
            time.sleep(0.2)

    def _log_tail(self, lines: int = 40) -> str:
        parts = []
        for log in (self._dir / "logs" / "console.log", self._dir / "logs" / f"{_CLUSTER}.log"):
            with contextlib.suppress(OSError):
                tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
                parts.append(f"--- {log} (last {len(tail)} lines) ---\n" + "\n".join(tail))
        return "\n".join(parts) or f"(no logs under {self._dir / 'logs'})"

    def _read_state(self) -> dict[str, Any]:
        try:
            state: dict[str, Any] = json.loads((self._dir / _STATE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return state

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
        path = self._dir / _STATE
        staging = path.with_suffix(".tmp")
        staging.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
        staging.chmod(0o600)  # holds the superuser password
        staging.replace(path)


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


def _write_readable(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o644)


def _localise_jvm_options(path: Path, logs: Path) -> None:
    """Point GC logs, error files and heap dumps into the instance's logs dir.

    The shipped paths are relative to a working directory that differs between versions (8.19:
    the launcher's; 9.0: the home, which the Elasticsearch user cannot write to).
    """
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"file=[^:\s]*gc\.log", lambda _: f"file={logs}/gc.log", text)
    text = re.sub(r"-XX:ErrorFile=\S+", lambda _: f"-XX:ErrorFile={logs}/hs_err_pid%p.log", text)
    text = re.sub(r"-XX:HeapDumpPath=\S+", lambda _: f"-XX:HeapDumpPath={logs}", text)
    path.write_text(text, encoding="utf-8")


def _free_port(avoid: int | None = None) -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
        if port != avoid:
            return port


_LIVE: set[LocalElasticsearch] = set()


@atexit.register
def _stop_leftovers() -> None:
    """Never leave an Elasticsearch running after the Python process that started it exits."""
    for server in list(_LIVE):
        server.close()


# -- command line ---------------------------------------------------------------------------


def _cli_stop(directory: Path) -> int:
    state = _read_state_file(directory)
    pid = state.get("pid")
    if isinstance(pid, int) and _proc.group_alive(pid):
        _proc.stop_group(pid, None, 30.0)
        print(f"stopped Elasticsearch (pid {pid})")
    else:
        print("not running")
    return 0


def _cli_status(directory: Path) -> int:
    state = _read_state_file(directory)
    pid = state.get("pid")
    alive = isinstance(pid, int) and _proc.group_alive(pid)
    print(json.dumps({**state, "password": None, "running": alive}, indent=2))
    return 0 if alive else 3


def _read_state_file(directory: Path) -> dict[str, Any]:
    try:
        state: dict[str, Any] = json.loads((directory / _STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m auditwatch.testing.elasticsearch")
    commands = parser.add_subparsers(dest="command", required=True)
    ensure = commands.add_parser("ensure", help="fetch the distribution and find (or install) a JDK")
    ensure.add_argument("--version", default=None)
    start = commands.add_parser("start", help="start detached, write DIR/state.json, print the url")
    start.add_argument("--dir", type=Path, required=True)
    start.add_argument("--port", type=int, default=None)
    start.add_argument("--security", action="store_true")
    start.add_argument("--heap", default="1g")
    start.add_argument("--version", default=None)
    for name in ("stop", "status"):
        commands.add_parser(name).add_argument("--dir", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "ensure":
            home = ensure_distribution(args.version)
            print(f"elasticsearch: {home}\njava: {find_java(args.version)}")
            return 0
        if args.command == "start":
            state = _read_state_file(args.dir)
            if isinstance(state.get("pid"), int) and _proc.group_alive(state["pid"]):
                print(state["url"])  # already running from an earlier `start`
                return 0
            args.dir.mkdir(parents=True, exist_ok=True)
            server = LocalElasticsearch(
                args.dir, version=args.version, port=args.port, security=args.security, heap=args.heap
            )
            server.start()
            server.detach()
            print(server.url)
            return 0
        if args.command == "stop":
            return _cli_stop(args.dir)
        return _cli_status(args.dir)
    except (DistributionError, StartError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
