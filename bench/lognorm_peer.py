"""Parsing peer: liblognorm's `lognormalizer` vs the auditwatch pattern parser on the same lines.

The pnc_mainframe fixed-field format gets a liblognorm v2 rulebase (one rule per transaction,
with and without the optional `REF=`); `lognormalizer -e json` parses the lines in one process
and its CPU (rusage of the child) is the peer's cost. The auditwatch side is
`CompiledParser.parse_batch` (decode, mapping, normalisers, UTC conversion, id) on one core.
Both outputs are then cross-checked field by field: lognormalizer's raw captures, given the same
trivial conversions (London local time -> UTC, yyyymmdd -> ISO date, HITS -> int, staff numbers
upper-cased), must equal the auditwatch fields; every difference is counted per field.

    .venv/bin/python -m bench.lognorm_peer [--lines 200000]
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from auditwatch.parsing import load_parsers
from bench.parse_throughput import INGESTED, ROOT, _pnc, _raws

LOGNORMALIZER = "/usr/bin/lognormalizer"
LONDON = ZoneInfo("Europe/London")

_HEAD = "%date:word% %time:word% %user:word% %terminal:word% %txn:word%  "
_KEY = '%surname:char-to{"extradata":"/"}%/%forenames:char-to{"extradata":"/"}%/%dob:word%'
_TAILS = ("RSN=%reason:word% REF=%case_ref:word% HITS=%hits:number%", "RSN=%reason:word% HITS=%hits:number%")
RULEBASE = "\n".join(
    [
        "version=2",
        *(f"rule=person_enquiry:{_HEAD}ENQ PERSON {_KEY} {t}" for t in _TAILS),
        *(f"rule=person_search:{_HEAD}BLK PERSON %terms:word% {t}" for t in _TAILS),
        *(f"rule=vehicle_enquiry:{_HEAD}ENQ VEHICLE VRM=%vrm:word% {t}" for t in _TAILS),
        f"rule=person_update:{_HEAD}UPD PERSON {_KEY} PNCID=%pncid:word% "
        "RSN=%reason:word% REF=%case_ref:rest%",
        f"rule=person_update:{_HEAD}UPD PERSON {_KEY} PNCID=%pncid:word% RSN=%reason:rest%",
    ]
)


def ensure_installed() -> None:
    if not Path(LOGNORMALIZER).exists():
        subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", "liblognorm-utils"],
            check=True,
            capture_output=True,
            env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )


def _expected(ln: dict[str, Any]) -> dict[str, Any]:
    """The auditwatch fields that lognormalizer's captures stand for."""
    local = datetime.strptime(f"{ln['date']} {ln['time']}", "%d%m%y %H%M%S").replace(tzinfo=LONDON)
    out: dict[str, Any] = {
        "@timestamp": local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "user.id": ln["user"].upper(),
        "auditwatch.terminal": ln["terminal"],
        "auditwatch.function_code": ln["txn"],
        "auditwatch.reason.code": ln["reason"],
    }
    if "case_ref" in ln:
        out["auditwatch.reason.case_ref"] = ln["case_ref"]
    if "hits" in ln:
        out["auditwatch.search.result_count"] = int(ln["hits"])
    if "surname" in ln:
        out["auditwatch.subject.surname"] = ln["surname"]
        out["auditwatch.subject.forenames"] = ln["forenames"]
        dob = ln["dob"]
        out["auditwatch.subject.dob"] = f"{dob[:4]}-{dob[4:6]}-{dob[6:]}"
    if "terms" in ln:
        out["auditwatch.search.terms"] = ln["terms"]
    if "vrm" in ln:
        out["auditwatch.record.id"] = ln["vrm"].upper()
    if "pncid" in ln:
        out["auditwatch.record.id"] = ln["pncid"]
    return out


def run(lines: int = 200_000) -> dict[str, Any]:
    ensure_installed()
    rng = random.Random(42)
    texts = [_pnc(rng, i) for i in range(lines)]
    work = Path(tempfile.mkdtemp(prefix="aw-lognorm-"))
    try:
        (work / "pnc.rb").write_text(RULEBASE + "\n")
        (work / "pnc.log").write_text("\n".join(texts) + "\n")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with (work / "pnc.log").open("rb") as src, (work / "out.json").open("wb") as dst:
            subprocess.run(
                [LOGNORMALIZER, "-r", str(work / "pnc.rb"), "-e", "json"], stdin=src, stdout=dst, check=True
            )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        peer_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        peer_out = [orjson.loads(line) for line in (work / "out.json").read_bytes().splitlines()]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    parser = load_parsers(ROOT / "parsers")["pnc_mainframe"]
    raws = _raws(texts)
    started = time.process_time()
    events = []
    dead = 0
    for i in range(0, len(raws), 1000):
        good, bad = parser.parse_batch(raws[i : i + 1000], INGESTED)
        events.extend(good)
        dead += len(bad)
    aw_cpu = time.process_time() - started
    by_offset = {e.raw.offset: e.fields for e in events}
    mismatches: Counter[str] = Counter()
    unparsed = 0
    compared = 0
    for raw, ln in zip(raws, peer_out, strict=True):
        if "unparsed-data" in ln:
            unparsed += 1
            continue
        fields = by_offset.get(raw.offset)
        if fields is None:
            mismatches["(auditwatch dead letter)"] += 1
            continue
        compared += 1
        for name, value in _expected(ln).items():
            if fields.get(name) != value:
                mismatches[name] += 1
    return {
        "lines": lines,
        "auditwatch_lines_per_s": lines / aw_cpu,
        "auditwatch_us_per_line": aw_cpu / lines * 1e6,
        "lognormalizer_lines_per_s": lines / peer_cpu,
        "lognormalizer_us_per_line": peer_cpu / lines * 1e6,
        "ratio_to_peer": peer_cpu / aw_cpu,
        "compared": compared,
        "lognormalizer_unparsed": unparsed,
        "auditwatch_dead": dead,
        "mismatches": dict(mismatches),
    }


def render(r: dict[str, Any]) -> str:
    mism = ", ".join(f"{k}: {v}" for k, v in sorted(r["mismatches"].items())) or "none"
    return (
        f"pnc_mainframe, {r['lines']:,} lines: auditwatch {r['auditwatch_lines_per_s']:,.0f} lines/s "
        f"({r['auditwatch_us_per_line']:.2f} µs/line CPU), "
        f"lognormalizer {r['lognormalizer_lines_per_s']:,.0f} "
        f"lines/s ({r['lognormalizer_us_per_line']:.2f} µs/line CPU, whole process incl. JSON output), "
        f"ratio {r['ratio_to_peer']:.2f}\n"
        f"cross-check: {r['compared']:,} lines compared field by field, mismatches: {mism}; "
        f"lognormalizer unparsed {r['lognormalizer_unparsed']}, "
        f"auditwatch dead letters {r['auditwatch_dead']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    result = run(args.lines)
    print(render(result))
    if args.json:
        args.json.write_text(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
