"""Test helpers for code that uses the Tailer: an injected clock and a Tailer driven by it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from auditwatch.model import RawLine
from auditwatch.sources.config import InputConfig
from auditwatch.sources.tail import Tailer


@dataclass
class Clock:
    """A monotonic clock the test advances by hand."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def make_input(directory: Path, pattern: str = "audit.log*", **kw: Any) -> InputConfig:
    """An input following `pattern` in `directory`."""
    return replace(InputConfig(name="rms", paths=(str(directory / pattern),), exclude=(), parser="rms"), **kw)


@dataclass
class Harness:
    """A watchdog-free Tailer whose every `step` advances the clock by one poll interval."""

    inputs: list[InputConfig]
    clock: Clock = field(default_factory=Clock)
    offsets: dict[str, int] = field(default_factory=dict)
    first_start: bool = True
    tailer: Tailer | None = None

    def __post_init__(self) -> None:
        self.tailer = Tailer(
            self.inputs, self.offsets, first_start=self.first_start, clock=self.clock, use_watchdog=False
        )

    @property
    def t(self) -> Tailer:
        assert self.tailer is not None
        return self.tailer

    def step(self, advance: float = 1.0, **kw: Any) -> list[RawLine]:
        self.clock.now += advance
        return self.t.read(**kw)

    def drain(self, advance: float = 1.0, **kw: Any) -> list[RawLine]:
        """Read until nothing more comes (advancing the clock once before the first read)."""
        out = self.step(advance, **kw)
        while True:
            more = self.t.read(**kw)
            if not more:
                return out
            out += more

    def checkpoint(self, lines: list[RawLine]) -> dict[str, int]:
        """What the daemon would commit after all of `lines` were acknowledged."""
        offsets = dict(self.offsets)
        for line in lines:
            offsets[line.file_key] = line.end
        return offsets


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


def datas(lines: list[RawLine]) -> list[bytes]:
    return [line.data for line in lines]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))
