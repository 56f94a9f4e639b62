"""Helpers for fault tests on real daemon processes (the suite's and `deploy/dev/soak.sh`'s):
point a config at a dead port or through a proxy that can be cut, freeze Elasticsearch, time a stop."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from auditwatch.testing.waiting import wait_until


def closed_port_url() -> str:
    """A loopback URL nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def set_es_url(config: Path, url: str) -> str:
    """Point `config` at `url`; returns the URL it had."""
    text = config.read_text()
    match = re.search(r'hosts: \["([^"]+)"\]', text)
    assert match is not None
    config.write_text(text.replace(match.group(0), f'hosts: ["{url}"]'))
    return match.group(1)


def set_pipeline(config: Path, **values: object) -> None:
    """Add keys to the `pipeline:` section of a config written by `write_config`."""
    extra = "".join(f"  {key}: {value}\n" for key, value in values.items())
    config.write_text(config.read_text().replace("pipeline:\n", "pipeline:\n" + extra, 1))


def stop_and_time(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, limit: float = 120.0) -> float:
    """Send `sig` and wait for the process to exit; seconds it took."""
    started = time.monotonic()
    proc.send_signal(sig)
    proc.wait(timeout=limit)
    return time.monotonic() - started


def wait_for_log(path: Path, needle: str, timeout: float = 60.0) -> None:
    """Until `needle` appears in the log at `path`."""
    wait_until(
        lambda: path.exists() and needle in path.read_text(errors="replace"),
        timeout,
        interval=0.2,
        what=f"{needle!r} in {path}",
    )


@contextlib.contextmanager
def frozen(pid: int | None) -> Iterator[None]:
    """SIGSTOP the process group led by `pid` (a local Elasticsearch) for the block, then SIGCONT:
    connections are accepted by the kernel but nothing answers, as with a hung node."""
    if pid is None:
        raise RuntimeError("freezing needs a local Elasticsearch process")
    os.killpg(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(pid, signal.SIGCONT)


class TcpProxy:
    """A TCP forwarder in front of Elasticsearch that a test can cut (connection refused: the port
    is closed and open connections are reset) and restore on the same port: an outage of a real
    cluster without stopping it."""

    def __init__(self, target_url: str) -> None:
        match = re.match(r"https?://([^:/]+):(\d+)", target_url)
        if match is None:
            raise ValueError(f"not a host:port URL: {target_url}")
        self._target = (match.group(1), int(match.group(2)))
        self._scheme = target_url.split("://", 1)[0]
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.port = 0
        self.restore()

    @property
    def url(self) -> str:
        return f"{self._scheme}://127.0.0.1:{self.port}"

    def restore(self) -> None:
        """Listen (again, on the same port) and forward every connection to the target."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Close the port and reset every open connection."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            connections, self._connections = self._connections, set()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    def close(self) -> None:
        self.cut()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self._target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._connections.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
