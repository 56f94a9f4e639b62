"""Helpers for fault tests on real daemon processes (the suite's and `deploy/dev/soak.sh`'s):
point a config at a dead port, freeze Elasticsearch, time a stop."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path


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
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and needle in path.read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} never appeared in {path}")


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
