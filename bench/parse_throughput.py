"""Parse throughput of every shipped parser on one core, next to a hand-written peer on the same lines.

    .venv/bin/python bench/parse_throughput.py [--lines 200000] [--profile pnc_mainframe] [--gc-freeze]
        [--json results.json]

For each parser: ~200k realistic generated lines through `CompiledParser.parse_batch` (batches of
1,000; the whole event: decode, mapping, normalisers, UTC conversion, SHA-1, id). Peers do the
least a hand-written parser would: one precompiled `re` + `groupdict()` for pattern formats,
`orjson.loads` + flatten for JSON, `csv.reader` + dict for CSV, one `re.findall` + dict for kv.
Prints a table and returns {parser: {"lines_per_s": ..., "peer_lines_per_s": ..., ...}}.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import json
import os
import pstats
import random
import re
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import orjson

from auditwatch.model import RawLine
from auditwatch.parsing import CompiledParser, load_parsers
from auditwatch.service.tuning import throughput

ROOT = Path(__file__).resolve().parents[1]
INGESTED = "2026-11-30T12:00:00.000Z"  # after every generated line (later ones are refused)
SURNAMES = [
    "SMITH",
    "JONES",
    "O'BRIEN",
    "WILLIAMS",
    "TAYLOR",
    "BROWN",
    "DAVIES",
    "EVANS",
    "NGUYEN",
    "KOWALSKI",
]
FORENAMES = ["JOHN", "MARY ANN", "SEAN", "AISHA", "PIOTR", "CHLOE", "DAVID", "SIOBHAN"]


# a force's active users: a few thousand staff numbers, each written a few different ways
STAFF = [n * 7 + 1000 for n in range(3000)]


def _staff(rng: random.Random) -> str:
    number = rng.choice(STAFF)
    return rng.choice([f"MP{number:06d}", f"mp {number}", f"{number}", f"MP{number:06d}"])


def _rms(rng: random.Random, i: int) -> str:
    action = rng.choice(["VIEW", "VIEW", "VIEW", "SEARCH", "UPDATE", "PRINT", "EXPORT"])
    record = rng.choice(["PERSON", "OCCURRENCE", "CUSTODY", "INTEL", "VEHICLE"])
    obj: dict[str, Any] = {
        "audit_id": f"RMS-2026-{i:09d}",
        "ts": f"2026-11-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:"
        f"{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}+00:00",
        "action": action,
        "user": {"staff_no": _staff(rng), "display_name": "PC Jones"},
        "client": {
            "ip": f"10.20.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            "terminal": "WS-KX-0042",
            "session": f"{rng.getrandbits(32):08x}",
        },
        "record": {"type": record, "id": f"PER/{rng.randint(1, 10**7):07d}"},
        "subject": {
            "person_id": f"PER/{rng.randint(1, 10**7):07d}",
            "surname": rng.choice(SURNAMES).title(),
            "forenames": rng.choice(FORENAMES).title(),
            "dob": f"{rng.randint(1, 28):02d}/0{rng.randint(1, 9)}/19{rng.randint(40, 99)}",
            "postcode": "sw1a1aa",
        },
        "reason": {"code": f"{rng.randint(1, 12):02d}", "case_ref": f"CR/{rng.randint(1, 9999)}/26"},
    }
    if action == "SEARCH":
        obj["search"] = {"terms": rng.choice(["SMI*", "JONES", "O'B%"]), "result_count": rng.randint(0, 300)}
    return orjson.dumps(obj).decode()


def _pnc(rng: random.Random, i: int) -> str:
    head = (
        f"{rng.randint(1, 28):02d}11{rng.choice(['25', '26'])} "
        f"{rng.randint(0, 23):02d}{rng.randint(0, 59):02d}"
        f"{rng.randint(0, 59):02d} MP{rng.randint(1, 99999):06d} TRM{rng.randint(1, 999):04d}"
    )
    dob = f"19{rng.randint(40, 99)}0{rng.randint(1, 9)}{rng.randint(10, 28)}"
    key = f"{rng.choice(SURNAMES)}/{rng.choice(FORENAMES)}/{dob}"
    ref = f" REF=CR/{rng.randint(1, 9999)}/26" if rng.random() < 0.7 else ""
    kind = rng.random()
    if kind < 0.6:
        return f"{head} QP  ENQ PERSON {key} RSN={rng.randint(1, 12):02d}{ref} HITS={rng.randint(0, 20):03d}"
    if kind < 0.8:
        return f"{head} QV  ENQ VEHICLE VRM=AB{rng.randint(10, 99)}CDE RSN=03{ref} HITS=001"
    if kind < 0.9:
        return f"{head} UP  UPD PERSON {key} PNCID=26/{rng.randint(1, 999999):06d}A RSN=07{ref}"
    return f"{head} QB  BLK PERSON SMI*/J*/* RSN=09 HITS={rng.randint(0, 500):03d}"


def _custody(rng: random.Random, i: int) -> str:
    return (
        f"<134>1 2026-11-25T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.123Z "
        f'custody01 custodyd 4242 ACCESS - eid=C-{i:010d} user="{_staff(rng)}" action=view '
        f'custody_ref="CUS/26/{rng.randint(1, 9999):04d}" detainee_surname="{rng.choice(SURNAMES).title()}" '
        f"detainee_dob=1990-03-04 reason=07 terminal=CUS-KX-03 session=ab12 src=10.3.4.5"
    )


def _intel(rng: random.Random, i: int) -> str:
    surname = rng.choice(SURNAMES).title().replace("'", "''")
    return (
        f"INT-{i:07d},{rng.randint(1, 28):02d}/11/2026 {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:"
        f'{rng.randint(0, 59):02d},{_staff(rng)},"Jones, Alan",Open,Intel,INT/26/{rng.randint(1, 99999):05d},'
        f'"{surname}, John",01/02/1980,,,07,op/kestrel,WS-INT-07'
    )


def _pgaudit(rng: random.Random, i: int) -> str:
    table = rng.choice(["person", "occurrence", "custody", "vehicle"])
    klass, command, sql = rng.choice(
        [
            ("READ", "SELECT", f"SELECT * FROM {table} WHERE id = {rng.randint(1, 10**6)};"),
            (
                "WRITE",
                "UPDATE",
                f"\"UPDATE {table} SET note = 'x', seen = now() WHERE id = {rng.randint(1, 10**6)};\"",
            ),
        ]
    )
    return (
        f"2026-11-25 {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}."
        f"{rng.randint(0, 999):03d} UTC [{rng.randint(1000, 99999)}] user{rng.choice(STAFF)}@policedb "
        f"LOG:  AUDIT: SESSION,{i},1,{klass},"
        f"{command},TABLE,public.{table},{sql},<not logged>"
    )


GENERATORS: dict[str, Callable[[random.Random, int], str]] = {
    "rms_json": _rms,
    "pnc_mainframe": _pnc,
    "custody_syslog": _custody,
    "intel_csv": _intel,
    "pgaudit": _pgaudit,
}


def _flatten(obj: dict[str, Any], prefix: str, out: dict[str, Any]) -> dict[str, Any]:
    for key, value in obj.items():
        if isinstance(value, dict):
            _flatten(value, f"{prefix}{key}.", out)
        else:
            out[prefix + key] = value
    return out


_PNC_PEER = re.compile(
    r"(?P<ts>.{13}) (?P<user>.{8}) (?P<terminal>.{7}) (?P<txn>.{3}) (?P<verb>\w+) (?P<rest>.*)", re.DOTALL
)
_PG_PEER = re.compile(
    r"(?P<ts>\S+ \S+) UTC \[(?P<pid>\d+)\] (?P<user>[\w.@+-]+)@(?P<db>\S+) "
    r"LOG:  AUDIT: (?P<type>\w+),(?P<sid>\d+),"
    r"(?P<sub>\d+),(?P<cls>\w+),(?P<cmd>[^,]*),(?P<otype>[^,]*),(?P<oname>[^,]*),"
    r"(?P<stmt>\"(?:[^\"]|\"\")*\"|[^,]*),(?P<param>.*)",
    re.DOTALL,
)
_KV_PEER = re.compile(r"(\w+)=(\"(?:[^\"\\]|\\.)*\"|\S*)")


def _peer(name: str) -> Callable[[str], object]:
    if name == "rms_json":
        return lambda text: _flatten(orjson.loads(text), "", {})
    if name == "pnc_mainframe":
        return lambda text: _PNC_PEER.fullmatch(text).groupdict()  # type: ignore[union-attr]
    if name == "pgaudit":
        return lambda text: _PG_PEER.fullmatch(text).groupdict()  # type: ignore[union-attr]
    if name == "intel_csv":
        return lambda text: next(csv.reader([text]))
    return lambda text: dict(_KV_PEER.findall(text))


def _raws(lines: Sequence[str]) -> list[RawLine]:
    out = []
    offset = 0
    for line in lines:
        data = line.encode()
        out.append(
            RawLine(
                "bench", "/var/log/bench.log", "bench-file", offset, offset + len(data) + 1, data, len(data)
            )
        )
        offset += len(data) + 1
    return out


def _time_parser(parser: CompiledParser, raws: list[RawLine]) -> tuple[float, int]:
    dead = 0
    start = time.process_time()
    for i in range(0, len(raws), 1000):
        _, bad = parser.parse_batch(raws[i : i + 1000], INGESTED)
        dead += len(bad)
    return time.process_time() - start, dead


def _time_peer(peer: Callable[[str], object], raws: list[RawLine]) -> float:
    start = time.process_time()
    for raw in raws:
        peer(raw.data.decode())
    return time.process_time() - start


def run(lines: int = 200_000, profile: str = "", gc_freeze: bool = False) -> dict[str, dict[str, float]]:
    parsers = load_parsers(ROOT / "parsers")
    results: dict[str, dict[str, float]] = {}
    # CPU time of this process; other load on the machine still slows it (caches, shared cores)
    print(f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        f"{'parser':16} {'lines':>8} {'lines/s':>10} {'µs/line':>8} {'peer lines/s':>13} "
        f"{'ratio':>6} {'dead':>5}"
    )
    for name, generate in GENERATORS.items():
        rng = random.Random(42)
        raws = _raws([generate(rng, i) for i in range(lines)])
        parser = parsers[name]
        with throughput() if gc_freeze else nullcontext():  # the daemon's GC settings
            if profile == name:
                profiler = cProfile.Profile()
                profiler.enable()
                _time_parser(parser, raws)
                profiler.disable()
                pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
            elapsed, dead = _time_parser(parser, raws)
            peer_elapsed = _time_peer(_peer(name), raws)
        rate, peer_rate = lines / elapsed, lines / peer_elapsed
        results[name] = {
            "lines_per_s": rate,
            "us_per_line": 1e6 / rate,
            "peer_lines_per_s": peer_rate,
            "ratio_to_peer": rate / peer_rate,
            "dead_letters": float(dead),
        }
        print(
            f"{name:16} {lines:>8} {rate:>10,.0f} {1e6 / rate:>8.2f} {peer_rate:>13,.0f} "
            f"{rate / peer_rate:>6.2f} {dead:>5}"
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--profile", default="", help="cProfile this parser's run and print the top entries")
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="GC as the daemon runs it: gc.freeze() after loading (and generating), gen0 threshold 100k",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the result dict to this file")
    args = parser.parse_args()
    results = run(args.lines, args.profile, args.gc_freeze)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
