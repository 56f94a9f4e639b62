"""One node's files and probes: elasticsearch.yml and the JVM options, the state file, the log
tails shown when start-up fails, and the JSON GETs the harness polls until a condition holds."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import socket
import ssl
import time
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from auditwatch.testing.elasticsearch import _security

CLUSTER: Final = "auditwatch-test"
_STATE: Final = "state.json"


def settings(
    directory: Path, *, port: int, transport_port: int, security: bool, extra: Mapping[str, object]
) -> dict[str, Any]:
    """elasticsearch.yml for a single loopback node keeping data and logs under `directory`."""
    values: dict[str, Any] = {
        "cluster.name": CLUSTER,
        "node.name": "auditwatch-node",
        "discovery.type": "single-node",
        "network.host": "127.0.0.1",
        "http.port": port,
        "transport.port": transport_port,
        "path.data": str(directory / "data"),
        "path.logs": str(directory / "logs"),
        "cluster.routing.allocation.disk.threshold_enabled": False,
        "action.destructive_requires_name": False,
        "resource.reload.interval.high": "1s",  # file users and roles are picked up within ~1 s
        "xpack.security.enabled": security,
    }
    if security:
        values |= {
            "xpack.license.self_generated.type": "trial",
            "xpack.security.http.ssl.enabled": True,
            "xpack.security.http.ssl.key": _security.NODE_KEY,
            "xpack.security.http.ssl.certificate": _security.NODE_CERT,
            "xpack.security.http.ssl.certificate_authorities": [_security.CA_CERT],
        }
    return values | dict(extra)


def write_config(config: Path, logs: Path, values: Mapping[str, Any], heap: str) -> None:
    """Write elasticsearch.yml, point the JVM's own files into `logs` and set the heap."""
    # JSON is valid YAML and quotes every path safely
    lines = [f"{key}: {json.dumps(value)}" for key, value in values.items()]
    _write_readable(config / "elasticsearch.yml", "\n".join(lines) + "\n")
    _localise_jvm_options(config / "jvm.options", logs)
    _write_readable(config / "jvm.options.d" / "auditwatch-heap.options", f"-Xms{heap}\n-Xmx{heap}\n")


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


def free_port(avoid: int | None = None) -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
        if port != avoid:
            return port


def read_state(directory: Path) -> dict[str, Any]:
    """DIR/state.json as written by `write_state`; empty when missing or unreadable."""
    try:
        state: dict[str, Any] = json.loads((directory / _STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state


def write_state(directory: Path, state: Mapping[str, Any]) -> None:
    path = directory / _STATE
    staging = path.with_suffix(".tmp")
    staging.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    staging.chmod(0o600)  # holds the superuser password
    staging.replace(path)


def log_tail(logs: Path, lines: int = 40) -> str:
    parts = []
    for log in (logs / "console.log", logs / f"{CLUSTER}.log"):
        with contextlib.suppress(OSError):
            tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
            parts.append(f"--- {log} (last {len(tail)} lines) ---\n" + "\n".join(tail))
    return "\n".join(parts) or f"(no logs under {logs})"


def get_json(url: str, credentials: tuple[str, str] | None, ca_certs: Path | None) -> dict[str, Any] | None:
    """GET `url` as JSON; None on any connection or HTTP error (callers poll)."""
    headers = {}
    if credentials:
        token = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    context = ssl.create_default_context(cafile=str(ca_certs)) if ca_certs is not None else None
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5, context=context) as response:
            body: dict[str, Any] = json.load(response)
            return body
    except (OSError, ValueError):  # URLError, HTTPError, resets, half-written JSON
        return None


def poll(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Return once `check()` holds; TimeoutError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)
