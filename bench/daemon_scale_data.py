"""Inputs for bench/daemon_scale.py: an event backlog drawn from reference_scale's exports, and the config.

The exports are bench/reference_scale.py's (`generate`); the events are written by the synthetic
force's log writers (`auditwatch.testing.scenarios._formats.write_logs`: RMS JSON, the mainframe's
fixed fields, custody syslog, intelligence CSV), but every user, subject, case and time comes from
those exports, so each rule consults the reference data at full size:

- 85 %: an access explained by an assignment active that day (the user's case, linked to the
  subject), during one of the user's rostered shifts, with the case reference in 60 % of them;
- 9 %: a random person opened during a shift (unrelated-record, and the relationship rules);
- 3 %: a wildcard name search, half of them with a case reference (fishing-search);
- 2 %: an access off duty (out-of-hours);
- 1 %: a random person opened by any member of staff, including those whose HR status or vetting
  has lapsed (restricted-user, vetting-lapsed); the others are users in good standing.
Deterministic for a given seed and set of exports.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Final

from auditwatch.testing.scenarios._force import LONDON, local_span
from auditwatch.testing.scenarios._formats import LOG_FILES, write_logs
from auditwatch.testing.scenarios._model import Access, Person, Shift, Staff
from auditwatch.testing.scenarios._pick import search, time_in, view

REPO: Final = Path(__file__).resolve().parents[1]
EXPORTS: Final = {  # reference kind -> file written by reference_scale.generate
    "staff": "hr.csv",
    "watchlist": "watchlist.csv",
    "associates": "associates.csv",
    "assignments": "assignments.csv",
    "case_links": "case_links.csv",
    "roster": "roster.csv",
    "persons": "persons.csv",
}


def _day(text: str) -> date:
    d, m, y = text.split("/")
    return date(int(y), int(m), int(d))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _staff(row: dict[str, str]) -> Staff:
    number = int(row["staff_id"][2:])
    roles = tuple(r for r in row["roles"].split("|") if r)
    if roles:
        kind = roles[0]
    elif number % 10 == 0:
        kind = "custody"
    elif number % 20 == 1:
        kind = "intelligence"
    else:
        kind = "response"
    return Staff(
        number=number,
        surname=row["surname"],
        forenames=row["forenames"],
        dob=_day(row["dob"]),
        address=row["address"],
        postcode=row["postcode"],
        kind=kind,
        unit=row["unit"],
        rank="PS" if number % 7 == 0 else row["rank"],
        duties=roles,
        vetting_level=row["vetting_level"],
        vetting_expiry=_day(row["vetting_expiry"]),
    )


def _shifts(path: Path) -> dict[str, list[Shift]]:
    out: dict[str, list[Shift]] = defaultdict(list)
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            day = _day(row["date"])
            start, end = local_span(day, row["start"], row["end"])
            out[row["staff_id"]].append(Shift(0, day, "E", row["start"], row["end"], start, end))
    return out


def _links(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            out[row["case_ref"]].append(row["person_id"])
    return out


def _persons(path: Path, wanted: set[str]) -> dict[str, Person]:
    out: dict[str, Person] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["person_id"] in wanted:
                out[row["person_id"]] = Person(
                    row["person_id"],
                    row["surname"],
                    row["forenames"],
                    _day(row["dob"]),
                    row["address"],
                    row["postcode"],
                )
    return out


def _restricted(path: Path) -> set[str]:
    """Staff with any status other than Active on some HR row."""
    return {row["staff_id"] for row in _rows(path) if row["status"] != "Active"}


def _off_duty(rng: random.Random, shifts: list[Shift]) -> datetime:
    """A time at least two hours away from every shift of the user (the roster period's days)."""
    first = min(sh.day for sh in shifts)
    for _ in range(100):
        day = first + timedelta(days=rng.randrange(0, 30))
        when = datetime.combine(day, datetime.min.time(), LONDON) + timedelta(seconds=rng.randrange(86400))
        if all(not (sh.start - timedelta(hours=2) <= when <= sh.end + timedelta(hours=2)) for sh in shifts):
            return when.astimezone(UTC)
    return time_in(rng, rng.choice(shifts))


def write_events(exports: Path, out: Path, events: int, seed: int = 5) -> dict[str, int]:
    """Write `events` access lines under `out` (the force's LOG_FILES); the lines per format."""
    rng = random.Random(seed)
    staff = {row["staff_id"]: _staff(row) for row in _rows(exports / EXPORTS["staff"])}
    shifts = _shifts(exports / EXPORTS["roster"])
    links = _links(exports / EXPORTS["case_links"])
    first = min(sh.day for user in shifts.values() for sh in user)
    last = max(sh.day for user in shifts.values() for sh in user)
    # users in good standing: active, vetting valid through the roster period (the export has many
    # lapsed ones, who alert on every access: they make up 1 % of the accesses)
    good = {sid for sid, s in staff.items() if s.vetting_expiry > last and sid in shifts} - _restricted(
        exports / EXPORTS["staff"]
    )
    active = [  # assignments in force on some rostered day of their member of staff, with linked people
        (row["staff_id"], row["case_ref"], _day(row["from"]), _day(row["to"]) if row["to"] else last)
        for row in _rows(exports / EXPORTS["assignments"])
        if row["case_ref"] in links and row["staff_id"] in good
    ]
    active = [a for a in active if a[2] <= last and a[3] >= first]
    n_persons = sum(1 for _ in (exports / EXPORTS["persons"]).open()) - 1
    users, good_users = sorted(shifts), sorted(good) or sorted(shifts)
    plan: list[tuple[str, str, str | None, datetime, str]] = []  # user, person, case ref, when, what
    while len(plan) < events:
        roll = rng.random()
        if roll < 0.85 and active:
            sid, ref, start, end = rng.choice(active)
            days = [sh for sh in shifts[sid] if start <= sh.day <= end]
            if not days:
                continue
            when = time_in(rng, rng.choice(days))
            plan.append((sid, rng.choice(links[ref]), ref if rng.random() < 0.6 else None, when, "view"))
            continue
        sid = rng.choice(good_users if roll < 0.99 else users)
        person = f"P{rng.randrange(n_persons):08d}"
        if roll < 0.94 or roll >= 0.99:
            plan.append((sid, person, None, time_in(rng, rng.choice(shifts[sid])), "view"))
        elif roll < 0.97:
            wanted = f"CR/2026/{rng.randrange(300_000):06d}" if rng.random() < 0.5 else None
            plan.append((sid, person, wanted, time_in(rng, rng.choice(shifts[sid])), "search"))
        else:
            plan.append((sid, person, None, _off_duty(rng, shifts[sid]), "view"))
    people = _persons(exports / EXPORTS["persons"], {p for _, p, _, _, _ in plan})
    accesses: list[Access] = []
    for sid, pid, case, when, what in sorted(plan, key=lambda item: item[3]):
        user, subject = staff[sid], people[pid]
        if what == "search":
            fmt = "rms_json" if rng.random() < 0.5 else "pnc_mainframe"
            terms = f"{subject.surname[:3]}*" + ("/*/*" if fmt == "pnc_mainframe" else "")
            accesses.append(search(rng, user, when, terms, wildcard=True, case_ref=case, fmt=fmt))
        else:
            action = "update" if rng.random() < 0.05 else "view"
            accesses.append(view(rng, user, when, subject, case, action=action))
    _, _, counts = write_logs(rng, out, accesses, malformed_per_file=False)
    return counts


def write_config(
    work: Path,
    exports: Path,
    logs: Path,
    url: str,
    *,
    prefix: str,
    metrics_port: int,
    reload_poll: float = 1.0,
    pipeline: str | None = None,
) -> Path:
    """The daemon config: the force's four inputs, the whole rule pack, reference_scale's exports."""
    inputs = "\n".join(
        f"  - name: {fmt.replace('_', '-')}\n    paths: [{logs / rel}]\n    parser: {fmt}"
        + ("\n    fingerprint_lines: 2" if fmt == "intel_csv" else "")
        for fmt, rel in LOG_FILES.items()
    )
    sources = "\n".join(f"    - {{kind: {kind}, path: {exports / name}}}" for kind, name in EXPORTS.items())
    config = work / "auditwatch.yml"
    config.write_text(
        f"""\
inputs:
{inputs}
parsers_dir: {REPO / "parsers"}
rules_dir: {REPO / "rules"}
lists_dir: {REPO / "rules" / "lists"}
state_dir: {work / "state"}
elasticsearch:
  hosts: ["{url}"]
  index_prefix: {prefix}
metrics: {{port: {metrics_port}}}
{f"pipeline: {pipeline}" if pipeline else ""}
reference:
  timezone: Europe/London
  roster_grace_minutes: 30
  reload_poll_seconds: {reload_poll}
  identifiers:
    staff_id: {{staff_id: {{prefix: MP, digits: 6}}}}
    person_id: trim
    record_id: trim
    case_ref: upper
  sources:
{sources}
""",
        encoding="utf-8",
    )
    return config
