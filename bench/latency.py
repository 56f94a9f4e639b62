"""Detection latency: from a line written to its alert being searchable in Elasticsearch.

A writer process appends RMS JSON lines to a file the running daemon tails (`auditwatch run`, the
`vip-watchlist` rule, a small HR and watchlist export): a steady background of unremarkable
accesses at `--rate` lines/s, plus incidents — a user opening a watchlisted person's record — at
random 2–8 s gaps, each by a different user (so no suppression applies). It records when each
incident line was written (flushed). The bench polls the alerts index with plain searches (no
forced refresh) every 50 ms; latency = first time the incident's alert is returned − time its line
was written. Reported: p50/p90/p99/max, misses (no alert within `--timeout` after the last
incident), duplicates (more than one alert for an incident), false alerts (any other alert).

    .venv/bin/python -m bench.latency --url http://127.0.0.1:9200 [--rate 200] [--incidents 30]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson
from elasticsearch import Elasticsearch

from bench.bulk_ceiling import remove_deployment

REPO = Path(__file__).resolve().parents[1]
VIPS = 50
STAFF = 2000
INCIDENT_USER0 = 900_000  # incident users MP900000.. : one per incident


def _iso(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at * 1000) % 1000:03d}+00:00"


def _line(i: int, at: float, staff: int, person: str) -> bytes:
    obj = {
        "audit_id": f"LAT-{os.getpid()}-{i:09d}",
        "ts": _iso(at),
        "action": "VIEW",
        "user": {"staff_no": f"MP{staff:06d}", "display_name": "PC Jones"},
        "client": {"ip": "10.20.1.2", "terminal": "WS-KX-0042", "session": "ab12cd34"},
        "record": {"type": "PERSON", "id": person},
        "subject": {"person_id": person, "surname": "Smith", "forenames": "John", "dob": "01/02/1980"},
    }
    return orjson.dumps(obj) + b"\n"


def incident_schedule(incidents: int, seed: int) -> list[float]:
    """Offsets (seconds from the start) of the incidents: random 2-8 s gaps, the first after 3 s."""
    rng = random.Random(seed)
    out, at = [], 3.0
    for _ in range(incidents):
        out.append(at)
        at += rng.uniform(2.0, 8.0)
    return out


def write_load(path: str, rate: float, schedule: Sequence[float], tail: float, record: str) -> None:
    """The writer process: background lines at `rate`/s in 10 ms slices, incidents on `schedule`.

    Writes `record` as JSON: [[incident number, user id, wall time written], ...]."""
    rng = random.Random(5)
    written: list[tuple[int, str, float]] = []
    start = time.time()
    end = start + schedule[-1] + tail
    sent = 0
    next_incident = 0
    i = 0
    with open(path, "ab", buffering=0) as out:
        while (now := time.time()) < end:
            due = int((now - start) * rate) - sent
            chunk = [
                _line(i + k, now, rng.randrange(STAFF), f"PER/{rng.randrange(10**6):07d}") for k in range(due)
            ]
            i += due
            sent += due
            if chunk:
                out.write(b"".join(chunk))
            while next_incident < len(schedule) and now - start >= schedule[next_incident]:
                staff = INCIDENT_USER0 + next_incident
                out.write(_line(i, time.time(), staff, f"VIP{next_incident % VIPS:04d}"))
                written.append((next_incident, f"MP{staff:06d}", time.time()))
                i += 1
                next_incident += 1
            time.sleep(0.01)
    Path(record).write_text(json.dumps(written))


def _reference(work: Path, incidents: int) -> str:
    exports = work / "exports"
    exports.mkdir(parents=True)
    with (exports / "hr.csv").open("w") as f:
        f.write("staff_id,surname,forenames,status\n")
        for n in [*range(STAFF), *range(INCIDENT_USER0, INCIDENT_USER0 + incidents)]:
            f.write(f"MP{n:06d},Officer{n},Alex,active\n")
    with (exports / "watchlist.csv").open("w") as f:
        f.write("person_id,name,dob,category\n")
        for n in range(VIPS):
            f.write(f'VIP{n:04d},"STAR{n}, Alex",1970-01-01,celebrity\n')
    return textwrap.dedent(
        """\
        reference:
          timezone: Europe/London
          identifiers:
            staff_id: {staff_id: {prefix: MP, digits: 6}}
          sources:
            - {kind: staff, path: exports/hr.csv}
            - {kind: watchlist, path: exports/watchlist.csv}
        """
    )


def _search_alerts(client: Elasticsearch, index: str) -> list[dict[str, Any]]:
    response = client.options(ignore_status=404).search(index=index, size=10_000, query={"match_all": {}})
    if response.meta.status == 404:
        return []
    return [hit["_source"] for hit in response["hits"]["hits"]]


def _alert_user(source: dict[str, Any]) -> str | None:
    value = source.get("user.id") or source.get("user", {}).get("id")
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value is not None else None


def measure(  # noqa: PLR0917
    label: str,
    schedule: Sequence[float],
    rate: float,
    start_writer: Callable[[Sequence[float], float, float, str], multiprocessing.process.BaseProcess],
    fetch: Callable[[], list[dict[str, Any]]],
    user_of: Callable[[dict[str, Any]], str | None],
    work: Path,
    timeout: float,
) -> dict[str, Any]:
    """Run one writer against one alerting system and turn first sightings into latencies."""
    record = work / f"{label}-written.json"
    writer = start_writer(schedule, rate, timeout, str(record))
    first_seen: dict[str, float] = {}
    count: Counter[str] = Counter()
    while writer.is_alive():
        alerts = fetch()
        now = time.time()
        count = Counter(user_of(a) or "?" for a in alerts)
        for user in count:
            first_seen.setdefault(user, now)
        time.sleep(0.05)
    writer.join()
    written = json.loads(record.read_text())
    latencies: list[float] = []
    misses = 0
    for _n, user, at in written:
        if user in first_seen:
            latencies.append(first_seen[user] - at)
        else:
            misses += 1
    incident_users = {user for _n, user, _at in written}
    duplicates = sum(c - 1 for user, c in count.items() if user in incident_users and c > 1)
    false_alerts = sum(c for user, c in count.items() if user not in incident_users)
    latencies.sort()

    def pct(p: float) -> float | None:
        if not latencies:
            return None
        return latencies[min(len(latencies) - 1, max(0, round(p * len(latencies) + 0.5) - 1))]

    return {
        "label": label,
        "background_lines_per_s": rate,
        "incidents": len(written),
        "p50_s": pct(0.50),
        "p90_s": pct(0.90),
        "p99_s": pct(0.99),
        "max_s": latencies[-1] if latencies else None,
        "misses": misses,
        "duplicates": duplicates,
        "false_alerts": false_alerts,
    }


def auditwatch_latency(url: str, rate: float, incidents: int, seed: int, timeout: float) -> dict[str, Any]:
    """The daemon tailing a file with the vip-watchlist rule; alerts polled from `<prefix>-alerts`."""
    work = Path(tempfile.mkdtemp(prefix="aw-latency-"))
    prefix = "bench-latency"
    client = Elasticsearch(url)
    try:
        (work / "rules").mkdir()
        shutil.copy(REPO / "rules" / "vip-watchlist.yml", work / "rules")
        log = work / "logs" / "rms.jsonl"
        log.parent.mkdir()
        log.touch()
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
            + _reference(work, incidents)
        )
        cli = [sys.executable, "-m", "auditwatch"]
        subprocess.run([*cli, "setup", "--config", str(config)], check=True, capture_output=True)
        daemon = subprocess.Popen(
            [*cli, "--log-level", "warning", "run", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=(work / "daemon.log").open("wb"),
        )
        try:
            time.sleep(3.0)  # let it start (reference load, setup check) before the clock runs
            if daemon.poll() is not None:
                raise RuntimeError(f"daemon exited: {(work / 'daemon.log').read_text()[-2000:]}")
            spawn = multiprocessing.get_context("spawn")

            def start(schedule: Sequence[float], r: float, tail: float, record: str) -> Any:
                p = spawn.Process(target=write_load, args=(str(log), r, schedule, tail, record))
                p.start()
                return p

            result = measure(
                f"auditwatch-{int(rate)}",
                incident_schedule(incidents, seed),
                rate,
                start,
                lambda: _search_alerts(client, f"{prefix}-alerts"),
                _alert_user,
                work,
                timeout,
            )
        finally:
            daemon.terminate()
            try:
                daemon.wait(30)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        result["system"] = "auditwatch (vip-watchlist rule, daemon defaults)"
        return result
    finally:
        remove_deployment(client, prefix)
        shutil.rmtree(work, ignore_errors=True)


def _fmt(v: float | None) -> str:
    return "–" if v is None else f"{v:.2f}"


def render(results: Sequence[dict[str, Any]]) -> str:
    rows = [
        "| system | background lines/s | incidents | p50 s | p90 s | p99 s | max s "
        "| misses | duplicates | false |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "error" in r:
            rows.append(f"| {r['system']} | {r['background_lines_per_s']:.0f} | not measured: {r['error']} |")
            continue
        rows.append(
            f"| {r['system']} | {r['background_lines_per_s']:.0f} | {r['incidents']} | {_fmt(r['p50_s'])} "
            f"| {_fmt(r['p90_s'])} | {_fmt(r['p99_s'])} | {_fmt(r['max_s'])} | {r['misses']} "
            f"| {r['duplicates']} | {r['false_alerts']} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--rates", type=float, nargs="+", default=[200.0, 1000.0])
    parser.add_argument("--incidents", type=int, default=30)
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds after the last incident")
    parser.add_argument(
        "--elastalert", action="store_true", help="also measure ElastAlert 2 (bench/elastalert_peer.py)"
    )
    parser.add_argument(
        "--elastalert-example",
        action="store_true",
        help="ElastAlert also at its example settings (1 min polling)",
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    results = []
    for rate in args.rates:
        results.append(auditwatch_latency(args.url, rate, args.incidents, 1, args.timeout))
    if args.elastalert:
        from bench import elastalert_peer

        results += elastalert_peer.run_all(
            args.url, args.rates[0], args.incidents, 1, args.timeout, example=args.elastalert_example
        )
    print(render(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
