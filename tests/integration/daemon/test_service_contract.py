"""The daemon as systemd sees it (sd_notify over a real socket) and its start-up contract with the cluster."""

from __future__ import annotations

import itertools
import json
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from auditwatch.config.daemon import load_config
from auditwatch.daemon import Daemon
from auditwatch.pipeline import Pipeline
from auditwatch.service.sdnotify import Notifier


def _line(n: int) -> str:
    return json.dumps({"ts": f"2026-11-25T10:00:{n % 60:02d}Z", "user": "MP000001", "seq": f"{n:08d}"}) + "\n"


class _Systemd:
    """The receiving end of NOTIFY_SOCKET; keeps every message with the time it arrived."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.messages: list[tuple[float, dict[str, str]]] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._done.is_set():
            try:
                data = self.sock.recv(65536).decode()
            except TimeoutError:
                continue
            except OSError:
                return
            self.messages.append((time.monotonic(), dict(x.split("=", 1) for x in data.splitlines())))

    def has(self, key: str) -> bool:
        return any(key in m for _, m in self.messages)

    def times(self, key: str) -> list[float]:
        return [t for t, m in self.messages if key in m]

    def close(self) -> None:
        self._done.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def systemd(tmp_path: Path):
    s = _Systemd(tmp_path / "notify.sock")
    yield s
    s.close()


def test_notify_ready_watchdog_reload_and_stopping(daemon_setup, systemd, wait_until):
    """READY when running, WATCHDOG inside its interval, RELOADING + READY on SIGHUP, STOPPING at the end."""
    (daemon_setup.logs / "audit.log").write_text("".join(_line(n) for n in range(20)))
    env = {"NOTIFY_SOCKET": systemd.path, "WATCHDOG_USEC": "2000000"}
    with open(daemon_setup.root / "daemon.log", "ab") as log:
        proc = subprocess.Popen(
            daemon_setup.command("run"), stdout=subprocess.DEVNULL, stderr=log, env={**_base_env(), **env}
        )
    try:
        wait_until(lambda: systemd.has("READY"))
        time.sleep(4.5)  # on purpose: watch the pings for 4.5 s (over two 2 s watchdog intervals)
        pings = systemd.times("WATCHDOG")
        assert len(pings) >= 3, systemd.messages
        gaps = [b - a for a, b in itertools.pairwise(pings)]
        assert max(gaps) < 2.0  # always inside the interval systemd asked for
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: systemd.has("RELOADING"))
        reloading = next(m for _, m in systemd.messages if "RELOADING" in m)
        assert int(reloading["MONOTONIC_USEC"]) > 0
        wait_until(lambda: len(systemd.times("READY")) >= 2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert proc.returncode == 0
    assert systemd.has("STOPPING")
    ready = next(m for _, m in systemd.messages if "READY" in m)
    assert "files" in ready["STATUS"]


def _base_env() -> dict[str, str]:
    import os

    return {
        k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")
    }


def test_watchdog_stops_when_the_pipeline_is_blocked(daemon_setup, systemd, wait_until, monkeypatch):
    """A main loop stuck inside a batch stops the WATCHDOG pings (so systemd would restart the service)."""
    release = threading.Event()
    entered = threading.Event()
    original = Pipeline.process

    def stuck(self, raws, *args, **kwargs):
        entered.set()
        release.wait(60)
        return original(self, raws, *args, **kwargs)

    monkeypatch.setattr(Pipeline, "process", stuck)
    config = load_config(daemon_setup.config)
    stop = threading.Event()
    daemon = Daemon(
        config, stop=stop, notifier=Notifier({"NOTIFY_SOCKET": systemd.path, "WATCHDOG_USEC": "1000000"})
    )
    runner = threading.Thread(target=daemon.run, daemon=True)
    runner.start()
    try:
        wait_until(lambda: systemd.has("READY"))
        wait_until(lambda: len(systemd.times("WATCHDOG")) >= 2)
        (daemon_setup.logs / "audit.log").write_text(_line(1))
        assert entered.wait(30)
        blocked_at = time.monotonic()
        time.sleep(3.0)  # on purpose: three 1 s watchdog intervals in which no ping may come
        late = [t for t in systemd.times("WATCHDOG") if t > blocked_at + 1.0]
        assert late == [], "the watchdog kept pinging while the pipeline was blocked"
        release.set()
        wait_until(lambda: any(t > blocked_at + 3.0 for t in systemd.times("WATCHDOG")))
    finally:
        release.set()
        stop.set()
        runner.join(60)
    assert not runner.is_alive()


def _indices(client, prefix: str) -> list[str]:
    return sorted(client.indices.get(index=f"{prefix}*", expand_wildcards="all"))


def test_run_without_setup_refuses_and_writes_nothing(bare_daemon_setup, es_client, index_prefix, tmp_path):
    """No templates: `run` exits 2 naming `auditwatch setup`; no index appears (none mapped dynamically)."""
    config = bare_daemon_setup.config
    (tmp_path / "logs" / "audit.log").write_text(_line(1))
    done = _aw("run", "--until-idle", "--config", str(config))
    assert done.returncode == 2, done.stderr
    assert "auditwatch setup" in done.stderr
    assert "Traceback" not in done.stderr
    assert _indices(es_client, index_prefix) == []


def test_setup_auto_installs_templates_and_indexes_strictly(
    bare_daemon_setup, es_client, index_prefix, tmp_path
):
    """`elasticsearch.setup: auto`: the daemon installs what is missing, and the events index is strict."""
    config = bare_daemon_setup.config
    config.write_text(config.read_text().replace("  backoff_max: 2\n", "  backoff_max: 2\n  setup: auto\n"))
    (tmp_path / "logs" / "audit.log").write_text(_line(1))
    done = _aw("run", "--until-idle", "--config", str(config))
    assert done.returncode == 0, done.stderr
    mapping = es_client.indices.get_mapping(index=f"{index_prefix}-events-*")
    assert [m["mappings"]["dynamic"] for m in mapping.values()] == ["strict"]


def test_setup_explains_an_index_created_without_the_templates(bare_daemon_setup, es_client, index_prefix):
    """An alerts index auto-created by a stray write: `setup` and `run` explain the fix, no traceback."""
    config = bare_daemon_setup.config
    es_client.index(index=f"{index_prefix}-alerts", document={"rule": {"id": "x"}}, refresh=True)
    for verb in (["setup"], ["run", "--until-idle"]):
        done = _aw(*verb, "--config", str(config))
        assert done.returncode == 2, done.stderr
        assert f"index {index_prefix}-alerts was not created from auditwatch's templates" in done.stderr
        assert "Traceback" not in done.stderr


def test_unreachable_cluster_gives_one_line_and_exit_3(bare_daemon_setup):
    """`setup` against a closed port: one line naming the cause, exit 3 (runtime), no traceback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = bare_daemon_setup.config
    config.write_text(config.read_text().replace(bare_daemon_setup_url(config), f"http://127.0.0.1:{port}"))
    done = _aw("setup", "--config", str(config))
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Elasticsearch" in done.stderr


def bare_daemon_setup_url(config: Path) -> str:
    line = next(x for x in config.read_text().splitlines() if "hosts:" in x)
    return line.split('"')[1]


def _aw(*args: str) -> subprocess.CompletedProcess[str]:
    import sys

    command = [sys.executable, "-m", "auditwatch", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
