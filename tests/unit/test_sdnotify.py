"""sd_notify over a real Unix datagram socket, and the watchdog's rule: ping only while every thread lives."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditwatch.service.sdnotify import Liveness, Notifier, Watchdog


class _Systemd:
    """The receiving end of NOTIFY_SOCKET, as systemd holds it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path if not path.startswith("@") else "\0" + path[1:])
        self.sock.settimeout(2.0)

    def receive(self) -> dict[str, str]:
        data = self.sock.recv(4096).decode()
        return dict(line.split("=", 1) for line in data.splitlines())

    def pending(self) -> list[dict[str, str]]:
        self.sock.setblocking(False)
        out = []
        try:
            while True:
                data = self.sock.recv(4096).decode()
                out.append(dict(line.split("=", 1) for line in data.splitlines()))
        except BlockingIOError:
            return out
        finally:
            self.sock.settimeout(2.0)


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[_Systemd]:
    s = _Systemd(str(tmp_path / "notify.sock"))
    yield s
    s.sock.close()


def test_messages_reach_the_socket(systemd: _Systemd) -> None:
    """READY, STATUS, RELOADING with MONOTONIC_USEC, STOPPING arrive as KEY=value datagrams."""
    n = Notifier({"NOTIFY_SOCKET": systemd.path})
    n.ready("3 files")
    assert systemd.receive() == {"READY": "1", "STATUS": "3 files"}
    n.reloading()
    got = systemd.receive()
    assert got["RELOADING"] == "1"
    assert int(got["MONOTONIC_USEC"]) > 0
    n.stopping()
    assert systemd.receive()["STOPPING"] == "1"
    n.close()


def test_abstract_namespace_socket(tmp_path: Path) -> None:
    """An `@name` NOTIFY_SOCKET is an abstract-namespace address."""
    name = f"@auditwatch-test-{os.getpid()}"
    s = _Systemd(name)
    try:
        Notifier({"NOTIFY_SOCKET": name}).status("hello")
        assert s.receive() == {"STATUS": "hello"}
    finally:
        s.sock.close()


def test_without_systemd_nothing_is_sent() -> None:
    """No NOTIFY_SOCKET: every call is a no-op and no watchdog interval is set."""
    n = Notifier({})
    assert not n.enabled
    assert n.send(ready=1) is False
    assert n.watchdog_interval is None


def test_watchdog_interval_only_for_this_process() -> None:
    """WATCHDOG_USEC applies when WATCHDOG_PID is unset or ours."""
    assert Notifier({"WATCHDOG_USEC": "4000000"}).watchdog_interval == 4.0
    assert Notifier({"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": str(os.getpid())}).watchdog_interval == 4.0
    assert Notifier({"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "1"}).watchdog_interval is None


def test_watchdog_pings_while_alive_and_stops_when_a_thread_stalls(systemd: _Systemd) -> None:
    """With a fake clock: pings while both probes tick; silence (and the stalled name) when one stops."""
    now = [100.0]

    def clock() -> float:
        return now[0]

    main, delivery = Liveness("main", clock), Liveness("delivery", clock)
    dog = Watchdog(Notifier({"NOTIFY_SOCKET": systemd.path}), 10.0, (main, delivery), clock=clock)
    for _ in range(3):
        now[0] += 5
        main.tick()
        delivery.tick()
        assert dog.check()
    assert [m["WATCHDOG"] for m in systemd.pending()] == ["1", "1", "1"]
    for _ in range(3):
        now[0] += 5
        main.tick()  # delivery is wedged
        dog.check()
    assert dog.stalled == "delivery"
    assert len(systemd.pending()) == 1  # the first round was still inside the interval
    delivery.tick()
    assert dog.check()
    assert dog.stalled is None
