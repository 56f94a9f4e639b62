"""Reference exports as a force's systems would produce them: each with its own columns and quirks.

Quirks on purpose: a UTF-8 BOM and CRLF line ends (HR), semicolons (watchlist, roster), dd/mm/yyyy
and dd.mm.yyyy dates, staff numbers spelt ``mp012345`` / ``12345`` / ``MP 012345`` depending on the
export, full names in one cell, a JSON object wrapping a list, JSON lines, accents and apostrophes.
The column mapping that reads them is in `_config.REFERENCE_SECTION`.
"""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import date
from pathlib import Path
from typing import Final

from auditwatch.testing.scenarios._force import Force

EXPORT_FILES: Final[dict[str, str]] = {
    "staff": "exports/hr_directory.csv",
    "watchlist": "exports/vip_watchlist.csv",
    "associates": "exports/integrity_register.json",
    "assignments": "exports/case_assignments.csv",
    "case_links": "exports/case_persons.jsonl",
    "roster": "exports/duty_roster.csv",
    "surnames": "exports/surname_frequency.csv",
}
_DUTY_NAMES: Final[dict[str, str]] = {
    "control_room": "Control Room",
    "intelligence_bulk": "Intelligence Bulk",
    "press_office": "Press Office",
    "psd": "PSD",
    "vetting": "Vetting",
    "subject_access": "Subject Access",
    "training": "Training",
    "major_incident": "Major Incident",
}
_STATUS_NAMES: Final[dict[str, str]] = {
    "active": "Active",
    "suspended": "Suspended",
    "restricted": "Restricted Duties",
    "left": "Leaver",
}


def _dmy(d: date | None) -> str:
    return "" if d is None else f"{d:%d/%m/%Y}"


def _csv(rows: list[list[str]], *, delimiter: str = ",", crlf: bool = False) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n")
    writer.writerows(rows)
    return buffer.getvalue()


def write_exports(rng: random.Random, force: Force, out_dir: Path) -> dict[str, Path]:
    """Write all seven exports; returns kind -> path."""
    paths = {kind: out_dir / rel for kind, rel in EXPORT_FILES.items()}
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    _hr(rng, force, paths["staff"])
    _watchlist(force, paths["watchlist"])
    _associates(force, paths["associates"])
    _assignments(rng, force, paths["assignments"])
    _case_links(force, paths["case_links"])
    _roster(force, paths["roster"])
    rows = [["surname", "count"]] + [
        [name, str(count)] for name, count in sorted(force.surname_counts.items())
    ]
    paths["surnames"].write_text(_csv(rows), encoding="utf-8")
    return paths


def _hr(rng: random.Random, force: Force, path: Path) -> None:
    header = [
        "Staff No",
        "Surname",
        "Forename(s)",
        "Date of Birth",
        "Home Address",
        "Home Post Code",
        "Unit",
        "Rank/Grade",
        "Duties",
        "Vetting Level",
        "Vetting Expiry",
        "Employment Status",
        "Status Effective",
        "RMS Person Ref",
    ]
    rows = [header]
    for s in force.staff:
        postcode = s.postcode if rng.random() < 0.8 else s.postcode.replace(" ", "").lower()
        base = [
            s.sid.lower(),
            s.surname,
            s.forenames,
            _dmy(s.dob),
            s.address,
            postcode,
            s.unit,
            s.rank,
            "; ".join(_DUTY_NAMES[d] for d in s.duties),
            s.vetting_level,
            _dmy(s.vetting_expiry),
        ]
        pid = s.person_id if s.person_id and s.person_id_in_hr else ""
        joined = force.start.replace(year=force.start.year - 3 - s.number % 10)
        rows.append([*base, "Active", _dmy(joined), pid])
        if s.status != "active":  # a status history: one more row from the day the change applies
            rows.append([*base, _STATUS_NAMES[s.status], _dmy(s.status_from), pid])
    path.write_bytes(b"\xef\xbb\xbf" + _csv(rows, crlf=True).encode("utf-8"))


def _watchlist(force: Force, path: Path) -> None:
    rows = [["Person Ref", "Full Name", "Birth Date", "Category", "Reason"]]
    for pid, category, reason in force.watchlist:
        p = force.persons[pid]
        rows.append(
            [
                pid,
                f"{p.surname.upper()}, {p.forenames}",
                f"{p.dob:%d.%m.%Y}",
                category.replace("_", " ").title(),
                reason,
            ]
        )
    path.write_text(_csv(rows, delimiter=";"), encoding="utf-8")


def _associates(force: Force, path: Path) -> None:
    register = []
    for number, pid, relationship, declared in force.associates:
        p = force.persons[pid]
        register.append(
            {
                "Declarant": f"MP {number:06d}",
                "AssociateSurname": p.surname,
                "AssociateForenames": p.forenames,
                "AssociateDOB": _dmy(p.dob),
                "Relationship": relationship,
                "DeclaredOn": declared.isoformat(),
            }
        )
    doc = {"exported": force.start.isoformat(), "register": register}
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")


def _assignments(rng: random.Random, force: Force, path: Path) -> None:
    rows = [["Officer", "Case Reference", "Assigned From", "Assigned To", "Role"]]
    for a in force.assignments:
        ref = a.case_ref if rng.random() < 0.8 else a.case_ref.lower()
        rows.append([str(a.staff), ref, _dmy(a.start), _dmy(a.end), a.role.upper()])
    path.write_text(_csv(rows, crlf=True), encoding="utf-8")


def _case_links(force: Force, path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for case in force.cases.values():
            for pid, role in case.links:
                fh.write(
                    json.dumps({"case": case.ref, "person": pid, "role": role.replace("_", " ").title()})
                    + "\n"
                )


def _roster(force: Force, path: Path) -> None:
    rows = [["Officer", "Duty Date", "Start", "Finish", "Shift"]]
    for s in force.staff:
        for sh in force.shifts[s.number]:
            rows.append([f"MP {s.number:06d}", _dmy(sh.day), sh.start_local, sh.end_local, sh.code])
    path.write_bytes(b"\xef\xbb\xbf" + _csv(rows, delimiter=";").encode("utf-8"))
