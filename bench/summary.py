"""One table of ratios from the JSON figures `bench/run.sh` wrote; merges them into latest.json.

.venv/bin/python -m bench.summary bench/results COMMIT
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

PARTS = ("parse", "parse_fuzz", "lognorm", "reference", "daemon_scale", "end_to_end", "latency")


def _load(out: Path) -> dict[str, Any]:
    return {
        name: json.loads((out / f"{name}.json").read_text())
        for name in PARTS
        if (out / f"{name}.json").exists()
    }


def _p(v: float | None) -> str:
    return "–" if v is None else f"{v:.2f} s"


def rows(data: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    out: list[tuple[str, str, str, str]] = []
    for name, r in sorted(data.get("parse", {}).items()):
        out.append(
            (
                f"parse {name} (lines/s, one core)",
                f"{r['lines_per_s']:,.0f}",
                f"hand-written {r['peer_lines_per_s']:,.0f}",
                f"{r['ratio_to_peer']:.2f}",
            )
        )
    if ln := data.get("lognorm"):
        out.append(
            (
                "parse pnc_mainframe vs liblognorm (lines/s of CPU)",
                f"{ln['auditwatch_lines_per_s']:,.0f}",
                f"lognormalizer {ln['lognormalizer_lines_per_s']:,.0f} "
                f"({sum(ln['mismatches'].values())} field mismatches)",
                f"{ln['ratio_to_peer']:.2f}",
            )
        )
    if e := data.get("end_to_end"):
        c = e["ceiling_docs_per_s"]
        out.append(
            (
                "ES raw bulk ceiling, 1 vs 2 connections (docs/s)",
                f"{e['ceiling_1conn_docs_per_s']:,.0f}",
                f"{e['ceiling_2conn_docs_per_s']:,.0f}",
                f"{e['ceiling_1conn_docs_per_s'] / e['ceiling_2conn_docs_per_s']:.2f}",
            )
        )
        rs = e["rsyslog"]
        for key, label in (
            ("rsyslog", "rsyslog omelasticsearch"),
            ("ingest", "daemon ingest-only"),
            ("full", "daemon full (rule pack)"),
            ("storm", "daemon alert storm"),
        ):
            r = e[key]
            out.append(
                (
                    f"file -> ES, {label} (docs/s; CPU µs/doc)",
                    f"{r['events_per_s']:,.0f}; {r['cpu_us_per_event']:.1f} µs",
                    f"ceiling {c:,.0f}",
                    f"{r['ratio_to_ceiling']:.2f}",
                )
            )
        out.append(
            (
                "daemon ingest-only CPU/doc vs rsyslogd CPU/doc",
                f"{e['ingest']['cpu_us_per_event']:.1f} µs",
                f"rsyslogd {rs['cpu_us_per_event']:.1f} µs",
                f"{e['ingest']['cpu_us_per_event'] / rs['cpu_us_per_event']:.2f}",
            )
        )
        out.append(
            (
                "daemon CPU/event ingest-only vs target",
                f"{e['ingest']['cpu_us_per_event']:.1f} µs",
                "≤ 15 µs",
                f"{e['ingest']['cpu_us_per_event'] / 15:.2f}",
            )
        )
        out.append(
            (
                "daemon CPU/event full vs target",
                f"{e['full']['cpu_us_per_event']:.1f} µs",
                "≤ 20 µs",
                f"{e['full']['cpu_us_per_event'] / 20:.2f}",
            )
        )
        s = e["storm"]
        out.append(
            (
                "alert storm CPU/event vs quiet path (target ≤ 2)",
                f"{s['cpu_us_per_event']:.1f} µs ({s['alerts']:,} alerts / {s['events']:,} events)",
                f"quiet {e['full']['cpu_us_per_event']:.1f} µs",
                f"{s['cpu_ratio_to_full']:.2f}",
            )
        )
        out.append(
            (
                "alert storm peak RSS vs quiet path",
                f"{s['peak_rss_mib']:.0f} MiB",
                f"{e['full']['peak_rss_mib']:.0f} MiB",
                f"{s['peak_rss_mib'] / e['full']['peak_rss_mib']:.2f}",
            )
        )
    if ref := data.get("reference"):
        rows_ = ref["rows"]
        what = (
            f"{rows_.get('staff', 0):,} staff / {rows_.get('case_links', 0):,} links / "
            f"{rows_.get('persons', 0):,} persons"
        )
        out.append(
            (
                f"reference load, {what} (s; target ≤ 20 s)",
                f"{ref['load_s']:.1f} s",
                "20 s",
                f"{ref['load_s'] / 20:.2f}",
            )
        )
        out.append(
            (
                "reference peak RSS during load (target ≤ 600 MB for the whole daemon)",
                f"{ref['peak_rss_load_mib']:.0f} MiB",
                "600 MB = 572 MiB",
                f"{ref['peak_rss_load_mib'] / 572:.2f}",
            )
        )
        if "peak_rss_reload_mib" in ref:
            out.append(
                (
                    "reference reload peak RSS vs first load (second load while the first is held)",
                    f"{ref['peak_rss_reload_mib']:.0f} MiB",
                    f"{ref['peak_rss_load_mib']:.0f} MiB",
                    f"{ref['peak_rss_reload_mib'] / ref['peak_rss_load_mib']:.2f}",
                )
            )
    if d := data.get("daemon_scale"):
        out += _daemon_scale_rows(d)
    lat = data.get("latency", [])
    aw = [r for r in lat if r.get("label", "").startswith("auditwatch") and "error" not in r]
    ea = [r for r in lat if "ElastAlert" in r.get("system", "")]
    for r in aw:
        out.append(
            (
                f"latency auditwatch p99 at {r['background_lines_per_s']:.0f} lines/s (misses, duplicates)",
                f"{_p(r['p99_s'])} ({r['misses']}, {r['duplicates']})",
                "target ≤ 1 s, 0, 0",
                "–" if r["p99_s"] is None else f"{r['p99_s']:.2f}",
            )
        )
    for r in ea:
        if "error" in r:
            out.append((r["system"], "not measured", r["error"][:120], "–"))
            continue
        base = aw[0]["p99_s"] if aw and aw[0]["p99_s"] else None
        ratio = "–" if base is None or r["p99_s"] is None else f"{r['p99_s'] / base:.1f}x auditwatch"
        out.append(
            (
                f"latency {r['system']} p99 (misses, duplicates)",
                f"{_p(r['p99_s'])} ({r['misses']}, {r['duplicates']})",
                f"auditwatch {_p(base)}",
                ratio,
            )
        )
    return out


def _daemon_scale_rows(d: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The whole daemon at the reference section's sizes (bench/daemon_scale.py)."""
    r = d["rows"]
    what = f"{r['staff']:,} staff / {r['case_links']:,} links / {r['persons']:,} persons"
    peak = max(d["peak_rss_mib"], d["reload_peak_mib"])
    return [
        (
            f"daemon time to ready, {what} (target ≤ 20 s)",
            f"{d['ready_s']:.1f} s",
            "20 s",
            f"{d['ready_s'] / 20:.2f}",
        ),
        (
            f"daemon peak RSS (VmHWM) over load, ingest of {d['lines_written']:,} events, reload "
            "(target ≤ 600 MB)",
            f"{peak:.0f} MiB (after load {d['rss_after_load_mib']:.0f}, "
            f"ingest max {d['rss_ingest_max_mib']:.0f})",
            "600 MB = 572 MiB",
            f"{peak / 572.2:.2f}",
        ),
        (
            "daemon full-size reload peak RSS vs steady RSS (target < 2x)",
            f"{d['reload_peak_mib']:.0f} MiB",
            f"steady {d['rss_steady_mib']:.0f} MiB",
            f"{d['reload_ratio_to_steady']:.2f}",
        ),
        (
            "daemon CPU/event at that reference size (rule pack) vs target",
            f"{d['cpu_us_per_event']:.1f} µs ({d['alerts']:,} alerts)",
            "≤ 20 µs",
            f"{d['cpu_us_per_event'] / 20:.2f}",
        ),
    ]


def main() -> None:
    out = Path(sys.argv[1])
    commit = sys.argv[2] if len(sys.argv) > 2 else "unknown"
    data = _load(out)
    print("| measure | auditwatch | peer / target | ratio |")
    print("|---|---|---|---|")
    for a, b, c, d in rows(data):
        print(f"| {a} | {b} | {c} | {d} |")
    merged = {"commit": commit, "load_average_end": os.getloadavg(), **data}
    (out / "latest.json").write_text(json.dumps(merged, indent=2))


if __name__ == "__main__":
    main()
