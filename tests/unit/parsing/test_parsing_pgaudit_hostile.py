"""The pgaudit parser's prefix matching stays linear: crafted 1 MiB lines are decided quickly."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from auditwatch.model import AccessEvent, RawLine
from auditwatch.parsing import load_parser

PARSER = load_parser(Path(__file__).resolve().parents[3] / "parsers" / "pgaudit.yml")
TS = "2026-12-01 10:15:00.123 CET "
N = 1 << 20
CRAFTED = {
    "user@ repeats": TS + "e@" * (N // 2) + " LOG:  AUDIT: x",
    "blanks before the user": TS + " " * N + "a@b LOG:  AUDIT: ",
    "a long role name": TS + "a" * N + "@b LOG:  AUDIT: ",
    "many [pid] groups": TS + "[1] " * (N // 4) + "a@b LOG:  AUDIT: S,1,1,READ,,,,,",
    "many user= keys": TS + "user=a " * (N // 7) + "LOG:  AUDIT: ",
    "many separators": TS + ":" * N + "LOG:  AUDIT: ",
    "many user@db: parts": TS + "a@b:" * (N // 4) + "LOG:  AUDIT: ",
}


@pytest.mark.parametrize("line", CRAFTED.values(), ids=CRAFTED.keys())
def test_crafted_prefix_lines_are_decided_within_a_hard_bound(line: str) -> None:
    """Each crafted line is a dead letter or skipped, never an event, in well under a second."""
    data = line.encode()
    raw = RawLine("pg", "x", "k", 0, len(data) + 1, data, len(data))
    started = time.perf_counter()
    result = PARSER.parse(raw, "2026-12-01T12:00:00.000Z")
    assert time.perf_counter() - started < 1.0  # a hard safety bound (linear: ~0.1 s here), not a timing
    assert not isinstance(result, AccessEvent)
