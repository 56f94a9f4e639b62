"""The second force's audit logs: four formats of its own, rotated and gzipped like a real host's.

The scenarios produce accesses on four *channels* named after the first force's sources (the main
records system, the national person check, custody, intelligence); this force writes each channel
in its own format, read by parser files that are configuration only (`force2_parsers/*.yml`):

- ``niche_audit`` (records system): space-separated, local time with its UTC offset, lower-case
  staff numbers without zero padding, and **only the person (nominal) id** for a person record;
  rotated as ``nominal-audit.log``, ``.1``, ``.2.gz``, ``.3.gz``, cut inside bulk-browsing windows.
- ``ncheck_json`` (national person check): JSON with epoch-millisecond times and a
  ``SURNAME/FORENAMES`` key with a ``ddmmyyyy`` date of birth, no person id (except on updates).
- ``custody_kv``: key=value without a syslog envelope, local dd/mm/yyyy times, the nominal id always
  and a name (sometimes a date of birth) only on some lines; rotated once (``.1``), cut inside a
  bulk-browsing window. Its malformed lines look lenient on purpose (a stray token, a control
  character, invalid UTF-8): they must become dead letters, not events.
- ``intel_tsv``: tab-separated with a header, epoch seconds, nominal ids.
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import random
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Final

from auditwatch.testing.scenarios._force import LONDON
from auditwatch.testing.scenarios._formats import Malformed, mainframe_name
from auditwatch.testing.scenarios._model import Access, Person, Staff

CHANNELS: Final[dict[str, str]] = {  # the scenarios' channel -> this force's format
    "rms_json": "niche_audit",
    "pnc_mainframe": "ncheck_json",
    "custody_syslog": "custody_kv",
    "intel_csv": "intel_tsv",
}
LOG_FILES: Final[dict[str, str]] = {  # format -> live file (rotated copies sit beside it)
    "niche_audit": "logs/records/nominal-audit.log",
    "ncheck_json": "logs/checks/ncheck.json",
    "custody_kv": "logs/custody/custody-audit.log",
    "intel_tsv": "logs/intel/intel_audit.tsv",
}
ROTATIONS: Final[dict[str, int]] = {"niche_audit": 3, "custody_kv": 1}  # cuts per rotated format
INPUT_GLOBS: Final[dict[str, str]] = {
    fmt: rel + ("*" if fmt in ROTATIONS else "") for fmt, rel in LOG_FILES.items()
}
TSV_HEADER: Final = (
    "ref\tepoch\tlogin\tactivity\tobject_type\tobject_id\tnominal\tterms\tmatched\ttasking\thost"
)
_REASONS: Final = ("A1", "B2", "B2", "C7", "D4")


def nominal(person_id: str) -> str:
    """The records system's spelling of a person id: ``P1234567`` -> ``NM1234567``."""
    return "NM" + person_id[1:]


def _login(rng: random.Random, s: Staff) -> str:
    roll = rng.random()
    if roll < 0.6:
        return f"mp{s.number}"
    if roll < 0.85:
        return f"MP{s.number}"
    return str(s.number)


def _niche(rng: random.Random, a: Access, seq: int) -> str:
    local = a.when.astimezone(LONDON)
    offset = local.strftime("%z")
    ts = f"{local:%Y-%m-%d %H:%M:%S}.{a.when.microsecond // 1000:03d} {offset}"
    op = {"view": "READ", "update": "WRITE", "search": "SEARCH"}[a.action]
    head = f"{ts} A{seq:09d} WKS-{a.user.number % 9000 + 1000} {_login(rng, a.user)} {op}"
    ref = a.case_ref or "-"
    if a.action == "search":
        assert a.search_terms is not None
        terms = a.search_terms.replace('"', "'")
        return f'{head} NOMINAL - ref={ref} q="{terms}" hits={a.result_count or 0}'
    if a.record_type == "person":
        assert a.subject is not None
        return f"{head} NOMINAL {nominal(a.subject.person_id)} ref={ref}"
    return f"{head} {a.record_type.upper()} {a.record_id} ref={ref}"


def _check_name(p: Person) -> str:
    return f"{mainframe_name(p.surname)}/{mainframe_name(p.forenames)}"


def _ncheck(rng: random.Random, a: Access, seq: int) -> str:
    doc: dict[str, object] = {
        "txn": f"PC-{seq:09d}",
        "t": int(a.when.timestamp() * 1000),
        "op": {
            "id": a.user.sid if rng.random() < 0.7 else str(a.user.number),
            "term": f"T{a.user.number % 997:03d}",
        },
    }
    if a.action == "search" and a.wildcard:
        assert a.search_terms is not None
        doc["type"] = "PERSON_SEARCH"
        doc["q"] = {"name": a.search_terms, "dob": None}
    else:
        assert a.subject is not None  # an exact search is a person check
        doc["type"] = "PERSON_UPDATE" if a.action == "update" else "PERSON_CHECK"
        doc["q"] = {"name": _check_name(a.subject), "dob": f"{a.subject.dob:%d%m%Y}"}
        if a.action == "update":
            doc["nominal"] = nominal(a.subject.person_id)
    why: dict[str, object] = {"code": rng.choice(_REASONS)}
    if a.case_ref:
        why["ref"] = a.case_ref
    doc["why"] = why
    doc["hits"] = a.result_count if a.result_count is not None else rng.randint(1, 3)
    return json.dumps(doc, separators=(",", ":"))


def _kv(value: str) -> str:
    if value and all(ch.isalnum() or ch in "/-_.:" for ch in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _custody(rng: random.Random, a: Access, seq: int) -> str:
    local = a.when.astimezone(LONDON)
    pairs = [
        ("when", f"{local:%d/%m/%Y %H:%M:%S}"),
        ("officer", _login(rng, a.user)),
        ("op", {"view": "VIEW", "update": "EDIT", "search": "FIND"}[a.action]),
    ]
    if a.record_type == "custody":
        pairs.append(("custody_no", a.record_id))
    if a.subject is not None:
        p = a.subject
        pairs.append(("nominal", nominal(p.person_id)))
        roll = rng.random()
        if roll < 0.35:  # some screens log the detainee's name too
            pairs.append(("name", f"{mainframe_name(p.surname)}, {p.forenames}"))
            if roll < 0.2:
                pairs.append(("dob", f"{p.dob:%d.%m.%Y}"))
    if a.case_ref:
        pairs.append(("ref", a.case_ref))
    pairs += [("wks", f"CUS-{a.terminal}"), ("ev", f"K{seq:010d}")]
    return " ".join(f"{k}={_kv(v)}" for k, v in pairs)


def _intel(rng: random.Random, a: Access, seq: int) -> str:
    activity = {"view": "OPEN", "update": "AMEND", "search": "SEARCH"}[a.action]
    cells = [
        f"IR{seq:07d}",
        str(int(a.when.astimezone(UTC).timestamp())),
        a.user.sid,
        activity,
        "NOMINAL" if a.subject is not None and a.action != "search" else "QUERY",
        f"INT-{seq:06d}" if a.action != "search" else "",
        nominal(a.subject.person_id) if a.subject is not None and a.action != "search" else "",
        (a.search_terms or "").replace("\t", " "),
        str(a.result_count) if a.result_count is not None else "",
        a.case_ref or "",
        f"intel-ws{a.user.number % 40:02d}",
    ]
    return "\t".join(cells)


WRITERS: Final[dict[str, Callable[[random.Random, Access, int], str]]] = {
    "niche_audit": _niche,
    "ncheck_json": _ncheck,
    "custody_kv": _custody,
    "intel_tsv": _intel,
}


def malformed_lines(good: dict[str, str]) -> list[Malformed]:
    """Broken lines per format, made from a good line (`good`: format -> line)."""
    out: list[Malformed] = []
    for fmt, line in sorted(good.items()):
        if fmt == "niche_audit":
            out.append(Malformed(fmt, line[:10] + " 25:71:00" + line[19:], "impossible time of day"))
            out.append(
                Malformed(fmt, line[: line.index(" NOMINAL") if " NOMINAL" in line else 40], "cut short")
            )
        elif fmt == "ncheck_json":
            out.append(Malformed(fmt, line[: len(line) // 2], "truncated JSON object"))
        elif fmt == "custody_kv":
            # each looks almost right: a lenient decoder would make an event of it
            out.append(
                Malformed(
                    fmt,
                    line.replace("ev=", "ev=K00 00", 1),
                    "a bare word without '=' (value with a space, unquoted)",
                )
            )
            out.append(Malformed(fmt, line.replace("op=", "op=VI\x07", 1), "control character in a value"))
            out.append(Malformed(fmt, line.replace("wks=", 'wks="', 1), "quoted value not closed"))
            out.append(Malformed(fmt, line.replace("officer=", "officer=M\udce9", 1), "invalid UTF-8"))
        elif fmt == "intel_tsv":
            out.append(Malformed(fmt, "\t".join(line.split("\t")[:5]), "too few columns"))
    return out


def write_logs(
    rng: random.Random, out_dir: Path, accesses: list[Access], cut_labels: dict[str, list[str]]
) -> tuple[
    dict[str, list[tuple[str, int]]], list[tuple[Malformed, str, int]], dict[str, int], dict[str, list[Path]]
]:
    """Write every access in its format, rotating the rotated formats inside the windows of the
    truth entries `cut_labels` names (format -> labels). Returns evidence positions per label, the
    malformed lines with their positions, access lines per format, and the files of each format."""
    lines: dict[str, list[tuple[str, Access | None]]] = {fmt: [] for fmt in WRITERS}
    counts = dict.fromkeys(WRITERS, 0)
    for a in accesses:
        fmt = CHANNELS[a.fmt]
        counts[fmt] += 1
        lines[fmt].append((WRITERS[fmt](rng, a, counts[fmt]), a))
    good = {fmt: items[len(items) // 2][0] for fmt, items in lines.items() if items}
    broken = malformed_lines(good)
    for bad in broken:
        items = lines[bad.fmt]
        items.insert(rng.randrange(1, len(items)), (bad.line, None))
    by_line = {(b.fmt, b.line): b for b in broken}
    positions: dict[str, list[tuple[str, int]]] = {}
    placed: list[tuple[Malformed, str, int]] = []
    files: dict[str, list[Path]] = {}
    for fmt, items in lines.items():
        segments = _segments(items, cut_labels.get(fmt, []), ROTATIONS.get(fmt, 0))
        live = LOG_FILES[fmt]
        files[fmt] = []
        for k, segment in enumerate(segments):
            index = len(segments) - 1 - k  # the oldest segment has the highest rotation number
            rel = live if index == 0 else f"{live}.{index}" + (".gz" if index >= 2 else "")
            buffer = io.BytesIO()
            if fmt == "intel_tsv":
                buffer.write(TSV_HEADER.encode() + b"\n")
            for text, access in segment:
                offset = buffer.tell()
                if access is None:
                    placed.append((by_line[(fmt, text)], rel, offset))
                elif access.label is not None:
                    positions.setdefault(access.label, []).append((rel, offset))
                buffer.write(text.encode("utf-8", "surrogateescape") + b"\n")
            path = out_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            data = buffer.getvalue()
            if rel.endswith(".gz"):
                packed = io.BytesIO()
                with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0) as gz:
                    gz.write(data)
                data = packed.getvalue()
            path.write_bytes(data)
            files[fmt].append(path)
    return positions, placed, counts, files


def _segments(
    items: list[tuple[str, Access | None]], labels: list[str], cuts: int
) -> list[list[tuple[str, Access | None]]]:
    """Split time-ordered lines into `cuts` + 1 files, each cut in the middle of one labelled window."""
    points: list[int] = []
    for label in labels:
        where = [i for i, (_, a) in enumerate(items) if a is not None and a.label == label]
        if len(where) >= 2:
            points.append(where[len(where) // 2])
        if len(points) == cuts:
            break
    bounds = [0, *sorted(set(points)), len(items)]
    return [items[a:b] for a, b in itertools.pairwise(bounds) if b > a]
