"""Reference data at realistic scale: load time, resident memory and EventView lookups per second.

    .venv/bin/python bench/reference_scale.py [--scale 1.0] [--events 200000] [--keep DIR] [--persons]

Generates (in a child process, so its memory does not count) 50,000 staff, 10,000 watchlist
entries, 20,000 declared associates, 200,000 assignments, 1,000,000 case<->person links and
500,000 roster shifts as CSV exports, loads them with `load_reference`, and reports load seconds,
the process's RSS, and the cost of an EventView answering a typical rule mix. `--persons` adds the
records system's person table (600,000 persons, upper-cased names, unspaced postcodes).
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import multiprocessing
import os
import random
import resource
import shutil
import tempfile
import time
from contextlib import nullcontext
from datetime import date, timedelta
from pathlib import Path

import psutil

from auditwatch.reference import EventView, ReferenceHolder, load_reference
from auditwatch.reference.config import ReferenceConfig, SourceConfig
from auditwatch.reference.surnames import COMMON_SURNAMES
from auditwatch.service.tuning import collector_paused

FORENAMES = (
    "Jane",
    "John",
    "Mary",
    "David",
    "Sarah",
    "Paul",
    "Emma",
    "James",
    "Laura",
    "Mark",
    "Anna",
    "Peter",
    "Claire",
    "Tom",
    "Ruth",
    "Ali",
    "Priya",
    "Sean",
    "Zoe",
    "Jose",
)
BASE_DAY = date(2026, 1, 1)
EVENT_AT = 1795608000.0  # 2026-11-25T12:00Z


PERSONS = 600_000


def _sizes(scale: float) -> dict[str, int]:
    base = {
        "staff": 50_000,
        "watchlist": 10_000,
        "associates": 20_000,
        "assignments": 200_000,
        "links": 1_000_000,
        "roster": 500_000,
        "cases": 300_000,
        "persons": PERSONS,
    }
    return {k: max(int(v * scale), 10) for k, v in base.items()}


def _surname(rng: random.Random, i: int) -> str:
    return rng.choice(COMMON_SURNAMES) if rng.random() < 0.8 else f"Rare{i % 9973}"


def generate(directory: str, scale: float, persons: bool = False, person_rows: int = 0) -> None:
    global PERSONS  # noqa: PLW0603 - the spawned child has its own module state
    if person_rows:
        PERSONS = int(person_rows / scale)
    rng = random.Random(42)
    n = _sizes(scale)
    out = Path(directory)

    def write(name: str, header: list[str], rows: object) -> None:
        with (out / name).open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)  # type: ignore[arg-type]

    def day(offset: int) -> str:
        return (BASE_DAY + timedelta(days=offset)).strftime("%d/%m/%Y")

    write(
        "hr.csv",
        [
            "staff_id",
            "surname",
            "forenames",
            "dob",
            "postcode",
            "address",
            "unit",
            "rank",
            "roles",
            "vetting_level",
            "vetting_expiry",
            "status",
            "status_from",
            "person_id",
        ],
        (
            [
                f"MP{i:06d}",
                _surname(rng, i),
                rng.choice(FORENAMES),
                day(-rng.randint(8000, 20000)),
                f"AB{rng.randint(1, 99)} {rng.randint(1, 9)}CD",
                f"{rng.randint(1, 300)} High Street",
                f"Unit {rng.randint(1, 200)}",
                "PC",
                rng.choice(["", "", "vetting", "control_room|psd"]),
                "MV",
                day(rng.randint(-100, 900)),
                rng.choice(["Active"] * 30 + ["Suspended", "Left"]),
                day(rng.randint(-300, 300)),
                f"P{rng.randint(0, 10**8):08d}",
            ]
            for i in range(n["staff"])
        ),
    )
    write(
        "watchlist.csv",
        ["person_id", "surname", "forenames", "dob", "category", "reason"],
        (
            [
                f"P{rng.randint(0, n['persons']):08d}",
                _surname(rng, i),
                rng.choice(FORENAMES),
                day(-rng.randint(8000, 25000)),
                rng.choice(["celebrity", "politician", "high_profile_case"]),
                "listed",
            ]
            for i in range(n["watchlist"])
        ),
    )
    write(
        "associates.csv",
        ["staff_id", "surname", "forenames", "dob", "person_id", "relationship"],
        (
            [
                f"MP{rng.randrange(n['staff']):06d}",
                _surname(rng, i),
                rng.choice(FORENAMES),
                day(-rng.randint(8000, 25000)),
                f"P{rng.randint(0, n['persons']):08d}",
                "friend",
            ]
            for i in range(n["associates"])
        ),
    )
    write(
        "assignments.csv",
        ["staff_id", "case_ref", "from", "to", "role"],
        (
            [
                f"MP{rng.randrange(n['staff']):06d}",
                f"CR/2026/{rng.randrange(n['cases']):06d}",
                day(s := rng.randint(0, 330)),
                day(s + rng.randint(10, 200)) if rng.random() < 0.7 else "",
                rng.choice(["oic", "investigator", "support"]),
            ]
            for _ in range(n["assignments"])
        ),
    )
    write(
        "case_links.csv",
        ["case_ref", "person_id", "record_id", "role"],
        (
            [
                f"CR/2026/{rng.randrange(n['cases']):06d}",
                f"P{rng.randrange(n['persons']):08d}",
                f"REC{rng.randrange(10**7):07d}" if rng.random() < 0.3 else "",
                rng.choice(["victim", "witness", "suspect", "informant"]),
            ]
            for _ in range(n["links"])
        ),
    )
    if persons:
        write(
            "persons.csv",
            ["person_id", "surname", "forenames", "dob", "postcode", "address"],
            (
                [
                    f"P{i:08d}",
                    _surname(rng, i).upper(),
                    rng.choice(FORENAMES).upper(),
                    day(-rng.randint(8000, 25000)),
                    f"ab{rng.randint(1, 99)}{rng.randint(1, 9)}cd",
                    f"{rng.randint(1, 300)} HIGH STREET, TOWN",
                ]
                for i in range(n["persons"])
            ),
        )
    per_staff = max(n["roster"] // n["staff"], 1)
    write(
        "roster.csv",
        ["staff_id", "date", "start", "end"],
        (
            [
                f"MP{i % n['staff']:06d}",
                day(300 + (i // n["staff"]) * 3 + rng.randint(0, 2)),
                (sh := rng.choice(["07:00", "14:00", "22:00"])),
                {"07:00": "15:00", "14:00": "22:00"}.get(sh, "07:00"),
            ]
            for i in range(n["staff"] * per_staff)
        ),
    )


def _config(directory: Path, persons: bool = False) -> ReferenceConfig:
    def src(kind: str, name: str, **columns: str) -> SourceConfig:
        return SourceConfig(kind=kind, path=str(directory / name), columns=columns)

    return ReferenceConfig(
        sources=(
            src("staff", "hr.csv"),
            src("watchlist", "watchlist.csv"),
            src("associates", "associates.csv"),
            src("assignments", "assignments.csv"),
            src("case_links", "case_links.csv"),
            src("roster", "roster.csv"),
            *((src("persons", "persons.csv"),) if persons else ()),
        ),
        identifiers={
            "staff_id": {"staff_id": {"prefix": "MP", "digits": 6}},
            "person_id": "trim",
            "record_id": "trim",
            "case_ref": "upper",
        },
    )


MIX_VALUES = ("user.status", "user.vetting_expired", "user.roles", "subject.surname_rarity")
MIX_MATCHES = (
    "subject_is_staff",
    "subject_is_self",
    "subject_on_watchlist",
    "subject_is_declared_associate",
    "subject_same_surname",
    "subject_same_postcode",
    "assigned_to_linked_case",
    "assigned_to_case_ref",
    "rostered_on_duty",
)


def _report(what: str, count: int, started: float, cpu: float) -> None:
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"EventView, {what}: {count / used:,.0f} events/s of CPU, {used / count * 1e6:.2f} us CPU/event "
        f"({wall / count * 1e6:.2f} us wall)"
    )


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    global PERSONS  # noqa: PLW0603
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument(
        "--keep",
        help="generate into (and keep) this directory; exports already there are "
        "reused (same --scale and --person-rows)",
    )
    parser.add_argument("--persons", action="store_true", help="add a person table (the records system's)")
    parser.add_argument("--person-rows", type=int, default=0, help="persons table rows (implies --persons)")
    parser.add_argument(
        "--reload",
        action="store_true",
        help="also rewrite every export and reload them as "
        "the daemon does (ReferenceHolder.reload): time and peak RSS",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write load figures here")
    parser.add_argument(
        "--collector-on",
        action="store_true",
        help="keep the cyclic collector on during the first load (the daemon pauses it: service/tuning.py)",
    )
    args = parser.parse_args(argv)
    if args.person_rows:
        args.persons = True
        PERSONS = int(args.person_rows / args.scale)
    directory = Path(args.keep or tempfile.mkdtemp(prefix="auditwatch-ref-"))
    directory.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    spawn = multiprocessing.get_context("spawn")
    if not (args.keep and (directory / "hr.csv").exists()):  # a kept directory's exports are reused
        what = (str(directory), args.scale, args.persons, args.person_rows)
        child = spawn.Process(target=generate, args=what)
        child.start()
        child.join()
    print(f"generated exports in {time.perf_counter() - started:.1f}s into {directory}")
    process = psutil.Process()
    gc.collect()
    base_rss = process.memory_info().rss
    started = time.perf_counter()
    cpu = time.process_time()
    with nullcontext() if args.collector_on else collector_paused():  # as the daemon's first load
        snapshot, warnings = load_reference(_config(directory, args.persons))
    load_s, load_cpu = time.perf_counter() - started, time.process_time() - cpu
    gc.collect()
    rss = process.memory_info().rss
    peak_load = _peak_rss_mib()
    rows = {str(item["kind"]): int(str(item["rows"])) for item in snapshot.describe()}
    for item in snapshot.describe():
        print(f"  {item['kind']:<12} {item['rows']:>9,} rows  {Path(str(item['source'])).name}")
    print(f"warnings: {len(warnings)}")
    print(
        f"load: {load_s:.1f}s wall, {load_cpu:.1f}s CPU; RSS {rss / 2**20:.0f} MiB "
        f"(process before load {base_rss / 2**20:.0f} MiB, "
        f"reference data {(rss - base_rss) / 2**20:.0f} MiB); peak RSS during load {peak_load:.0f} MiB"
    )
    figures: dict[str, object] = {
        "rows": rows,
        "load_s": load_s,
        "load_cpu_s": load_cpu,
        "rss_after_load_mib": rss / 2**20,
        "peak_rss_load_mib": peak_load,
    }
    if args.reload:
        # the daemon's reload: every export rewritten (the worst case), swapped in as ReferenceHolder does
        holder = ReferenceHolder(_config(directory, args.persons), initial=snapshot)
        del snapshot
        later = time.time() + 60
        for path in directory.iterdir():
            os.utime(path, (later, later))
        started = time.perf_counter()
        problems = holder.reload()
        reload_s = time.perf_counter() - started
        snapshot = holder.current
        del holder
        gc.collect()
        peak_reload = _peak_rss_mib()
        print(
            f"reload (every export rewritten, ReferenceHolder.reload): {reload_s:.1f}s, "
            f"{len(problems)} problems, "
            f"peak RSS {peak_reload:.0f} MiB ({peak_reload / peak_load:.2f}x the first load's peak), "
            f"RSS after {process.memory_info().rss / 2**20:.0f} MiB"
        )
        figures.update(reload_s=reload_s, peak_rss_reload_mib=peak_reload)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))

    rng = random.Random(7)
    n = _sizes(args.scale)
    events = []
    for _ in range(args.events):
        fields: dict[str, object] = {
            "user.id": f"mp{rng.randrange(n['staff']):06d}",
            "auditwatch.subject.person_id": f"P{rng.randrange(n['persons']):08d}",
            "auditwatch.subject.surname": rng.choice(COMMON_SURNAMES),
            "auditwatch.subject.forenames": rng.choice(FORENAMES),
            "auditwatch.subject.dob": "1980-01-01",
            "auditwatch.subject.postcode": f"AB{rng.randint(1, 99)} {rng.randint(1, 9)}CD",
            "auditwatch.record.id": f"REC{rng.randrange(10**7):07d}",
        }
        if rng.random() < 0.3:
            fields["auditwatch.reason.case_ref"] = f"CR/2026/{rng.randrange(n['cases']):06d}"
        events.append((fields, EVENT_AT + rng.uniform(-43200, 43200)))
    hits = dict.fromkeys(MIX_MATCHES, 0)
    started, cpu = time.perf_counter(), time.process_time()
    for fields, at in events:
        view = EventView(snapshot, fields, at)
        for name in MIX_VALUES:
            view.value(name)
        for name in MIX_MATCHES:
            if view.match(name) is not None:
                hits[name] += 1
    _report(f"full mix ({len(MIX_VALUES)} values + {len(MIX_MATCHES)} matches)", len(events), started, cpu)
    started, cpu = time.perf_counter(), time.process_time()
    for fields, at in events:  # what compiled rules do: `hit`, no evidence unless an alert is built
        view = EventView(snapshot, fields, at)
        for name in MIX_VALUES:
            view.value(name)
        for name in MIX_MATCHES:
            view.hit(name)
    _report("full mix, matches tested with hit (the rule path)", len(events), started, cpu)
    started, cpu = time.perf_counter(), time.process_time()
    for fields, at in events:
        view = EventView(snapshot, fields, at)
        view.value("user.status")
        view.match("assigned_to_linked_case")
    _report("user.status + assigned_to_linked_case", len(events), started, cpu)
    started, cpu = time.perf_counter(), time.process_time()
    for fields, at in events:
        EventView(snapshot, fields, at)
    _report("creating the view only", len(events), started, cpu)
    print("hits:", ", ".join(f"{k}={v}" for k, v in hits.items()))
    print(f"final RSS {process.memory_info().rss / 2**20:.0f} MiB")
    if not args.keep:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
