"""`auditwatch parse`: read files (plain or `.gz`) or stdin the way the daemon does, print events.

Files go through the daemon's own `Tailer` (the same file identities, offsets, `.gz` reading and
multi-line joining, hence the same event ids); stdin goes through the same `RecordReader`. The
multi-line and line-length settings come from the config's input (`--input NAME`, or the inputs
that use `--parser NAME`). One line never stops a run: a line that does not parse, or whose event
cannot be encoded (the daemon dead-letters those too), is reported on stderr and the run goes on.
"""

from __future__ import annotations

import glob
import os
import stat
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO, TextIO

from auditwatch.commands.scanning import read_records
from auditwatch.config.daemon import DaemonConfig
from auditwatch.errors import UNKNOWN_NAME, AuditwatchError, ConfigError
from auditwatch.indexing.body import encode_fields
from auditwatch.model import RawLine
from auditwatch.normalise import iso_utc
from auditwatch.parsing.runtime import CompiledParser
from auditwatch.sources.config import InputConfig
from auditwatch.sources.reader import RecordReader

STDIN = "-"
_BATCH = 5000


class UnreadableInput(AuditwatchError):
    """A file named on the command line cannot be read (missing, a directory, no permission)."""


def input_for(parser: str | None, input_name: str | None, config: DaemonConfig | None) -> InputConfig:
    """How to read: the named input of the config, or the settings shared by the inputs that use
    `parser` (defaults when there is no config or no such input). Always reads `.gz` files."""
    where = str(config.path) if config is not None else "<command line>"
    if input_name is not None:
        if config is None:
            raise ConfigError.single(
                where, None, "--input", "--input needs a config (--config or $AUDITWATCH_CONFIG)"
            )
        found = next((i for i in config.inputs if i.name == input_name), None)
        if found is None:
            names = ", ".join(i.name for i in config.inputs) or "none"
            raise ConfigError.single(
                where, None, "--input", f"no input named '{input_name}' (inputs: {names})", code=UNKNOWN_NAME
            )
        return replace(found, paths=(), exclude=(), read_gz=True)
    assert parser is not None
    using = [i for i in config.inputs if i.parser == parser] if config is not None else []
    settings = {(i.multiline, i.max_line_bytes) for i in using}
    if len(settings) > 1:
        names = ", ".join(i.name for i in using)
        raise ConfigError.single(
            where,
            None,
            "--parser",
            f"inputs {names} use parser '{parser}' with different multiline settings: name one with --input",
        )
    if using:
        return replace(using[0], name=parser, paths=(), exclude=(), read_gz=True)
    return InputConfig(name=parser, paths=(), exclude=(), parser=parser, read_gz=True)


def check_readable(paths: Sequence[str]) -> None:
    """UnreadableInput (one line) for the first named file that cannot be read."""
    for path in paths:
        if path == STDIN:
            continue
        try:
            st = os.stat(path)
            if stat.S_ISDIR(st.st_mode):
                raise UnreadableInput(f"cannot read {path}: is a directory")
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise UnreadableInput(f"cannot read {path}: {exc.strerror or exc}") from None


def read_inputs(spec: InputConfig, paths: Sequence[str], stdin: BinaryIO) -> Iterator[list[RawLine]]:
    """Records of each path in order (`-` is stdin), in batches."""
    for path in paths:
        if path == STDIN:
            yield from read_stream(spec, stdin)
        else:
            literal = glob.escape(str(Path(path).resolve()))
            yield from read_records([replace(spec, paths=(literal,))])


class _StreamSource:
    """`read_at` over a forward-only stream, keeping the last chunk so a reader may resume inside it."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._buf = b""
        self._buf_at = 0

    def read_at(self, pos: int, size: int) -> bytes:
        tip = self._buf_at + len(self._buf)
        if pos < self._buf_at or pos > tip:
            raise ValueError(f"stream read at {pos} outside {self._buf_at}..{tip}")
        data = self._buf[pos - self._buf_at :]
        if len(data) >= size:
            return data[:size]
        more = self._stream.read(size - len(data))
        data += more or b""
        self._buf, self._buf_at = data, pos
        return data


def read_stream(spec: InputConfig, stream: BinaryIO, key: str = "stdin") -> Iterator[list[RawLine]]:
    """Every record of a stream (a pipe), through the daemon's `RecordReader`."""
    reader = RecordReader(spec, key, 0, "<stdin>")
    source = _StreamSource(stream)
    while True:
        out: list[RawLine] = []
        _read, at_end = reader.read(source.read_at, out, _BATCH, 8 << 20, time.monotonic())
        if at_end:
            reader.flush_final(time.monotonic(), out)
        if out:
            yield out
        if at_end:
            return


def print_events(
    parser: CompiledParser, batches: Iterator[list[RawLine]], out: BinaryIO, err: TextIO
) -> tuple[int, int]:
    """Parse each batch, write events as JSON lines and a reason per failed line; (events, failures)."""
    events_out = failures = 0
    for raws in batches:
        events, dead = parser.parse_batch(raws, iso_utc(time.time()))
        for event in events:
            try:
                out.write(encode_fields(event.fields) + b"\n")
            except TypeError as exc:  # e.g. an integer beyond 64 bits: the daemon dead-letters it
                failures += 1
                print(f"{_where(event.raw)}: encoding: {exc}", file=err)
                continue
            events_out += 1
        for letter in dead:
            failures += 1
            print(f"{_where(letter.raw)}: {letter.reason}", file=err)
    out.flush()
    return events_out, failures


def _where(raw: RawLine) -> str:
    return f"{raw.path}@{raw.offset}"


__all__ = [
    "STDIN",
    "UnreadableInput",
    "check_readable",
    "input_for",
    "print_events",
    "read_inputs",
    "read_stream",
]
