"""The whole daemon at full reference size: time to ready, RSS while it ingests and detects, a reload.

    .venv/bin/python -m bench.daemon_scale --url URL [--scale 1.0] [--person-rows 2000000]
        [--events 300000] [--exports DIR] [--json FILE]

Runs the real daemon (`auditwatch run`, not --until-idle) against an Elasticsearch with
bench/reference_scale.py's exports (at --scale 1.0: 50,000 staff, 1,000,000 case links, 200,000
assignments, 500,000 roster shifts, 10,000 watchlist entries, 20,000 declared associates, plus
--person-rows persons), the whole rule pack, and a backlog of --events access lines in the synthetic
force's four log formats whose users, subjects, cases and times are drawn from those exports
(bench/daemon_scale_data.py). Measured on the daemon process:

- ready: process start -> its `started` log line (reference loaded, cluster checked, tailing);
- RSS sampled every 0.2 s with psutil: at ready, during ingest (median and max), after ingest;
  the peak is /proc/PID/status VmHWM read once the backlog is indexed (every page ever resident,
  between two samples too);
- CPU (user + system) per event from ready to the backlog indexed (reading, parsing, detection,
  bulk requests, checkpoints; the reference load not included);
- a full-size reload while it runs: every export's mtime touched, the daemon's change watcher
  reloads them (`reference_reloaded` logged); VmHWM reset first (/proc/PID/clear_refs 5), so the
  reload peak is its own, compared with the steady RSS before it (target: < 2x).
`--baseline` is the RSS of an interpreter that imported the daemon's modules and loaded nothing.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil

from bench import reference_scale
from bench.bulk_ceiling import remove_deployment
from bench.daemon_scale_data import EXPORTS, write_config, write_events

_CLI = [sys.executable, "-m", "auditwatch"]
UNIT = Path(__file__).resolve().parents[1] / "deploy" / "systemd" / "auditwatch.service"
_MIB = 2**20
TARGET_READY_S = 20.0
TARGET_PEAK_MB = 600.0
TARGET_RELOAD_RATIO = 2.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak(pid: int) -> bool:
    """Reset the process's VmHWM to its current RSS (Linux >= 4.0); False where that is refused."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _baseline_rss_mib() -> float:
    """RSS of an interpreter with the daemon's modules imported and nothing loaded."""
    code = (
        "import auditwatch.commands.cli, auditwatch.daemon, psutil; print(psutil.Process().memory_info().rss)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1]) / _MIB


class Watched:
    """The daemon process: its log events (by name, with times) and an RSS/CPU sampler."""

    def __init__(self, cmd: list[str], env: dict[str, str], interval: float = 0.2) -> None:
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env={**os.environ, **env}
        )
        self.ps = psutil.Process(self.proc.pid)
        self.events: list[tuple[float, str]] = []
        self.tail: list[str] = []
        self.samples: list[tuple[float, float, float]] = []  # seconds since start, RSS MiB, CPU s
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._read_log, daemon=True),
            threading.Thread(target=self._sample, args=(interval,), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def now(self) -> float:
        return time.perf_counter() - self.t0

    def cpu(self) -> float:
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    def rss_mib(self) -> float:
        return float(self.ps.memory_info().rss) / _MIB

    def _read_log(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.tail = [*self.tail[-49:], line.rstrip()]
            try:
                name = json.loads(line).get("event", "")
            except (ValueError, AttributeError):
                continue
            self.events.append((self.now(), str(name)))

    def _sample(self, interval: float) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append((self.now(), self.rss_mib(), self.cpu()))
            except psutil.Error:
                return
            self._stop.wait(interval)

    def count(self, name: str) -> int:
        return sum(1 for _, n in self.events if n == name)

    def wait_for(self, name: str, times: int, timeout: float) -> float:
        """Wait until `name` was logged `times` times; the time of that line (s since start)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = [t for t, n in self.events if n == name]
            if len(seen) >= times:
                return seen[times - 1]
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited ({self.proc.returncode}):\n" + "\n".join(self.tail))
            time.sleep(0.05)
        raise TimeoutError(f"no {name!r} (x{times}) within {timeout:.0f}s:\n" + "\n".join(self.tail[-10:]))

    def rss_between(self, start: float, end: float) -> list[float]:
        return [rss for t, rss, _ in self.samples if start <= t <= end]

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=120)
        finally:
            self._stop.set()
            if self.proc.poll() is None:
                self.proc.kill()
        return code


def unit_environment(unit: Path = UNIT) -> dict[str, str]:
    """The allocator settings the systemd unit gives the daemon (`Environment=MALLOC_...`)."""
    out: dict[str, str] = {}
    for line in unit.read_text().splitlines():
        if line.startswith("Environment="):
            for item in line.removeprefix("Environment=").split():
                key, _, value = item.partition("=")
                if key.startswith("MALLOC_"):
                    out[key] = value
    return out


def _metrics(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("auditwatch_"):
            name, value = line.rsplit(" ", 1)
            out[name.removeprefix("auditwatch_").removesuffix("_total")] = float(value)
    return out


def _wait_ingested(daemon: Watched, port: int, expected: int, timeout: float) -> dict[str, float]:
    """Until every line was read and every batch acknowledged (the same figures on two polls)."""
    deadline = time.monotonic() + timeout
    last: dict[str, float] = {}
    while time.monotonic() < deadline:
        if daemon.proc.poll() is not None:
            raise RuntimeError("daemon exited during ingest:\n" + "\n".join(daemon.tail))
        try:
            m = _metrics(port)
        except OSError:  # the endpoint starts just after the `started` line
            time.sleep(0.2)
            continue
        done = m.get("records", 0) >= expected and m.get("bytes_behind", 1) == 0
        if done and m.get("queued_batches", 1) == 0 and m == last:
            return m
        last = m
        time.sleep(0.5)
    raise TimeoutError(f"backlog not indexed within {timeout:.0f}s: {last}")


def _count(client: Any, index: str) -> int:
    client.indices.refresh(index=index)
    return int(client.count(index=index)["count"])


def _ensure_exports(directory: Path, scale: float, person_rows: int) -> dict[str, int]:
    """reference_scale's exports in `directory` (generated in a child unless already there); row counts."""
    if not (directory / EXPORTS["persons"]).exists():
        spawn = multiprocessing.get_context("spawn")
        child = spawn.Process(
            target=reference_scale.generate, args=(str(directory), scale, True, person_rows)
        )
        child.start()
        child.join()
        if child.exitcode != 0:
            raise RuntimeError(f"generating the exports failed ({child.exitcode})")
    rows = {}
    for kind, name in EXPORTS.items():
        with (directory / name).open("rb") as handle:
            rows[kind] = sum(1 for _ in handle) - 1
    return rows


def measure(  # noqa: PLR0917
    client: Any,
    url: str,
    work: Path,
    exports: Path,
    events: int,
    pipeline: str | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    env = env or {}
    written = write_events(exports, work / "logs", events)
    lines = sum(written.values())
    port = _free_port()
    prefix = "bench-scale"
    config = write_config(
        work, exports, work / "logs", url, prefix=prefix, metrics_port=port, pipeline=pipeline
    )
    subprocess.run([*_CLI, "setup", "--config", str(config)], check=True, capture_output=True)
    daemon = Watched([*_CLI, "--log-level", "info", "run", "--config", str(config)], env)
    try:
        loaded_at = daemon.wait_for("reference_reloaded", 1, timeout=600)
        ready_at = daemon.wait_for("started", 1, timeout=120)
        cpu_ready, rss_ready = daemon.cpu(), daemon.rss_mib()
        m = _wait_ingested(daemon, port, lines, timeout=max(600, lines / 200))
        done_at, cpu_done = daemon.now(), daemon.cpu()
        peak_kib = _status_kib(daemon.proc.pid, "VmHWM")
        time.sleep(2.0)  # the reorder buffer's last events released, the last checkpoint written
        steady = daemon.rss_mib()
        reset = _reset_peak(daemon.proc.pid)
        touched_at = daemon.now()
        for name in EXPORTS.values():
            os.utime(exports / name)  # a new mtime on every export: each one is reloaded
        reloaded_at = daemon.wait_for("reference_reloaded", 2, timeout=600)
        time.sleep(3.0)  # the main loop swaps the snapshot in and returns freed memory
        after_reload = daemon.rss_mib()
        reload_sampled = max(daemon.rss_between(touched_at, daemon.now()) or [after_reload])
        reload_peak = _status_kib(daemon.proc.pid, "VmHWM") / 1024 if reset else reload_sampled
        hwm_end = _status_kib(daemon.proc.pid, "VmHWM") / 1024
        rss_before_stop = daemon.rss_mib()
    finally:
        code = daemon.stop()
    if code != 0:
        raise RuntimeError(f"daemon exited {code}:\n" + "\n".join(daemon.tail))
    indexed = _count(client, f"{prefix}-events-*")
    alerts = _count(client, f"{prefix}-alerts")
    by_rule = client.search(
        index=f"{prefix}-alerts", size=0, aggs={"r": {"terms": {"field": "rule.id", "size": 50}}}
    )["aggregations"]["r"]["buckets"]
    remove_deployment(client, prefix)
    ingest = daemon.rss_between(ready_at, done_at) or [rss_ready]
    load = daemon.rss_between(0.0, ready_at) or [rss_ready]
    timeline = [(round(t, 1), round(rss)) for t, rss, _ in daemon.samples[::5]]
    return {
        "lines_written": lines,
        "lines_by_format": written,
        "events": int(m.get("events", 0)),
        "dead_letters": int(m.get("dead_letters", 0)),
        "events_indexed": indexed,
        "alerts": alerts,
        "alerts_by_rule": {b["key"]: b["doc_count"] for b in by_rule},
        "reference_loaded_s": loaded_at,
        "ready_s": ready_at,
        "rss_after_load_mib": rss_ready,
        "peak_rss_load_sampled_mib": max(load),
        "rss_ingest_median_mib": statistics.median(ingest),
        "rss_ingest_max_mib": max(ingest),
        "peak_rss_mib": peak_kib / 1024,
        "rss_steady_mib": steady,
        "ingest_s": done_at - ready_at,
        "events_per_s": lines / (done_at - ready_at),
        "cpu_us_per_event": (cpu_done - cpu_ready) / lines * 1e6,
        "reload_s": reloaded_at - touched_at,
        "reload_peak_mib": reload_peak,
        "reload_peak_sampled_mib": reload_sampled,
        "reload_peak_from": "VmHWM after clear_refs" if reset else "psutil samples",
        "reload_ratio_to_steady": reload_peak / steady,
        "rss_after_reload_mib": after_reload,
        "rss_before_stop_mib": rss_before_stop,
        "vmhwm_end_mib": hwm_end,
        "timeline_rss_mib": timeline,
    }


def run(  # noqa: PLR0917
    url: str,
    scale: float,
    person_rows: int,
    events: int,
    exports: Path | None,
    pipeline: str | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    from elasticsearch import Elasticsearch

    with tempfile.TemporaryDirectory(prefix="aw-bench-scale-") as tmp:
        work = Path(tmp)
        directory = exports or work / "exports"
        directory.mkdir(parents=True, exist_ok=True)
        rows = _ensure_exports(directory, scale, person_rows)
        client = Elasticsearch(url)
        try:
            result = measure(client, url, work, directory, events, pipeline, env)
        finally:
            client.close()
    return {
        "rows": rows,
        "baseline_rss_mib": _baseline_rss_mib(),
        "pipeline": pipeline,
        "env": env or {},
        **result,
    }


def render(r: dict[str, Any]) -> str:
    rows = r["rows"]
    mb = 1e6 / _MIB  # MiB per MB
    target_mib = TARGET_PEAK_MB * mb
    overall = max(r["peak_rss_mib"], r["reload_peak_mib"])
    lines = [
        f"Reference: {rows['staff']:,} staff, {rows['case_links']:,} case links, "
        f"{rows['persons']:,} persons, {rows['assignments']:,} assignments, "
        f"{rows['roster']:,} roster shifts, "
        f"{rows['watchlist']:,} watchlist, {rows['associates']:,} associates; whole rule pack; "
        f"{r['lines_written']:,} lines in 4 formats ({r['events']:,} events, "
        f"{r['dead_letters']} dead letters, {r['events_indexed']:,} indexed, {r['alerts']:,} alerts).",
        f"Daemon environment (deploy/systemd/auditwatch.service): "
        f"{' '.join(f'{k}={v}' for k, v in r['env'].items()) or 'none'}"
        + (f"; pipeline: {r['pipeline']}" if r["pipeline"] else "")
        + ".",
        "",
        "| daemon process | measured | target |",
        "|---|---|---|",
        f"| time to ready (start -> reference loaded -> `started`) | {r['ready_s']:.1f} s "
        f"(reference loaded at {r['reference_loaded_s']:.1f} s) | ≤ {TARGET_READY_S:.0f} s |",
        f"| RSS after load (at ready) | {r['rss_after_load_mib']:.0f} MiB "
        f"(interpreter + modules alone: {r['baseline_rss_mib']:.0f} MiB) | – |",
        f"| RSS during ingest, median / max sampled | {r['rss_ingest_median_mib']:.0f} / "
        f"{r['rss_ingest_max_mib']:.0f} MiB | – |",
        f"| peak RSS, load + ingest (VmHWM) | {r['peak_rss_mib']:.0f} MiB "
        f"= {r['peak_rss_mib'] / mb:.0f} MB | ≤ {TARGET_PEAK_MB:.0f} MB ({target_mib:.0f} MiB) |",
        f"| RSS after ingest (steady) | {r['rss_steady_mib']:.0f} MiB | – |",
        f"| reload peak (every export touched; {r['reload_peak_from']}) | {r['reload_peak_mib']:.0f} MiB = "
        f"{r['reload_ratio_to_steady']:.2f}x steady (RSS after {r['rss_after_reload_mib']:.0f} MiB, "
        f"touch -> reloaded {r['reload_s']:.1f} s incl. poll and debounce) | < {TARGET_RELOAD_RATIO:.0f}x |",
        f"| peak RSS over the whole run | {overall:.0f} MiB = {overall / mb:.0f} MB "
        f"| ≤ {TARGET_PEAK_MB:.0f} MB |",
        f"| ingest: CPU per event (ready -> backlog indexed) | {r['cpu_us_per_event']:.1f} µs "
        f"({r['events_per_s']:,.0f} lines/s wall) | ≤ 20 µs (issue 15 item 2) |",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--url", required=True, help="a running Elasticsearch")
    parser.add_argument("--scale", type=float, default=1.0, help="reference_scale sizes (1.0: 50k staff)")
    parser.add_argument("--person-rows", type=int, default=2_000_000, help="persons export rows")
    parser.add_argument("--events", type=int, default=300_000, help="access lines in the backlog")
    parser.add_argument("--exports", type=Path, default=None, help="reuse (or generate into) this directory")
    parser.add_argument("--pipeline", default=None, help="a `pipeline:` section for the config (YAML flow)")
    parser.add_argument(
        "--no-unit-env",
        action="store_true",
        help="run the daemon without the allocator settings of deploy/systemd/auditwatch.service",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    env = {} if args.no_unit_env else unit_environment()
    result = run(args.url, args.scale, args.person_rows, args.events, args.exports, args.pipeline, env)
    print(render(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
