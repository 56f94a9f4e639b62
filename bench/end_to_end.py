"""End to end: log file -> `auditwatch run --until-idle` -> Elasticsearch, next to the raw bulk ceiling.

Measured in one run against the same Elasticsearch, after warming it up (a cold node speeds up
~3x over its first million documents: `--warmup` documents are bulk-loaded first, and more until
two consecutive rounds agree within 10%):
- ceiling: pre-serialised ~390-byte documents sent by a minimal bulk loop (`create` with `_id`,
  5,000 per request, 1 and 2 connections) — the most this Elasticsearch takes when the client
  does nothing;
- rsyslog: the same JSON-lines file through `imfile -> mmjsonparse -> omelasticsearch`
  (bench/rsyslog_peer.py);
- ingest: the same file through the real daemon (tail, parse, bulk, checkpoint), no rules;
- full: the synthetic force's log formats through the real daemon with the whole rule pack and
  its reference data;
- storm: the same force with a broken HR export (every status "Restricted Duties"), so most
  accesses alert (rule restricted-user): CPU per event against `full`, and peak RSS.
Each shipper figure is docs/s from process start until done (start-up included), the shipper
process's own CPU (user + system) per document, and its peak RSS. `--profile` adds a cProfile of
the daemon's ingest-only run (top 15 functions by tottime, µs per event).

    .venv/bin/python -m bench.end_to_end [--url URL] [--docs 300000] [--lines 300000] [--warmup 1000000]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import pstats
import random
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from auditwatch.testing.elasticsearch import LocalElasticsearch
from auditwatch.testing.scenarios import generate, write_config
from bench import rsyslog_peer
from bench.bulk_ceiling import raw_bulk_ceiling, remove_deployment
from bench.parse_throughput import _rms

REPO = Path(__file__).resolve().parents[1]
_CLI = [sys.executable, "-m", "auditwatch"]


def _run_measured(cmd: list[str]) -> dict[str, float]:
    """Run `cmd` to completion: wall seconds, its own CPU seconds and peak RSS (from wait4)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()  # the daemon logs warnings only: small
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(err.decode(errors="replace")[-3000:])
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mib": usage.ru_maxrss / 1024}


def _run_daemon(config: Path) -> dict[str, float]:
    return _run_measured([*_CLI, "--log-level", "warning", "run", "--until-idle", "--config", str(config)])


def _setup(config: Path) -> None:
    subprocess.run([*_CLI, "setup", "--config", str(config)], check=True, capture_output=True)


def _count(client: Any, prefix: str) -> int:
    client.indices.refresh(index=f"{prefix}-events-*")
    return int(client.count(index=f"{prefix}-events-*")["count"])


def warm_up(client: Any, min_docs: int, round_docs: int = 100_000, max_docs: int = 2_000_000) -> list[float]:
    """Bulk-load at least `min_docs`, then on until two rounds agree within 10%; the rates seen."""
    rates: list[float] = []
    round_docs = min(round_docs, max(min_docs, 1))
    sent = 0
    while sent < max(min_docs, round_docs) or (
        len(rates) >= 2 and abs(rates[-1] - rates[-2]) > 0.1 * rates[-1] and sent < max_docs
    ):
        rates.append(raw_bulk_ceiling(client, round_docs, "bench-warmup", connections=2))
        sent += round_docs
    return rates


def write_rms(path: Path, lines: int) -> None:
    rng = random.Random(11)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        for i in range(lines):
            f.write(_rms(rng, i) + "\n")


def _ingest_config(work: Path, url: str, prefix: str, log: Path) -> Path:
    work.mkdir(parents=True)
    (work / "rules").mkdir()
    config = work / "auditwatch.yml"
    config.write_text(
        textwrap.dedent(
            f"""\
            inputs: [{{name: rms, paths: ["{log}"], parser: rms_json}}]
            parsers_dir: {REPO / "parsers"}
            rules_dir: rules
            state_dir: state
            elasticsearch: {{hosts: ["{url}"], index_prefix: {prefix}}}
            """
        )
    )
    return config


def _shipper(measured: dict[str, float], events: int, **extra: float) -> dict[str, float]:
    return {
        "events": events,
        "wall_s": measured["wall_s"],
        "events_per_s": events / measured["wall_s"],
        "cpu_us_per_event": measured["cpu_s"] / events * 1e6,
        "peak_rss_mib": measured["peak_rss_mib"],
        **extra,
    }


def ingest_only(client: Any, url: str, work: Path, log: Path) -> dict[str, float]:
    config = _ingest_config(work / "ingest", url, "bench-ingest", log)
    _setup(config)
    measured = _run_daemon(config)
    indexed = _count(client, "bench-ingest")
    remove_deployment(client, "bench-ingest")
    return _shipper(measured, indexed)


_IDLE = ("time.sleep", "acquire' of", "select", "poll", "wait")  # waiting, not working: left out of the top


def profile_ingest(client: Any, url: str, work: Path, log: Path, top: int = 15) -> dict[str, Any]:
    """cProfile one ingest-only daemon run: the top functions by own time, in µs per event."""
    config = _ingest_config(work / "profile", url, "bench-prof", log)
    _setup(config)
    out = work / "profile" / "daemon.prof"
    _run_measured(
        [
            sys.executable,
            "-m",
            "cProfile",
            "-o",
            str(out),
            "-m",
            "auditwatch",
            "--log-level",
            "warning",
            "run",
            "--until-idle",
            "--config",
            str(config),
        ]
    )
    events = _count(client, "bench-prof")
    remove_deployment(client, "bench-prof")
    stats = pstats.Stats(str(out), stream=io.StringIO())
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values())
    busy = [item for item in raw.items() if not any(word in item[0][2] for word in _IDLE)]
    rows = []
    busy.sort(key=lambda item: -item[1][2])
    for (file, line, func), (_cc, calls, tottime, cumtime, _callers) in busy[:top]:
        where = f"{Path(file).name}:{line}" if line else file
        rows.append(
            {
                "function": f"{func} ({where})",
                "calls_per_event": calls / events,
                "tottime_us_per_event": tottime / events * 1e6,
                "cumtime_us_per_event": cumtime / events * 1e6,
            }
        )
    return {"events": events, "profiled_total_us_per_event": total / events * 1e6, "top": rows}


def _restrict_everyone(hr: Path) -> None:
    """Rewrite the HR export with every row's employment status set to restricted duties.

    (An empty export no longer works as a storm: the daemon refuses to start on a staff export
    with no usable version.)"""
    with hr.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    column = rows[0].index("Employment Status")
    for row in rows[1:]:
        row[column] = "Restricted Duties"
    with hr.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f, lineterminator="\r\n").writerows(rows)


def full_pipeline(
    client: Any, url: str, work: Path, events_per_day: int, *, storm: bool = False
) -> dict[str, float]:
    name = "storm" if storm else "full"
    out = work / name
    generate(out, scale="test", events_per_day=events_per_day)
    if storm:  # a broken HR export: every status reads "Restricted Duties", so every access alerts
        _restrict_everyone(out / "exports" / "hr_directory.csv")
    config = write_config(out, url, "state", index_prefix=f"bench-{name}")
    _setup(config)
    measured = _run_daemon(config)
    indexed = _count(client, f"bench-{name}")
    client.indices.refresh(index=f"bench-{name}-alerts")
    alerts = int(client.count(index=f"bench-{name}-alerts")["count"])
    remove_deployment(client, f"bench-{name}")
    return _shipper(measured, indexed, alerts=alerts)


def run(  # noqa: PLR0917
    url: str | None,
    docs: int,
    lines: int,
    events_per_day: int,
    warmup: int = 1_000_000,
    profile: bool = False,
    warmup_max: int = 2_000_000,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="aw-bench-") as tmp:
        work = Path(tmp)
        server = None
        if url is None:
            server = LocalElasticsearch()
            server.start()
            url = server.url
        try:
            client = server.client() if server else __import__("elasticsearch").Elasticsearch(url)
            warm = warm_up(client, warmup, max_docs=warmup_max)
            remove_deployment(client, "bench-warmup")
            ceiling1 = raw_bulk_ceiling(client, docs, "bench-ceiling", connections=1)
            ceiling2 = raw_bulk_ceiling(client, docs, "bench-ceiling", connections=2)
            remove_deployment(client, "bench-ceiling")
            log = work / "logs" / "rms.jsonl"
            write_rms(log, lines)
            rsyslog = rsyslog_peer.run(client, url, log, lines)
            ingest = ingest_only(client, url, work, log)
            full = full_pipeline(client, url, work, events_per_day)
            storm = full_pipeline(client, url, work, events_per_day, storm=True)
            prof = profile_ingest(client, url, work, log) if profile else None
        finally:
            if server is not None:
                server.close()
    ceiling = max(ceiling1, ceiling2)
    result: dict[str, Any] = {
        "load_average": os.getloadavg(),
        "warmup_rates": warm,
        "warmup_docs": len(warm) * min(100_000, max(warmup, 1)),
        "ceiling_docs_per_s": ceiling,
        "ceiling_1conn_docs_per_s": ceiling1,
        "ceiling_2conn_docs_per_s": ceiling2,
    }
    for name, r in (("rsyslog", rsyslog), ("ingest", ingest), ("full", full), ("storm", storm)):
        result[name] = {**r, "ratio_to_ceiling": r["events_per_s"] / ceiling}
    result["storm"]["cpu_ratio_to_full"] = storm["cpu_us_per_event"] / full["cpu_us_per_event"]
    if prof is not None:
        result["profile"] = prof
    return result


def render(result: dict[str, Any]) -> str:
    c = result["ceiling_docs_per_s"]
    warm = ", ".join(f"{r / 1000:.1f}k" for r in result["warmup_rates"])
    rows = [
        f"Elasticsearch warmed up with {result['warmup_docs']:,} documents (docs/s per 100k round: {warm}); "
        f"ceiling = the better of 1 and 2 connections.",
        "",
        "| path | docs/s | ratio to ceiling | shipper CPU µs/doc | shipper peak RSS MiB |",
        "|---|---|---|---|---|",
        f"| raw bulk ceiling, 1 connection | {result['ceiling_1conn_docs_per_s']:,.0f} "
        f"| {result['ceiling_1conn_docs_per_s'] / c:.2f} | – | – |",
        f"| raw bulk ceiling, 2 connections | {result['ceiling_2conn_docs_per_s']:,.0f} "
        f"| {result['ceiling_2conn_docs_per_s'] / c:.2f} | – | – |",
    ]
    for name, label in (
        ("rsyslog", "rsyslog imfile → mmjsonparse → omelasticsearch (same file)"),
        ("ingest", "auditwatch daemon, ingest only (same file, rms_json, no rules)"),
        ("full", "auditwatch daemon, full (force formats, rule pack, reference)"),
        ("storm", "auditwatch daemon, alert storm (same force, every HR status restricted)"),
    ):
        r = result[name]
        rows.append(
            f"| {label} | {r['events_per_s']:,.0f} | {r['ratio_to_ceiling']:.2f} "
            f"| {r['cpu_us_per_event']:.1f} | {r['peak_rss_mib']:.0f} |"
        )
    f, s = result["full"], result["storm"]
    rows.append("")
    rows.append(
        f"Alerts: full {f['alerts']:,} from {f['events']:,} events; "
        f"storm {s['alerts']:,} from {s['events']:,} events: "
        f"{s['cpu_ratio_to_full']:.2f}x the quiet path's CPU per event, peak RSS "
        f"{s['peak_rss_mib']:.0f} MiB vs {f['peak_rss_mib']:.0f} MiB."
    )
    if "profile" in result:
        p = result["profile"]
        rows += [
            "",
            f"cProfile of the daemon's ingest-only run ({p['events']:,} events, main thread; profiled total "
            f"{p['profiled_total_us_per_event']:.1f} µs/event incl. profiler overhead and idle waits), top "
            f"{len(p['top'])} by tottime, idle waits (sleep, lock acquire, select/poll) left out:",
            "",
            "| function | calls/event | tottime µs/event | cumtime µs/event |",
            "|---|---|---|---|",
        ]
        rows += [
            f"| `{r['function']}` | {r['calls_per_event']:.2f} | {r['tottime_us_per_event']:.2f} "
            f"| {r['cumtime_us_per_event']:.2f} |"
            for r in p["top"]
        ]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--url", default=None, help="an already running Elasticsearch (default: start one)")
    parser.add_argument("--docs", type=int, default=300_000, help="documents for the ceiling")
    parser.add_argument("--lines", type=int, default=300_000, help="lines for rsyslog and ingest-only")
    parser.add_argument("--events-per-day", type=int, default=12_000, help="synthetic force volume (21 days)")
    parser.add_argument("--warmup", type=int, default=1_000_000, help="documents to warm ES up with")
    parser.add_argument("--warmup-max", type=int, default=2_000_000, help="stop warming up here regardless")
    parser.add_argument("--profile", action="store_true", help="also cProfile the ingest-only daemon run")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    result = run(
        args.url, args.docs, args.lines, args.events_per_day, args.warmup, args.profile, args.warmup_max
    )
    print(render(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
