"""Events per second through the detection engine alone, with the example rules in rules/.

    .venv/bin/python bench/detection_throughput.py [--events 200000] [--staff 5000] [--persons]

Synthetic stream: 2,000 active users, 100,000 subjects, 60 % person views, 15 % searches, 25 % other
record types, 95 % of views to people/records linked to the user's own case (DOMAIN.md: >90 % of
access is explained); reference data of realistic size built by the real loader (HR, watchlist, integrity
register, assignments, case links, roster). Reports events/s and µs/event on one core.

`--persons` adds the records system's person table (every subject and every member of staff, names
upper-cased, postcodes unspaced), gives HR home postcodes and takes the person ids out of HR, so
every subject signal goes through identity resolution.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path
from typing import Any

from auditwatch.detection import DetectionEngine, load_ruleset, reference_from_rows
from auditwatch.model import AccessEvent, RawLine
from auditwatch.reference.snapshot import empty_reference
from auditwatch.service.tuning import throughput

BASE = 1_767_600_000.0  # 2026-01-05
USERS = 2000  # active users in the stream
EXPLAINED = 0.95  # share of accesses to a person or record linked to the user's own case


def persons_shape(rows: dict[str, list[dict[str, Any]]], staff: int) -> None:
    """HR without person ids and with home postcodes; a person table for every subject and staff member."""
    for i, row in enumerate(rows["staff"]):
        row.pop("person_id")
        row["postcode"] = f"AB{i % 90 + 1} {i % 9}CD"
    rows["persons"] = [
        *(
            {
                "person_id": f"P-{i}",
                "surname": f"SURNAME{i % 7000}",
                "forenames": f"NAME{i}",
                "dob": f"19{50 + i % 50}-0{1 + i % 9}-1{i % 9}",
                "postcode": f"ab{i % 90 + 1}{i % 9}cd",
            }
            for i in range(100_000)
        ),
        *(
            {
                "person_id": f"P-{900000 + i}",
                "surname": f"SURNAME{i % 3000}",
                "forenames": f"NAME{i}",
                "dob": f"19{70 + i % 30}-0{1 + i % 9}-1{i % 9}",
            }
            for i in range(staff)
        ),
    ]


def reference_rows(staff: int, rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    units = ["Response North", "Response South", "CID", "Custody", "Intel", "Vetting", "Control Room"]
    hr = [
        {
            "staff_id": f"MP{i:06d}",
            "surname": f"Surname{i % 3000}",
            "forenames": f"Name{i}",
            "dob": f"19{70 + i % 30}-0{1 + i % 9}-1{i % 9}",
            "unit": units[i % len(units)],
            "person_id": f"P-{900000 + i}",
            "status": "suspended" if i % 997 == 0 else "active",
            "roles": "vetting" if i % 50 == 0 else "",
        }
        for i in range(staff)
    ]
    return {
        "staff": hr,
        "watchlist": [
            {"person_id": f"P-{i * 97}", "surname": f"Vip{i}", "category": "celebrity"} for i in range(500)
        ],
        "associates": [
            {"staff_id": f"MP{rng.randrange(staff):06d}", "person_id": f"P-{rng.randrange(100_000)}"}
            for _ in range(2000)
        ],
        # each active user u works case CR-u, which links 40 people and 20 records: most access is explained
        "assignments": [
            {"staff_id": f"MP{c % staff:06d}", "case_ref": f"CR-{c}", "from": "2025-06-01"}
            for c in range(20_000)
        ],
        "case_links": [
            *(
                {"case_ref": f"CR-{c}", "person_id": f"P-{c * 40 + k}", "role": "witness"}
                for c in range(USERS)
                for k in range(40)
            ),
            *(
                {"case_ref": f"CR-{c}", "record_id": f"R-{c * 20 + k}"}
                for c in range(USERS)
                for k in range(20)
            ),
        ],
        "roster": [
            {"staff_id": f"MP{i:06d}", "start": "2026-01-05T07:00:00Z", "end": "2026-01-05T17:00:00Z"}
            for i in range(staff)
        ],
    }


def events(count: int, staff: int, rng: random.Random) -> list[AccessEvent]:
    out = []
    raw = RawLine("bench", "/var/log/app/audit.log", "k", 0, 1, b"", 0)
    types = ["vehicle", "intel_report", "custody", "firearms_licence", "crime"]
    for i in range(count):
        u = rng.randrange(USERS)
        user = f"MP{u:06d}"
        roll = rng.random()
        own = rng.random() < EXPLAINED
        own_person = u * 40 + rng.randrange(40)
        fields: dict[str, object] = {
            "@timestamp": "x",
            "user.id": user,
            "event.original": "line",
            "event.hash": "h",
        }
        if roll < 0.60:
            fields |= {
                "event.action": "view",
                "auditwatch.record.type": "person",
                "auditwatch.subject.person_id": "P-" + str(own_person if own else rng.randrange(100_000)),
            }
        elif roll < 0.75:
            fields |= {
                "event.action": "person_search",
                "auditwatch.search.terms": "SMI*",
                "auditwatch.search.wildcard": rng.random() < 0.1,
            }
        else:
            fields |= {
                "event.action": "view",
                "auditwatch.record.type": rng.choice(types),
                "auditwatch.record.id": f"R-{u * 20 + rng.randrange(20) if own else rng.randrange(50_000)}",
            }
        out.append(AccessEvent(f"e{i}", BASE + i * 0.05, fields, raw))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--staff", type=int, default=5000)
    parser.add_argument("--persons", action="store_true", help="a person table; HR without person ids")
    parser.add_argument("--rules-dir", type=Path, default=Path(__file__).resolve().parent.parent / "rules")
    args = parser.parse_args()
    rng = random.Random(7)
    rules = load_ruleset(args.rules_dir)
    t0 = time.perf_counter()
    rows = reference_rows(args.staff, rng)
    if args.persons:
        persons_shape(rows, args.staff)
    reference = reference_from_rows(rows)
    print(f"reference built by the real loader in {time.perf_counter() - t0:.1f}s ({args.staff} staff)")
    stream = events(args.events, args.staff, rng)
    for label, ref in (("empty reference", empty_reference()), ("realistic reference", reference)):
        engine = DetectionEngine(rules, ref)
        alerts = 0
        with throughput() as tuned:  # the daemon's collector settings
            start = time.process_time()
            for i in range(0, len(stream), 1000):
                with tuned.batch():
                    alerts += len(engine.process(stream[i : i + 1000]))
            cpu = time.process_time() - start
            t1 = time.perf_counter()
            with tuned.batch():
                snap = engine.snapshot()
            snap_ms = (time.perf_counter() - t1) * 1000
        print(
            f"{label}: {len(rules)} rules, {len(stream)} events: {len(stream) / cpu:,.0f} events/s "
            f"({cpu / len(stream) * 1e6:.2f} µs/event CPU), {alerts} alerts, "
            f"snapshot {len(snap) / 1024:.0f} KiB in {snap_ms:.1f} ms"
        )


if __name__ == "__main__":
    main()
