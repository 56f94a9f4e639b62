"""End to end: log file -> `auditwatch run --until-idle` -> Elasticsearch, next to the raw bulk ceiling.

Measured in one run against the same Elasticsearch:
- ceiling: pre-serialised ~390-byte documents sent by a minimal bulk loop (`create` with `_id`,
  5,000 per request, one connection) — the most this Elasticsearch takes when the client does nothing;
- ingest: JSON-lines audit records through the real daemon (tail, parse, bulk, checkpoint), no rules;
- full: the synthetic force's four log formats through the real daemon with the whole rule pack
  and its reference data.
Each daemon figure is events/s from process start to exit (start-up included) and its CPU per event.

    .venv/bin/python -m bench.end_to_end [--url URL] [--docs 300000] [--lines 300000]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from auditwatch.testing.elasticsearch import LocalElasticsearch
from auditwatch.testing.scenarios import generate, write_config
from bench.bulk_ceiling import raw_bulk_ceiling, remove_deployment
from bench.parse_throughput import _rms

REPO = Path(__file__).resolve().parents[1]


def _run_daemon(config: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds of one `auditwatch run --until-idle`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "auditwatch.cli",
            "--log-level",
            "warning",
            "run",
            "--until-idle",
            "--config",
            str(config),
        ],
        capture_output=True,
        check=False,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(done.stderr.decode()[-3000:])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _setup(config: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "auditwatch.cli", "setup", "--config", str(config)],
        check=True,
        capture_output=True,
    )


def _count(client: Any, prefix: str) -> int:
    client.indices.refresh(index=f"{prefix}-events-*")
    return int(client.count(index=f"{prefix}-events-*")["count"])


def ingest_only(client: Any, url: str, work: Path, lines: int) -> dict[str, float]:
    rng = random.Random(11)
    logs = work / "ingest" / "logs"
    logs.mkdir(parents=True)
    with (logs / "rms.jsonl").open("w") as f:
        for i in range(lines):
            f.write(_rms(rng, i) + "\n")
    (work / "ingest" / "rules").mkdir()
    config = work / "ingest" / "auditwatch.yml"
    config.write_text(
        textwrap.dedent(
            f"""\
            inputs: [{{name: rms, paths: ["logs/rms.jsonl"], parser: rms_json}}]
            parsers_dir: {REPO / "parsers"}
            rules_dir: rules
            state_dir: state
            elasticsearch: {{hosts: ["{url}"], index_prefix: bench-ingest}}
            """
        )
    )
    _setup(config)
    wall, cpu = _run_daemon(config)
    indexed = _count(client, "bench-ingest")
    remove_deployment(client, "bench-ingest")
    return {
        "events": indexed,
        "wall_s": wall,
        "events_per_s": indexed / wall,
        "cpu_us_per_event": cpu / indexed * 1e6,
    }


def full_pipeline(client: Any, url: str, work: Path, events_per_day: int) -> dict[str, float]:
    out = work / "force"
    generate(out, scale="test", events_per_day=events_per_day)
    config = write_config(out, url, "state", index_prefix="bench-full")
    _setup(config)
    wall, cpu = _run_daemon(config)
    indexed = _count(client, "bench-full")
    client.indices.refresh(index="bench-full-alerts")
    alerts = int(client.count(index="bench-full-alerts")["count"])
    remove_deployment(client, "bench-full")
    return {
        "events": indexed,
        "alerts": alerts,
        "wall_s": wall,
        "events_per_s": indexed / wall,
        "cpu_us_per_event": cpu / indexed * 1e6,
    }


def run(url: str | None, docs: int, lines: int, events_per_day: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="aw-bench-") as tmp:
        work = Path(tmp)
        server = None
        if url is None:
            server = LocalElasticsearch()
            server.start()
            url = server.url
        try:
            client = server.client() if server else __import__("elasticsearch").Elasticsearch(url)
            ceiling = raw_bulk_ceiling(client, docs, "bench-ceiling")
            remove_deployment(client, "bench-ceiling")
            ingest = ingest_only(client, url, work, lines)
            full = full_pipeline(client, url, work, events_per_day)
        finally:
            if server is not None:
                server.close()
    return {
        "ceiling_docs_per_s": ceiling,
        "ingest": {**ingest, "ratio_to_ceiling": ingest["events_per_s"] / ceiling},
        "full": {**full, "ratio_to_ceiling": full["events_per_s"] / ceiling},
    }


def render(result: dict[str, Any]) -> str:
    c = result["ceiling_docs_per_s"]
    rows = [
        "| path | events/s | ratio to ceiling | daemon CPU µs/event |",
        "|---|---|---|---|",
        f"| raw bulk ceiling (pre-serialised, 1 connection) | {c:,.0f} | 1.00 | – |",
    ]
    for name, label in (
        ("ingest", "daemon, ingest only (rms_json, no rules)"),
        ("full", "daemon, full (4 formats, rule pack, reference)"),
    ):
        r = result[name]
        rows.append(
            f"| {label} | {r['events_per_s']:,.0f} | {r['ratio_to_ceiling']:.2f} "
            f"| {r['cpu_us_per_event']:.1f} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--url", default=None, help="an already running Elasticsearch (default: start one)")
    parser.add_argument("--docs", type=int, default=300_000, help="documents for the ceiling")
    parser.add_argument("--lines", type=int, default=300_000, help="lines for the ingest-only run")
    parser.add_argument("--events-per-day", type=int, default=12_000, help="synthetic force volume (21 days)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    result = run(args.url, args.docs, args.lines, args.events_per_day)
    print(render(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
