"""The second force's reference exports: other systems, other columns, other quirks than the first's.

- HR (`hr/establishment.csv`): pipe-delimited, CRLF, yyyymmdd dates, plain staff numbers and
  **no person ids** (HR knows nothing of the records system), roles comma-separated upper case.
- Persons (`rms/nominals.csv`): the records system's nominal table in Windows-1252, names
  **upper-cased and ASCII-folded**, dd-MON-yyyy dates, **unspaced postcodes**, aliases.
- Watchlist (`vip/watchlist.json`): JSON object holding a list; half the entries carry no nominal
  id (name and date of birth only); `added`/`removed` dates, some inside the period.
- Integrity register (`integrity/declarations.csv`): semicolon-delimited with a BOM, separate name
  columns, dd.mm.yyyy dates, **no person ids**.
- Assignments (`cases/allocations.json`): a JSON list, lower-case references; case links
  (`cases/case_nominals.csv`); roster (`roster/roster.txt`): **UTF-16 tab-separated** (Excel's
  "Unicode text"), hhmm times, **rest-day and leave rows with blank times**; surname frequencies.
"""

from __future__ import annotations

import csv
import io
import json
import random
import unicodedata
from datetime import date, timedelta
from pathlib import Path
from typing import Final

from auditwatch.testing.scenarios._force import Force
from auditwatch.testing.scenarios._formats import _TRANSLIT, mainframe_name
from auditwatch.testing.scenarios._formats2 import nominal
from auditwatch.testing.scenarios._model import Person, Shift

EXPORT_FILES: Final[dict[str, str]] = {
    "staff": "exports/hr/establishment.csv",
    "persons": "exports/rms/nominals.csv",
    "watchlist": "exports/vip/watchlist.json",
    "associates": "exports/integrity/declarations.csv",
    "assignments": "exports/cases/allocations.json",
    "case_links": "exports/cases/case_nominals.csv",
    "roster": "exports/roster/roster.txt",
    "surnames": "exports/ref/surnames.csv",
}
_STATUS: Final[dict[str, str]] = {
    "active": "ACTIVE",
    "suspended": "SUSPENDED",
    "restricted": "RESTRICTED",
    "left": "LEAVER",
}
_DUTIES: Final[dict[str, str]] = {
    "control_room": "CONTROL ROOM",
    "intelligence_bulk": "INTELLIGENCE BULK",
    "press_office": "PRESS OFFICE",
    "psd": "PSD",
    "vetting": "VETTING",
    "subject_access": "SUBJECT ACCESS",
    "training": "TRAINING",
    "major_incident": "MAJOR INCIDENT",
}


def _csv(rows: list[list[str]], *, delimiter: str = ",", crlf: bool = False) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n")
    writer.writerows(rows)
    return buffer.getvalue()


def write_exports(rng: random.Random, force: Force, out_dir: Path) -> dict[str, Path]:
    """Write all eight exports; returns kind -> path."""
    paths = {kind: out_dir / rel for kind, rel in EXPORT_FILES.items()}
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    _hr(force, paths["staff"])
    _persons(rng, force, paths["persons"])
    _watchlist(force, paths["watchlist"])
    _associates(force, paths["associates"])
    _assignments(force, paths["assignments"])
    rows = [["CaseNo", "NominalId", "Involvement"]]
    rows += [[c.ref, nominal(pid), role.upper()] for c in force.cases.values() for pid, role in c.links]
    paths["case_links"].write_text(_csv(rows), encoding="utf-8")
    _roster(rng, force, paths["roster"])
    rows = [["Name", "Frequency"]] + [[n.upper(), str(c)] for n, c in sorted(force.surname_counts.items())]
    paths["surnames"].write_text(_csv(rows), encoding="utf-8")
    return paths


def _hr(force: Force, path: Path) -> None:
    rows = [
        [
            "Employee No.",
            "Family Name",
            "Given Names",
            "Birth Date",
            "Address Line 1",
            "Post Code",
            "Org Unit",
            "Grade",
            "Role Tags",
            "Clearance",
            "Clearance Review",
            "Emp Status",
            "Status Date",
        ]
    ]
    for s in force.staff:
        base = [
            str(s.number),
            s.surname,
            s.forenames,
            f"{s.dob:%Y%m%d}",
            s.address,
            s.postcode,
            s.unit,
            s.rank,
            ",".join(_DUTIES[d] for d in s.duties),
            s.vetting_level,
            f"{s.vetting_expiry:%Y%m%d}",
        ]
        joined = force.start.replace(year=force.start.year - 2 - s.number % 12)
        rows.append([*base, "ACTIVE", f"{joined:%Y%m%d}"])
        if s.status != "active" and s.status_from is not None:
            rows.append([*base, _STATUS[s.status], f"{s.status_from:%Y%m%d}"])
    path.write_text(_csv(rows, delimiter="|", crlf=True), encoding="utf-8")


def _persons(rng: random.Random, force: Force, path: Path) -> None:
    rows = [["NOMINAL_ID", "SURNAME", "FORENAMES", "DATE_OF_BIRTH", "POSTCODE", "ADDRESS", "AKA"]]
    for p in force.persons.values():
        alias = ""
        if rng.random() < 0.04:  # a recorded alias: another spelling of the surname
            alias = f"{mainframe_name(p.surname)}E, {mainframe_name(p.forenames)}"
        rows.append(
            [
                nominal(p.person_id),
                mainframe_name(p.surname),
                mainframe_name(p.forenames),
                p.dob.strftime("%d-%b-%Y").upper(),
                p.postcode.replace(" ", ""),
                _ascii_upper(p.address),
                alias,
            ]
        )
    path.write_bytes(_csv(rows, crlf=True).encode("cp1252"))


def _ascii_upper(text: str) -> str:
    """Upper-case ASCII with digits kept: '12 Rue Émile, Bâth' -> '12 RUE EMILE, BATH'."""
    folded = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    return "".join(ch for ch in folded if ch.isascii() and not unicodedata.combining(ch)).upper()


def _display_name(p: Person) -> str:
    return f"{p.surname}, {p.forenames}"


def _watchlist(force: Force, path: Path) -> None:
    entries = []
    for i, (pid, category, reason) in enumerate(force.watchlist):
        p = force.persons[pid]
        added, removed = force.watch_dates.get(pid, (None, None))
        entries.append(
            {
                "nominal": nominal(pid) if i % 2 == 0 else None,  # the rest: name and date of birth only
                "name": _display_name(p),
                "dob": p.dob.isoformat(),
                "category": category.replace("_", " ").upper(),
                "note": reason,
                "added": added.isoformat() if added else None,
                "removed": removed.isoformat() if removed else None,
            }
        )
    doc = {"generated": (force.start - timedelta(days=1)).isoformat(), "entries": entries}
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")


def _associates(force: Force, path: Path) -> None:
    rows = [["Declarant", "Assoc Surname", "Assoc Forenames", "Assoc Born", "Relationship", "Declared"]]
    for number, pid, relationship, declared in force.associates:
        p = force.persons[pid]
        declarant = f"MP {number:06d}" if number % 3 else str(number)
        rows.append(
            [declarant, p.surname, p.forenames, f"{p.dob:%d.%m.%Y}", relationship, f"{declared:%d.%m.%Y}"]
        )
    path.write_bytes(b"\xef\xbb\xbf" + _csv(rows, delimiter=";").encode("utf-8"))


def _assignments(force: Force, path: Path) -> None:
    items = [
        {
            "officer": str(a.staff),
            "case": a.case_ref.lower(),
            "from": a.start.isoformat(),
            "until": a.end.isoformat() if a.end else None,
            "capacity": a.role.upper(),
        }
        for a in force.assignments
    ]
    path.write_text(json.dumps(items, indent=0), encoding="utf-8")


def _roster(rng: random.Random, force: Force, path: Path) -> None:
    rows = [["Emp No", "Duty Date", "Shift", "On", "Off"]]
    for s in force.staff:
        by_day: dict[date, list[Shift]] = {}
        for sh in force.shifts[s.number]:
            by_day.setdefault(sh.day, []).append(sh)
        for d in range(-1, force.days + 1):
            day = force.start + timedelta(days=d)
            if day not in by_day:  # rest days and leave: rows without times
                rows.append(
                    [f"MP{s.number:06d}", day.isoformat(), "AL" if rng.random() < 0.05 else "RD", "", ""]
                )
            for sh in by_day.get(day, []):
                on, off = sh.start_local.replace(":", ""), sh.end_local.replace(":", "")
                rows.append([f"MP{s.number:06d}", day.isoformat(), sh.code, on, off])
    path.write_text(_csv(rows, delimiter="\t", crlf=True), encoding="utf-16")
