"""systemd's notify protocol (sd_notify): readiness, status, reload and stop, and a watchdog.

`Notifier` sends datagrams to `$NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace); without
the variable every call is a no-op, so the daemon speaks it unconditionally. `Watchdog` pings
`WATCHDOG=1` at half the interval systemd asked for (`$WATCHDOG_USEC`), but only while every liveness
probe has ticked within that interval: a wedged thread stops the pings and systemd restarts the service.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence

import structlog

log = structlog.get_logger(__name__)

Clock = Callable[[], float]


class Notifier:
    """Sends sd_notify messages; a no-op unless systemd (or a test) set `NOTIFY_SOCKET`."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        self._address = "\0" + address[1:] if address.startswith("@") else address
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        if self._address:
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        wanted = usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid()))
        self.watchdog_interval: float | None = int(usec) / 1e6 if wanted else None

    @property
    def enabled(self) -> bool:
        return self._socket is not None

    def send(self, **fields: str | int) -> bool:
        """Send `KEY=value` lines (keys upper-cased); False when not under systemd or the send failed."""
        if self._socket is None:
            return False
        message = "\n".join(f"{key.upper()}={value}" for key, value in fields.items()).encode()
        try:
            with self._lock:
                self._socket.sendto(message, self._address)
        except OSError as exc:  # systemd gone or the socket full: never fatal for the daemon
            log.warning("sd_notify_failed", reason=exc.strerror or str(exc))
            return False
        return True

    def ready(self, status: str) -> None:
        self.send(ready=1, status=status)

    def status(self, text: str) -> None:
        self.send(status=text)

    def reloading(self) -> None:
        self.send(reloading=1, monotonic_usec=time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)

    def reloaded(self, status: str) -> None:
        self.send(ready=1, status=status)

    def stopping(self) -> None:
        self.send(stopping=1, status="stopping")

    def extend_timeout(self, seconds: float, status: str) -> None:
        self.send(extend_timeout_usec=int(seconds * 1e6), status=status)

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


class Liveness:
    """A thread's last sign of life; `tick()` is one attribute store, cheap enough for any loop."""

    __slots__ = ("_clock", "last", "name")

    def __init__(self, name: str, clock: Clock = time.monotonic) -> None:
        self.name = name
        self._clock = clock
        self.last = clock()

    def tick(self) -> None:
        self.last = self._clock()

    def age(self) -> float:
        return self._clock() - self.last


class Watchdog:
    """Pings `WATCHDOG=1` every `interval / 2` while every probe is younger than `interval`."""

    def __init__(
        self,
        notifier: Notifier,
        interval: float,
        probes: Sequence[Liveness],
        *,
        clock: Clock = time.monotonic,
    ) -> None:
        self._notifier = notifier
        self.interval = interval
        self._probes = tuple(probes)
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.stalled: str | None = None  # the probe that stopped the pings, for the log and tests

    def check(self) -> bool:
        """One round: ping if every probe is alive; returns whether it pinged."""
        for probe in self._probes:
            if probe.age() >= self.interval:
                if self.stalled != probe.name:
                    log.error("watchdog_stalled", thread=probe.name, silent_s=round(probe.age(), 1))
                self.stalled = probe.name
                return False
        self.stalled = None
        return self._notifier.send(watchdog=1)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="auditwatch-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval / 2):
            self.check()
