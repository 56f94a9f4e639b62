"""A log producer for delivery tests and soaks: numbered lines at a steady rate, with rotation.

It rotates the way logrotate does: `rename` (audit.log -> audit.log.1, older files shifted up, a new
audit.log created) or `copytruncate` (audit.log copied to audit.log.1, then truncated in place).
Rotated files are kept, so a reader that was stopped may still finish them.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

Rotation = Literal["rename", "copytruncate"]


class NumberedLogWriter:
    """Writes `{"ts":...,"user":...,"seq":"00000001"}` lines; thread-safe start/stop."""

    def __init__(
        self, path: Path, *, rotate_every: int = 0, rotations: tuple[Rotation, ...] = ("rename",)
    ) -> None:
        self.path = path
        self.rotate_every = rotate_every
        self.rotations = rotations
        self.written = 0
        self.rotated = 0
        self._fd = self._open()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, count: int) -> None:
        """Write `count` lines now (rotating whenever `rotate_every` lines were written)."""
        ts = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        lines = []
        for _ in range(count):
            self.written += 1
            n = self.written
            lines.append(f'{{"ts":"{ts}","user":"MP{n % 997:06d}","seq":"{n:08d}"}}\n')
            if self.rotate_every and n % self.rotate_every == 0:
                os.write(self._fd, "".join(lines).encode())
                lines = []
                self._rotate()
        if lines:
            os.write(self._fd, "".join(lines).encode())

    def _rotate(self) -> None:
        kind = self.rotations[self.rotated % len(self.rotations)]
        self.rotated += 1
        existing = sorted(
            (int(p.name.rsplit(".", 1)[1]) for p in self.path.parent.glob(self.path.name + ".*")),
            reverse=True,
        )
        for k in existing:
            os.rename(f"{self.path}.{k}", f"{self.path}.{k + 1}")
        if kind == "rename":
            os.close(self._fd)
            os.rename(self.path, f"{self.path}.1")
            self._fd = self._open()
        else:
            shutil.copyfile(self.path, f"{self.path}.1")
            os.ftruncate(self._fd, 0)

    def start(self, lines_per_second: int, chunk: int = 50) -> None:
        """Write in the background at about `lines_per_second` until `stop()`."""

        def loop() -> None:
            interval = chunk / lines_per_second
            next_at = time.monotonic()
            while not self._stop.is_set():
                self.write(chunk)
                next_at += interval
                delay = next_at - time.monotonic()
                if delay > 0:
                    self._stop.wait(delay)

        self._thread = threading.Thread(target=loop, name="numbered-log-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def close(self) -> None:
        self.stop()
        os.close(self._fd)
