"""What one entry of the daemon config's `inputs:` list says: which files to tail and how."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from auditwatch.config.spec import Reader, positive
from auditwatch.regexsafety import InvalidRegex, UnsafeRegex, check_regex

MIB = 1 << 20


@dataclass(frozen=True)
class MultilineSpec:
    """How physical lines join into one record; exactly one of `start` / `continuation` is set."""

    start: re.Pattern[bytes] | None  # a matching line begins a new record, others continue it
    continuation: re.Pattern[bytes] | None  # a matching line continues the previous record
    max_lines: int = 500  # a record is emitted once it holds this many lines
    idle_flush: float = 2.0  # seconds without a new line after which a pending record is emitted


@dataclass(frozen=True)
class InputConfig:
    """One tailed source: globs, the parser its lines go to, and how to read them."""

    name: str
    paths: tuple[str, ...]  # globs
    exclude: tuple[str, ...]  # globs matched against the same absolute paths
    parser: str
    start_at: Literal["beginning", "end"] = "beginning"  # files present at the first start only
    max_line_bytes: int = MIB
    multiline: MultilineSpec | None = None
    read_gz: bool = False
    # How many leading lines identify a file. Raise it for files that all begin with the same
    # header (CSV): with 1, two such files look alike until the dev/inode fallback kicks in.
    fingerprint_lines: int = 1
    poll_interval: float = 1.0
    close_inactive: float = 300.0
    # seconds without a single record after which the input is reported silent (an alert): a
    # stopped audit log is itself a signal. None: never.
    silent_after: float | None = None


def _regex(value: str) -> re.Pattern[bytes]:
    try:
        compiled = re.compile(value.encode("utf-8"))
        check_regex(value)  # tried on every physical line: it must not backtrack badly
    except re.error as exc:
        raise InvalidRegex(f"invalid regular expression: {exc}") from exc
    except RecursionError:
        raise InvalidRegex("invalid regular expression: groups nested too deeply") from None
    except UnsafeRegex as exc:
        raise UnsafeRegex(f"regular expression refused (it could hang on a crafted line): {exc}") from None
    return compiled


def _start_at(value: str) -> Literal["beginning", "end"]:
    if value not in ("beginning", "end"):
        raise ValueError("must be 'beginning' or 'end'")
    return "end" if value == "end" else "beginning"


def _read_multiline(reader: Reader) -> MultilineSpec | None:
    start = reader.optional("start", str, None, _regex)
    continuation = reader.optional("continuation", str, None, _regex)
    max_lines = reader.optional("max_lines", int, 500, positive)
    idle_flush = reader.optional("idle_flush", float, 2.0, positive)
    reader.done()
    if reader.has("start") == reader.has("continuation"):
        reader.problem(reader.path, "give exactly one of 'start' or 'continuation'")
        return None
    if start is None and continuation is None:  # the regex error is already reported
        return None
    return MultilineSpec(start, continuation, max_lines or 500, idle_flush or 2.0)


def read_input_config(reader: Reader) -> InputConfig:
    """Validate one `inputs:` entry.

    Problems are added to `reader.problems` (call `reader.raise_if_any()`); the value returned
    alongside problems carries safe placeholders and must not be used.
    """
    name = reader.required("name", str) or ""
    if reader.has("name") and isinstance(reader.data.get("name"), str) and not name.strip():
        reader.problem((*reader.path, "name"), "must not be empty")
    paths = reader.string_list("paths")
    if not paths:
        reader.problem(reader.path, "missing required key 'paths' (a glob or a list of globs)")
    exclude = reader.string_list("exclude")
    parser = reader.required("parser", str) or ""
    start_at: Literal["beginning", "end"] = (
        reader.optional("start_at", str, "beginning", _start_at) or "beginning"
    )
    max_line_bytes = reader.optional("max_line_bytes", int, MIB, positive) or MIB
    multiline = None
    if reader.has("multiline"):
        multiline = _read_multiline(reader.section("multiline"))
    else:
        reader.section("multiline")
    read_gz = reader.optional("read_gz", bool, False)
    fingerprint_lines = reader.optional("fingerprint_lines", int, 1, positive) or 1
    poll_interval = reader.optional("poll_interval", float, 1.0, positive) or 1.0
    close_inactive = reader.optional("close_inactive", float, 300.0, positive) or 300.0
    silent_after = reader.optional("silent_after", float, None, positive)
    reader.done()
    return InputConfig(
        name=name,
        paths=paths,
        exclude=exclude,
        parser=parser,
        start_at=start_at,
        max_line_bytes=max_line_bytes,
        multiline=multiline,
        read_gz=bool(read_gz),
        fingerprint_lines=fingerprint_lines,
        poll_interval=poll_interval,
        close_inactive=close_inactive,
        silent_after=silent_after,
    )
