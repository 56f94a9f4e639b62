"""Fingerprint of everything the per-event path produces, to prove an optimisation changed no output.

For synthetic forces 1 and 2 (scale "test"), runs the daemon's production path without
Elasticsearch: the tailer reads the config's inputs in batches, `Pipeline.process` parses and
detects (the tailer's event-time hand-off included), `BodyBuilder` builds the bulk bodies, the
engine is flushed at the end and its state snapshot taken. Prints one SHA-256 per force over
every event id + its bulk body bytes, every dead letter's bulk body, every alert id + body, and
the engine's state snapshot. Equal hashes on two commits = byte-identical outputs.

    .venv/bin/python -m bench.output_identity [--data DIR] [--profile FILE] [--repeat N]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from auditwatch.config.daemon import load_config
from auditwatch.detection import DetectionEngine, load_ruleset
from auditwatch.detection.rule import RuleSet
from auditwatch.indexing.body import BodyBuilder
from auditwatch.model import RawLine
from auditwatch.parsing import load_parsers
from auditwatch.pipeline import Pipeline
from auditwatch.reference import load_reference
from auditwatch.schema import IndexNames
from auditwatch.service.tuning import throughput
from auditwatch.sources.tail import Tailer
from auditwatch.testing.scenarios import generate

NOW = 1_800_000_000.0  # fixed ingest time: outputs do not depend on the clock
DEAD_NOW = "2027-01-15T08:00:00.000Z"


def _config(root: Path, template: Path) -> Path:
    text = template.read_text(encoding="utf-8")
    path = root / "identity.yml"
    path.write_text(text.replace("{es_url}", "http://127.0.0.1:9").replace("{state_dir}", "state"), "utf-8")
    return path


def prepare(data: Path, force: int) -> Path:
    """The config of synthetic force `force` under `data` (generated on first use)."""
    root = data / f"force{force}"
    if not (root / "identity.yml").exists():
        scenario = generate(root, scale="test", force=force)
        _config(root, scenario.template)
    return root / "identity.yml"


def run(
    config_path: Path, rules: bool = True, batch_records: int = 5000, unordered: bool = False
) -> tuple[str, int, dict[str, float]]:
    """(hex digest, lines read, seconds per stage: parse, detect, body) for one force."""
    config = load_config(config_path)
    parsers = load_parsers(config.parsers_dir)
    snapshot, _warnings = load_reference(config.reference)
    ruleset = load_ruleset(config.rules_dir, config.lists_dir)
    if not rules:
        ruleset = RuleSet((), ruleset.lists)
    engine = DetectionEngine(ruleset, snapshot)
    pipeline = Pipeline(config.inputs, parsers, engine)
    builder = BodyBuilder(IndexNames())
    tailer = Tailer(config.inputs, {}, first_start=True, use_watchdog=False)
    digest = hashlib.sha256()
    count = 0
    spent = {"parse": 0.0, "detect": 0.0, "body": 0.0}
    parse = pipeline.parse

    def timed_parse(raws: Sequence[RawLine], now: float | None = None) -> tuple[list[Any], list[Any]]:
        start = time.perf_counter()
        try:
            return parse(raws, now)
        finally:
            spent["parse"] += time.perf_counter() - start

    pipeline.parse = timed_parse  # type: ignore[method-assign]

    items: list[bytes] = []  # --unordered: the same outputs in any order give the same digest

    def emit(kind: bytes, key: str, payload: bytes) -> None:
        item = kind + b"\0" + key.encode() + b"\0" + payload + b"\0"
        if unordered:
            items.append(item)
        else:
            digest.update(item)

    with throughput() as tuned:  # the daemon's collector settings
        try:
            while batch := tailer.read(batch_records):
                start = time.perf_counter()
                with tuned.batch():
                    done = pipeline.process(batch, NOW, tailer)
                middle = time.perf_counter()
                ops, unroutable = builder.events(done.events)
                dead_ops = [builder.dead_letter(d, DEAD_NOW) for d in done.dead]
                alert_ops = [builder.alert(a) for a in done.alerts]
                spent["body"] += time.perf_counter() - middle
                spent["detect"] += middle - start
                count += len(batch)
                for op in ops:
                    emit(b"E", op.source.id, op.payload)  # type: ignore[union-attr]
                for event, reason in unroutable:
                    emit(b"U", event.id, reason.encode())
                for op in dead_ops:
                    emit(b"D", "", op.payload)
                for op in alert_ops:
                    emit(b"A", op.source.id, op.payload)  # type: ignore[union-attr]
        finally:
            tailer.close()
        with tuned.batch():
            flushed, state = engine.flush(), engine.snapshot()
        for alert in flushed:
            emit(b"A", alert.id, builder.alert(alert).payload)
        emit(b"S", "", state)
    spent["detect"] -= spent["parse"]
    for item in sorted(items):
        digest.update(item)
    return digest.hexdigest(), count, spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/tmp/auditwatch-identity"))
    parser.add_argument("--profile", type=Path, help="write a cProfile of force 1's run here")
    parser.add_argument("--force", type=int, choices=(1, 2), action="append")
    parser.add_argument("--no-rules", action="store_true", help="ingest only: no detection rules")
    parser.add_argument(
        "--batch", type=int, default=5000, help="records per read (the daemon's pipeline.batch_max_records)"
    )
    parser.add_argument(
        "--unordered",
        action="store_true",
        help="digest the outputs sorted: equal when only their order differs (e.g. another --batch)",
    )
    args = parser.parse_args()
    for force in args.force or [1, 2]:
        config = prepare(args.data, force)
        if args.profile and force == (args.force or [1])[0]:
            prof = cProfile.Profile()
            prof.enable()
            hexdigest, count, spent = run(config, not args.no_rules, args.batch, args.unordered)
            prof.disable()
            prof.dump_stats(str(args.profile))
        else:
            hexdigest, count, spent = run(config, not args.no_rules, args.batch, args.unordered)
        per = {k: v / max(count, 1) * 1e6 for k, v in spent.items()}
        stages = "  ".join(f"{k} {v:.1f}" for k, v in per.items())
        total = sum(per.values())
        print(f"force {force}: sha256 {hexdigest}  lines {count}  µs/line: total {total:.1f}  {stages}")


if __name__ == "__main__":
    main()
