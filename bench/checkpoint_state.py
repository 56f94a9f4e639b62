"""Bytes written per checkpoint (offsets + rule state in one SQLite transaction) as state grows.

    .venv/bin/python -m bench.checkpoint_state [--events 240000] [--per-checkpoint 5000]
        [--stream live|force|synthetic] [--rate 2000]

The daemon checkpoints every `checkpoint_interval` (1 s): here one checkpoint per
`--per-checkpoint` events, through the shipped rules. `--stream live` (default): the stream of
bench/detection_throughput.py written live at `--rate` events per second (what the issue measured
with the daemon at 2,000 lines/s: every event inside record-surge's hour); `--stream force`: a force
(auditwatch.testing.scenarios: 300 staff, 21 days, every shipped parser and reference export),
parsed by the shipped parsers and fed in event-time order; `--stream synthetic`: the 3-hour
stream of bench/detection_throughput.py. Bytes written are what the process wrote during each
commit (`wchar` in /proc/self/io: database, WAL and journal writes), so a whole-state rewrite and a
per-key delta are measured the same way. Also reports the state's rows and bytes at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import tempfile
import time
from pathlib import Path

from auditwatch.checkpoint import Checkpoint
from auditwatch.commands.scanning import read_records
from auditwatch.config.daemon import load_config
from auditwatch.detection import DetectionEngine, load_ruleset, reference_from_rows
from auditwatch.model import AccessEvent
from auditwatch.parsing import load_parsers
from auditwatch.reference import load_reference
from auditwatch.testing.scenarios import generate, write_config
from bench.detection_throughput import BASE, events, reference_rows


def force_stream(root: Path, count: int) -> tuple[DetectionEngine, list[AccessEvent]]:
    """About `count` parsed events of a generated force (21 days), sorted by event time."""
    generate(root, scale="test", days=21, events_per_day=count // 21)
    config = load_config(write_config(root, "http://127.0.0.1:9"))
    parsers = load_parsers(config.parsers_dir)
    reference, _problems = load_reference(config.reference)
    out: list[AccessEvent] = []
    for raws in read_records(config.inputs):
        by_input = {i.name: i.parser for i in config.inputs}
        for name in {r.source for r in raws}:
            group = [r for r in raws if r.source == name]
            parsed, _dead = parsers[by_input[name]].parse_batch(group, "2026-11-02T12:00:00.000Z")
            out.extend(parsed)
    out.sort(key=lambda e: e.timestamp)
    return DetectionEngine(load_ruleset(config.rules_dir, config.lists_dir), reference), out


def _live(i: int, event: AccessEvent, rate: float) -> AccessEvent:
    """`event` at `i / rate` s after the start, with an id, hash and place as long as real ones."""
    digest = hashlib.sha1(str(i).encode()).hexdigest()
    fields = {
        **event.fields,
        "event.hash": digest,
        "log.file.path": "/var/log/rms/audit.log",
        "log.offset": i * 310,
    }
    return event._replace(id=digest[:27], timestamp=BASE + i / rate, fields=fields)


def written() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise RuntimeError("no wchar in /proc/self/io")


def commit(engine: DetectionEngine, checkpoint: Checkpoint, offsets: dict[str, int]) -> dict[str, int]:
    """Commit the state; returns the state bytes handed to SQLite per rule."""
    delta = getattr(engine, "state_delta", None)
    if delta is None:  # before incremental state: the whole state as one blob
        blob = engine.snapshot()
        checkpoint.commit(offsets, {"detection": blob})
        return {"(whole state)": len(blob)}
    changes = delta()
    checkpoint.commit(offsets, {}, changes)
    per: dict[str, int] = {}
    for rule, _part, key, value in changes.rows:
        per[rule] = per.get(rule, 0) + len(key) + len(value or b"")
    return per


def state_size(checkpoint: Checkpoint) -> tuple[int, int]:
    size = getattr(checkpoint, "state_size", None)
    if size is not None:
        rows, nbytes = size()
        return int(rows), int(nbytes)
    blob = checkpoint.state("detection")
    return 1, len(blob or b"")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=240_000)
    parser.add_argument("--per-checkpoint", type=int, default=5000)
    parser.add_argument("--staff", type=int, default=5000)
    parser.add_argument("--stream", choices=("live", "force", "synthetic"), default="live")
    parser.add_argument("--rate", type=float, default=2000.0, help="events per second of event time (live)")
    parser.add_argument("--rules-dir", type=Path, default=Path(__file__).resolve().parent.parent / "rules")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.stream == "force":
            engine, stream = force_stream(Path(tmp) / "force", args.events)
        else:
            rng = random.Random(7)
            reference = reference_from_rows(reference_rows(args.staff, rng))
            engine = DetectionEngine(load_ruleset(args.rules_dir), reference)
            stream = events(args.events, args.staff, rng)
            if args.stream == "live":
                stream = [_live(i, e, args.rate) for i, e in enumerate(stream)]
        (Path(tmp) / "state").mkdir()
        checkpoint = Checkpoint(Path(tmp) / "state" / "checkpoint.sqlite")
        per: list[tuple[int, int, float]] = []  # events so far, bytes written, seconds
        handed: dict[str, int] = {}
        step = args.per_checkpoint
        for i in range(0, len(stream), step):
            engine.process(stream[i : i + step])
            before, t0 = written(), time.perf_counter()
            handed = commit(engine, checkpoint, {"file": (i + step) * 200})
            per.append((i + step, written() - before, time.perf_counter() - t0))
        rows, nbytes = state_size(checkpoint)
        checkpoint.close()
        db = sum(p.stat().st_size for p in (Path(tmp) / "state").iterdir())
    print(
        f"{args.stream} stream: {len(stream)} events, "
        f"one checkpoint per {step} events ({len(per)} checkpoints)"
    )
    for n, b, s in [*per[:: max(1, len(per) // 8)], per[-1]]:
        print(f"  after {n:>7} events: {b / 1e6:8.2f} MB written, {s * 1000:7.1f} ms")
    last = per[-10:]
    total = sum(b for _, b, _ in per)
    largest = max(b for _, b, _ in per)
    print(
        f"last 10 checkpoints: mean {sum(b for _, b, _ in last) / len(last) / 1e6:.2f} MB written, "
        f"{sum(s for _, _, s in last) / len(last) * 1000:.1f} ms; largest {largest / 1e6:.2f} MB; "
        f"total written {total / 1e6:.0f} MB ({total / len(per) / 1e6:.2f} MB per checkpoint amortised)"
    )
    top = sorted(handed.items(), key=lambda kv: -kv[1])[:4]
    print("last checkpoint, state bytes per rule: " + ", ".join(f"{r} {b / 1e6:.2f} MB" for r, b in top))
    print(f"state: {rows} rows, {nbytes / 1e6:.1f} MB; files on disk {db / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
