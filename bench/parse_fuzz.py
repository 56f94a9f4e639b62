"""Per-line time budget: a mutation fuzz of every shipped parser, reporting the worst line.

    .venv/bin/python bench/parse_fuzz.py [--lines 50000] [--seed 7] [--json results.json]

For each parser: `--lines` lines made from realistic lines (the throughput bench's generators) by
mutations that find backtracking and decoder corner cases: a piece of the format's structural
characters (or of the line itself) repeated up to 20,000 times and spliced in, characters
replaced, inserted or the line cut, invalid UTF-8 and control characters; one line in a thousand
is near `max_line_bytes` (1 MiB). Each line goes through `CompiledParser.parse` on its own and is
timed in CPU time of this thread (other load on the machine does not count). Prints per parser:
the worst line's time (with its length and shape), p99, p50, and the outcome counts; an
"internal error" dead letter would be a bug.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
from collections import Counter
from pathlib import Path

from auditwatch.model import AccessEvent, DeadLetter, RawLine
from auditwatch.parsing import load_parsers
from bench.parse_throughput import GENERATORS

ROOT = Path(__file__).resolve().parents[1]
INGESTED = "2026-11-30T12:00:00.000Z"
MIB = 1 << 20
STRUCTURE = {
    "rms_json": '{}[]":,\\ a1.-',
    "pnc_mainframe": " /*'-=AZ09",
    "custody_syslog": "<>[]\"=\\ -:1aZ@'",
    "intel_csv": ',"\n a1/:',
    "pgaudit": " @,\"'[]:.-a1",
}
HOSTILE = ["\x00", "\x01", "\x1b", "\x85", "\u2028", "é", "\ufeff"]


def _mutate(rng: random.Random, line: str, alphabet: str) -> bytes:
    for _ in range(rng.randint(1, 3)):
        where = rng.randint(0, len(line))
        kind = rng.random()
        if kind < 0.45:  # a repeated piece: the shape that makes a backtracking regex explode
            if rng.random() < 0.5 or not line:
                piece = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4)))
            else:
                start = rng.randrange(len(line))
                piece = line[start : start + rng.randint(1, 4)]
            times = int(math.exp(rng.uniform(0, math.log(20_000))))
            line = line[:where] + piece * times + line[where:]
        elif kind < 0.65:
            line = (
                line[:where] + "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8))) + line[where:]
            )
        elif kind < 0.8 and line:
            end = min(len(line), where + rng.randint(1, 8))
            line = line[:where] + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8))) + line[end:]
        elif kind < 0.9:
            line = line[:where] + rng.choice(HOSTILE) + line[where:]
        else:
            line = line[:where]
    data = line.encode()
    if rng.random() < 0.02 and data:  # invalid UTF-8
        at = rng.randrange(len(data))
        data = data[:at] + bytes([rng.choice([0x80, 0xC3, 0xE9, 0xFF])]) + data[at:]
    return data


def _lines(name: str, count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    generate = GENERATORS[name]
    out = []
    for i in range(count):
        line = generate(rng, i)
        if rng.random() < 0.001:  # near max_line_bytes
            piece = "".join(rng.choice(STRUCTURE[name]) for _ in range(rng.randint(1, 3)))
            cut = rng.randint(0, len(line))
            data = (line[:cut] + piece * (MIB // len(piece)) + line[cut:]).encode()[:MIB]
        else:
            data = _mutate(rng, line, STRUCTURE[name])
        out.append(data)
    return out


def run(lines: int = 50_000, seed: int = 7) -> dict[str, dict[str, object]]:
    parsers = load_parsers(ROOT / "parsers")
    results: dict[str, dict[str, object]] = {}
    print(f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        f"{'parser':16} {'lines':>7} {'worst ms':>9} {'p99 µs':>8} {'p50 µs':>7} "
        f"{'events':>7} {'dead':>7} {'skipped':>7} {'internal':>8}  worst line"
    )
    for name in GENERATORS:
        parser = parsers[name]
        data = _lines(name, lines, seed)
        times: list[float] = []
        outcomes: Counter[str] = Counter()
        worst = (0.0, b"", "")
        clock = time.thread_time  # CPU time: a busy machine descheduling us does not count
        for index, line in enumerate(data):
            raw = RawLine("fuzz", "/fuzz.log", "fuzz", index, index + 1, line, len(line))
            start = clock()
            result = parser.parse(raw, INGESTED)
            elapsed = clock() - start
            times.append(elapsed)
            if isinstance(result, AccessEvent):
                outcomes["event"] += 1
            elif isinstance(result, DeadLetter):
                outcomes["internal" if result.reason.startswith("internal error") else "dead"] += 1
            else:
                outcomes["skipped"] += 1
            if elapsed > worst[0]:
                outcome = result.reason[:60] if isinstance(result, DeadLetter) else type(result).__name__
                worst = (elapsed, line, outcome)
        ordered = sorted(times)
        p99 = ordered[int(len(ordered) * 0.99)]
        p50 = ordered[len(ordered) // 2]
        shape = f"{len(worst[1]):,} bytes {worst[1][:40]!r}... -> {worst[2]}"
        results[name] = {
            "lines": lines,
            "worst_ms": worst[0] * 1000,
            "worst_line_bytes": len(worst[1]),
            "worst_outcome": worst[2],
            "p99_us": p99 * 1e6,
            "p50_us": p50 * 1e6,
            "events": outcomes["event"],
            "dead_letters": outcomes["dead"],
            "skipped": outcomes["skipped"],
            "internal_errors": outcomes["internal"],
        }
        print(
            f"{name:16} {lines:>7} {worst[0] * 1000:>9.2f} {p99 * 1e6:>8.0f} {p50 * 1e6:>7.0f} "
            f"{outcomes['event']:>7} {outcomes['dead']:>7} {outcomes['skipped']:>7} "
            f"{outcomes['internal']:>8}  {shape}"
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None, help="also write the result dict to this file")
    args = parser.parse_args()
    results = run(args.lines, args.seed)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
