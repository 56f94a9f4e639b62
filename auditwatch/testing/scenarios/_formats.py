"""Write accesses as log lines in the shipped parser formats (see parsers/*.yml for each layout).

Each writer varies what real systems vary (staff-number spellings, date formats, upper-case
mainframe names) so the generated logs exercise the parsers' normalisers, not only their happy path.
"""

from __future__ import annotations

import json
import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Final

from auditwatch.testing.scenarios._force import LONDON
from auditwatch.testing.scenarios._model import Access, Person, Staff
from auditwatch.testing.scenarios._pick import ambiguous_local

LOG_FILES: Final[dict[str, str]] = {
    "rms_json": "logs/rms/rms-audit.jsonl",
    "pnc_mainframe": "logs/pnc/pnc-transactions.log",
    "custody_syslog": "logs/custody/custody.log",
    "intel_csv": "logs/intel/intel-audit.csv",
}
INTEL_HEADER: Final = (
    "AuditRef,Timestamp,UserId,UserName,Action,RecordType,RecordId,SubjectName,SubjectDob,"
    "SearchTerms,Results,Reason,CaseRef,Workstation"
)
_TRANSLIT: Final = str.maketrans(
    {"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ł": "l", "Ł": "L", "ß": "ss", "đ": "d", "ı": "i", "’": "'"}
)
_REASONS: Final = ("03", "07", "07", "07", "09", "12")


@dataclass(frozen=True, slots=True)
class Malformed:
    """A deliberately broken line and what the parser is expected to say about it."""

    fmt: str
    line: str
    reason: str


def staff_spelling(rng: random.Random, s: Staff) -> str:
    """The staff number as some system spells it: MP012345, mp012345, MP 012345 or 12345."""
    roll = rng.random()
    if roll < 0.55:
        return s.sid
    if roll < 0.75:
        return s.sid.lower()
    if roll < 0.9:
        return f"MP {s.number:06d}"
    return str(s.number)


def mainframe_name(text: str) -> str:
    """Upper-case ASCII as the mainframe stores names: 'Ó Súilleabháin' -> 'O SUILLEABHAIN'."""
    text = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).upper()
    return "".join(ch for ch in text if ch.isascii() and (ch.isalpha() or ch in " '-")).strip() or "UNKNOWN"


def _display(s: Staff) -> str:
    return f"{s.rank} {s.forenames} {s.surname}"


def _ip(s: Staff) -> str:
    return f"10.{20 + s.number % 7}.{s.number // 256 % 256}.{s.number % 250 + 2}"


def _session(rng: random.Random) -> str:
    return f"{rng.getrandbits(40):010x}"


def _rms(rng: random.Random, a: Access, seq: int) -> str:
    local = a.when.astimezone(LONDON)
    ts = (
        local.isoformat(timespec="milliseconds")
        if rng.random() < 0.5
        else a.when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{a.when.microsecond // 1000:03d}Z"
    )
    doc: dict[str, object] = {
        "audit_id": f"RMS-{a.when.year}-{seq:09d}",
        "ts": ts,
        "action": a.action.upper() if rng.random() < 0.8 else a.action,
        "user": {"staff_no": staff_spelling(rng, a.user), "display_name": _display(a.user)},
        "client": {"ip": _ip(a.user), "terminal": a.terminal, "session": _session(rng)},
    }
    if a.action == "search":
        doc["record"] = {"type": "PERSON"}
        doc["search"] = {"terms": a.search_terms, "result_count": a.result_count}
    else:
        doc["record"] = {"type": a.record_type, "id": a.record_id}
    if a.subject is not None and a.action != "search":
        doc["subject"] = _rms_subject(rng, a.subject)
    reason: dict[str, object] = {"code": rng.choice(_REASONS)}
    if a.case_ref:
        reason["case_ref"] = a.case_ref.lower() if rng.random() < 0.15 else a.case_ref
    doc["reason"] = reason
    doc["outcome"] = "SUCCESS"
    return json.dumps(doc, ensure_ascii=rng.random() < 0.3, separators=(",", ":"))


def _rms_subject(rng: random.Random, p: Person) -> dict[str, object]:
    dob_format = rng.choice(("%Y-%m-%d", "%Y-%m-%d", "%d/%m/%Y", "%d-%b-%Y"))
    postcode = p.postcode if rng.random() < 0.7 else p.postcode.replace(" ", "").lower()
    return {
        "person_id": p.person_id,
        "surname": p.surname,
        "forenames": p.forenames,
        "dob": p.dob.strftime(dob_format),
        "postcode": postcode,
        "address": p.address,
    }


def _pnc_user(rng: random.Random, s: Staff) -> str:
    return s.sid if rng.random() < 0.8 else str(s.number)


def _pnc(rng: random.Random, a: Access, seq: int) -> str:
    local = a.when.astimezone(LONDON)
    terminal = f"TRM{a.user.number % 10000:04d}"
    head = f"{local:%d%m%y %H%M%S} {_pnc_user(rng, a.user):<8} {terminal:<7}"
    reason = f"RSN={rng.choice(_REASONS)}" + (f" REF={a.case_ref}" if a.case_ref else "")
    if a.action == "search" and a.wildcard:
        assert a.search_terms is not None
        return f"{head} QB  BLK PERSON {a.search_terms} {reason} HITS={a.result_count or 0:03d}"
    assert a.subject is not None  # an exact search on the mainframe is a person enquiry
    key = f"{mainframe_name(a.subject.surname)}/{mainframe_name(a.subject.forenames)}/{a.subject.dob:%Y%m%d}"
    if a.action == "update":
        return f"{head} UP  UPD PERSON {key} PNCID={a.subject.person_id} {reason}"
    return f"{head} QP  ENQ PERSON {key} {reason} HITS={rng.randint(1, 3):03d}"


def _kv(value: str) -> str:
    if value and all(ch.isalnum() or ch in "/-_.:@" for ch in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def custody_ref(a: Access) -> str:
    """The custody record opened: the case's custody reference, or the subject's earlier detention."""
    if a.record_type == "custody":
        return a.record_id
    pid = a.subject.person_id if a.subject is not None else "0"
    return f"CU/H/{pid.lstrip('P')}"


def _custody(rng: random.Random, a: Access, seq: int) -> str:
    role = "custody_sergeant" if a.user.rank == "PS" else "detention_officer"
    pairs = [
        ("eid", f"C-{seq:010d}"),
        ("user", staff_spelling(rng, a.user)),
        ("action", a.action),
        ("custody_ref", custody_ref(a)),
    ]
    if a.subject is not None:
        p = a.subject
        dob = p.dob.strftime("%Y-%m-%d" if rng.random() < 0.7 else "%d/%m/%Y")
        pairs += [
            ("detainee_id", p.person_id),
            ("detainee_surname", p.surname),
            ("detainee_forenames", p.forenames),
            ("detainee_dob", dob),
        ]
    pairs.append(("reason", rng.choice(_REASONS)))
    if a.case_ref:
        pairs.append(("case_ref", a.case_ref))
    pairs += [("terminal", f"CUS-{a.terminal}"), ("session", _session(rng)[:6]), ("src", _ip(a.user))]
    if a.user.kind == "custody":
        pairs.append(("role", role))
    body = " ".join(f"{k}={_kv(v)}" for k, v in pairs)
    local = a.when.astimezone(LONDON)
    if rng.random() < 0.1 and not _ambiguous(a):  # the old custody server: RFC 3164, local time, no year
        return (
            f"<134>{local:%b} {local.day:>2} {local:%H:%M:%S} custody-old custodyd[{311 + seq % 50}]: {body}"
        )
    ts = (
        local.isoformat(timespec="milliseconds")
        if rng.random() < 0.5
        else (a.when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{a.when.microsecond // 1000:03d}Z")
    )
    sd = f'[meta@32473 site="KX" shift="{local:%H}"]' if rng.random() < 0.3 else "-"
    return f"<134>1 {ts} custody01.kx.police.example custodyd {4000 + seq % 900} ACCESS {sd} {body}"


def _ambiguous(a: Access) -> bool:
    return ambiguous_local(a.when)


def _csv_cell(value: str) -> str:
    if any(ch in value for ch in ',"\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _intel(rng: random.Random, a: Access, seq: int) -> str:
    local = a.when.astimezone(LONDON)
    # some rows carry minutes only; never a labelled one, whose time truth records to the second
    short = a.label is None and rng.random() < 0.15
    ts = f"{local:%d/%m/%Y %H:%M}" if short else f"{local:%d/%m/%Y %H:%M:%S}"
    subject = dob = ""
    if a.subject is not None and a.action != "search":
        subject = f"{a.subject.surname.upper()}, {a.subject.forenames}"
        dob = a.subject.dob.strftime("%d/%m/%Y")
    elif a.action == "search":
        dob = "N/K"
    action = {"view": "Open", "update": "Amend", "search": "Search"}[a.action]
    record = f"INT/{a.when.year % 100:02d}/{seq:05d}" if a.action != "search" else ""
    cells = [
        f"INT-{seq:06d}",
        ts,
        staff_spelling(rng, a.user),
        f"{a.user.surname}, {a.user.forenames}",
        action,
        "Intel",
        record,
        subject,
        dob,
        a.search_terms or "",
        str(a.result_count) if a.result_count is not None else "",
        rng.choice(_REASONS),
        a.case_ref or "",
        f"WS-INT-{a.user.number % 100:02d}",
    ]
    return ",".join(_csv_cell(c) for c in cells)


WRITERS: Final[dict[str, Callable[[random.Random, Access, int], str]]] = {
    "rms_json": _rms,
    "pnc_mainframe": _pnc,
    "custody_syslog": _custody,
    "intel_csv": _intel,
}


def malformed_lines(rng: random.Random, good: dict[str, str]) -> list[Malformed]:
    """A few broken lines per format, made from a good line of that format (`good`: format -> line)."""
    out: list[Malformed] = []
    for fmt, line in sorted(good.items()):
        if fmt == "rms_json":
            out.append(Malformed(fmt, line[: len(line) // 2], "truncated JSON object"))
            out.append(Malformed(fmt, '["VIEW","MP000001"]', "JSON array, not an object"))
        elif fmt == "pnc_mainframe":
            out.append(Malformed(fmt, "31" + "13" + line[4:], "impossible date (month 13)"))
            out.append(Malformed(fmt, line[:35] + "DEL PERSON X/Y/19800101 RSN=07", "unknown transaction"))
        elif fmt == "custody_syslog":
            out.append(Malformed(fmt, "custody01 custodyd user=MP000001 action=view", "no syslog header"))
        elif fmt == "intel_csv":
            out.append(Malformed(fmt, ",".join(line.split(",")[:6]), "too few columns"))
    return out


def write_logs(
    rng: random.Random, out_dir: Path, accesses: list[Access], malformed_per_file: bool = True
) -> tuple[dict[str, list[tuple[str, int]]], list[tuple[Malformed, str, int]], dict[str, int]]:
    """Write every access to its format's file (time order). Returns evidence positions per label,
    the malformed lines with their positions, and the number of access lines per format."""
    lines: dict[str, list[tuple[str, Access | None]]] = {fmt: [] for fmt in WRITERS}
    counts = dict.fromkeys(WRITERS, 0)
    for a in accesses:
        counts[a.fmt] += 1
        lines[a.fmt].append((WRITERS[a.fmt](rng, a, counts[a.fmt]), a))
    good = {fmt: items[len(items) // 2][0] for fmt, items in lines.items() if items}
    broken = malformed_lines(rng, good) if malformed_per_file else []
    for bad in broken:
        items = lines[bad.fmt]
        items.insert(rng.randrange(1, len(items)), (bad.line, None))
    positions: dict[str, list[tuple[str, int]]] = {}
    placed: list[tuple[Malformed, str, int]] = []
    by_line = {(b.fmt, b.line): b for b in broken}
    for fmt, items in lines.items():
        rel = LOG_FILES[fmt]
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        offset = 0
        with path.open("wb") as fh:
            if fmt == "intel_csv":
                data = INTEL_HEADER.encode() + b"\n"
                fh.write(data)
                offset += len(data)
            for text, access in items:
                data = text.encode("utf-8") + b"\n"
                if access is None:
                    placed.append((by_line[(fmt, text)], rel, offset))
                elif access.label is not None:
                    positions.setdefault(access.label, []).append((rel, offset))
                fh.write(data)
                offset += len(data)
    return positions, placed, counts
