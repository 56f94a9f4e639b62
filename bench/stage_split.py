"""Where the daemon's CPU per event goes: the real daemon in-process, each stage's thread CPU time.

Runs `Daemon.run(until_idle=True)` on the ingest-only corpus (bench/end_to_end.py's RMS JSON lines,
no rules) or the synthetic force with the whole rule pack (`--full`), against an Elasticsearch at
`--url`. The stages' methods are wrapped with `time.thread_time()` (per batch, so the wrapping
costs nothing measurable), time is charged exclusively (a nested stage is not counted twice), and
what no stage claims is reported per thread as "other". Process CPU (user + system, from start-up
to exit, as the bench's shipper figure) is shown beside it.

    .venv/bin/python -m bench.stage_split --url URL [--lines 300000] [--full] [--profile FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import resource
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from auditwatch.checkpoint import Checkpoint
from auditwatch.config.daemon import load_config
from auditwatch.daemon import Daemon
from auditwatch.delivery import Delivery
from auditwatch.detection import DetectionEngine
from auditwatch.indexing.body import BodyBuilder
from auditwatch.indexing.deliver import BulkIndexer
from auditwatch.pipeline import Pipeline
from auditwatch.sources.tail import Tailer
from bench.end_to_end import _count, _ingest_config, _setup, write_rms

# (stage, class, method): charged the thread CPU time spent inside, minus nested stages
STAGES: list[tuple[str, type, str]] = [
    ("read/tail", Tailer, "read"),
    ("read/tail", Tailer, "note_times"),
    ("read/tail", Tailer, "backlog_time"),
    ("parse+map", Pipeline, "parse"),
    ("detect", DetectionEngine, "process"),
    ("detect", DetectionEngine, "tick"),
    ("detect", DetectionEngine, "flush"),
    ("checkpoint state (main)", DetectionEngine, "state_delta"),
    ("bulk body", BodyBuilder, "events"),
    ("bulk body", BodyBuilder, "alert"),
    ("bulk body", BodyBuilder, "dead_letter"),
    ("delivery (HTTP, acks)", BulkIndexer, "_send"),
    ("checkpoint commit (delivery)", Checkpoint, "commit"),
]


class Meter:
    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self.local = threading.local()

    def wrap(self, stage: str, func: Callable[..., Any]) -> Callable[..., Any]:
        local = self.local
        spent = self.spent

        @functools.wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:
            stack = getattr(local, "stack", None)
            if stack is None:
                stack = local.stack = []
            start = time.thread_time()
            stack.append(0.0)
            try:
                return func(*args, **kwargs)
            finally:
                elapsed = time.thread_time() - start
                nested = stack.pop()
                spent[stage] += elapsed - nested
                if stack:
                    stack[-1] += elapsed

        return timed


def _thread_cpu(
    target: Callable[..., Any], into: dict[str, float], name: str, profile: Path | None = None
) -> Callable[..., Any]:
    @functools.wraps(target)
    def run(*args: Any, **kwargs: Any) -> Any:
        prof = cProfile.Profile() if profile else None
        if prof is not None:
            prof.enable()
        start = time.thread_time()
        try:
            return target(*args, **kwargs)
        finally:
            into[name] = time.thread_time() - start
            if prof is not None:
                prof.disable()
                prof.dump_stats(str(profile))

    return run


def _watch_deltas(into: list[tuple[int, int]]) -> Callable[..., Any]:
    """DetectionEngine.state_delta, noting (events held in the reorder buffer, delta bytes) per call."""
    real = DetectionEngine.state_delta

    def state_delta(engine: DetectionEngine) -> Any:
        delta = real(engine)
        into.append((engine.held, delta.size))
        return delta

    return state_delta


def measure(config_path: Path, profile: Path | None = None) -> dict[str, Any]:
    meter = Meter()
    deltas: list[tuple[int, int]] = []
    originals: list[tuple[type, str, Any]] = [(DetectionEngine, "state_delta", DetectionEngine.state_delta)]
    DetectionEngine.state_delta = _watch_deltas(deltas)  # type: ignore[method-assign]
    for stage, cls, method in STAGES:
        func = getattr(cls, method)
        originals.append((cls, method, func))
        setattr(cls, method, meter.wrap(stage, func))
    threads: dict[str, float] = {}
    deliver_loop = Delivery._deliver_loop
    delivery_profile = profile.with_suffix(".delivery") if profile else None
    wrapped = _thread_cpu(deliver_loop, threads, "delivery thread", delivery_profile)
    Delivery._deliver_loop = wrapped  # type: ignore[method-assign]
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    wall0 = time.perf_counter()
    try:
        config = load_config(config_path)
        daemon = Daemon(config)
        main_start = time.thread_time()
        prof = cProfile.Profile() if profile else None
        if prof is not None:
            prof.enable()
        counters = daemon.run(until_idle=True)
        if prof is not None:
            prof.disable()
            prof.dump_stats(str(profile))
        threads["main thread (run)"] = time.thread_time() - main_start
    finally:
        for cls, method, func in originals:
            setattr(cls, method, func)
        Delivery._deliver_loop = deliver_loop  # type: ignore[method-assign]
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage1.ru_utime + usage1.ru_stime - usage0.ru_utime - usage0.ru_stime
    system = usage1.ru_stime - usage0.ru_stime
    faults = usage1.ru_minflt - usage0.ru_minflt
    return {
        "events": counters.events,
        "records": counters.records,
        "alerts": counters.alerts,
        "wall_s": time.perf_counter() - wall0,
        "process_cpu_s": cpu,
        "system_cpu_s": system,
        "minor_faults": faults,
        "stages": dict(meter.spent),
        "checkpoints": len(deltas),
        "held_mean": sum(h for h, _ in deltas) / max(len(deltas), 1),
        "delta_bytes_mean": sum(b for _, b in deltas) / max(len(deltas), 1),
        "threads": threads,
    }


def render(result: dict[str, Any]) -> str:
    n = result["events"]
    lines = [
        f"events {n:,}, alerts {result['alerts']:,}, wall {result['wall_s']:.1f} s, "
        f"process CPU {result['process_cpu_s'] / n * 1e6:.1f} µs/event (start-up included; system "
        f"{result['system_cpu_s'] / n * 1e6:.1f} µs/event, {result['minor_faults'] / n:.2f} faults/event)",
        f"checkpoints {result['checkpoints']}: on average {result['held_mean']:,.0f} events held in the "
        f"reorder buffer, {result['delta_bytes_mean'] / 1024:,.0f} KiB of rule state written",
        "",
        "| stage | thread CPU µs/event |",
        "|---|---|",
    ]
    stages = result["stages"]
    main_stages = ("read/tail", "parse+map", "detect", "checkpoint state (main)")
    for stage in dict.fromkeys(s for s, _, _ in STAGES):
        lines.append(f"| {stage} | {stages.get(stage, 0.0) / n * 1e6:.2f} |")
    threads = result["threads"]
    main_other = threads.get("main thread (run)", 0.0) - sum(stages.get(s, 0.0) for s in main_stages)
    delivery_other = threads.get("delivery thread", 0.0) - sum(
        v for s, v in stages.items() if s not in main_stages
    )
    lines.append(f"| other, main thread (start-up, queue, loop) | {main_other / n * 1e6:.2f} |")
    lines.append(f"| other, delivery thread | {delivery_other / n * 1e6:.2f} |")
    for name, spent in threads.items():
        lines.append(f"| total {name} | {spent / n * 1e6:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--lines", type=int, default=300_000)
    parser.add_argument("--full", action="store_true", help="the synthetic force with the rule pack")
    parser.add_argument("--events-per-day", type=int, default=12_000)
    parser.add_argument(
        "--profile", type=Path, help="cProfile the main thread into FILE, delivery into FILE.delivery"
    )
    args = parser.parse_args(argv)
    from elasticsearch import Elasticsearch

    from auditwatch.testing.scenarios import generate, write_config
    from bench.bulk_ceiling import remove_deployment

    client = Elasticsearch(args.url)
    with tempfile.TemporaryDirectory(prefix="aw-split-") as tmp:
        work = Path(tmp)
        if args.full:
            generate(work / "full", scale="test", events_per_day=args.events_per_day)
            prefix = "bench-split-full"
            config = write_config(work / "full", args.url, "state", index_prefix=prefix)
        else:
            log = work / "logs" / "rms.jsonl"
            write_rms(log, args.lines)
            prefix = "bench-split"
            config = _ingest_config(work / "ingest", args.url, prefix, log)
        _setup(config)
        result = measure(config, args.profile)
        result["indexed"] = _count(client, prefix)
        remove_deployment(client, prefix)
    print(render(result))
    print(f"indexed {result['indexed']:,}")


if __name__ == "__main__":
    main()
