"""Benign background activity: every access here is explained by an assignment or by the user's duties."""

from __future__ import annotations

import random
from datetime import datetime

from auditwatch.testing.scenarios._force import LONDON, Force
from auditwatch.testing.scenarios._model import CASE_WORKER_KINDS, Access, Shift, Staff
from auditwatch.testing.scenarios._pick import search, terminal, time_in, view


def background(rng: random.Random, force: Force, *, per_shift: float, skip: set[int]) -> list[Access]:
    """Accesses made by everyone on duty, shift by shift; `skip` staff make none (reserved for scenarios)."""
    out: list[Access] = []
    for s in force.staff:
        if s.number in skip:
            continue
        for shift in force.shifts[s.number]:
            if not force.start <= shift.day <= force.end:
                continue
            if s.kind in CASE_WORKER_KINDS:
                _case_work(rng, force, s, shift, out, mean=per_shift)
            elif s.kind == "control_room":
                _control_room(rng, force, s, shift, out)
            elif s.kind == "intelligence":
                _intelligence(rng, force, s, shift, out)
    return out


def _case_work(
    rng: random.Random, force: Force, s: Staff, shift: Shift, out: list[Access], *, mean: float
) -> None:
    # a night shift runs into the next day: the case must still be assigned then
    last_day = shift.end.astimezone(LONDON).date()
    active = [
        a
        for a in force.active_assignments(s.number, shift.day)
        if a.case_ref not in force.special_cases and (a.end is None or a.end >= last_day)
    ]
    if not active:
        return
    focus = rng.sample(active, min(len(active), rng.randint(1, 3)))
    count = max(1, round(rng.gauss(mean, mean / 3)))
    for when in sorted(time_in(rng, shift) for _ in range(count)):
        case = force.cases[rng.choice(focus).case_ref]
        pid, _role = rng.choice(case.links)
        person = force.persons[pid]
        ref = case.ref if rng.random() < 0.85 else None
        # without a reference only a person id explains the access, and the mainframe log has none
        fmt = None if ref else ("custody_syslog" if s.kind == "custody" else "rms_json")
        roll = rng.random()
        if roll < 0.70:
            out.append(view(rng, s, when, person, ref, fmt=fmt, explained_by="assignment"))
        elif roll < 0.80:
            out.append(
                view(rng, s, when, person, ref, explained_by="assignment", action="update", fmt="rms_json")
            )
        elif roll < 0.92:
            out.append(_occurrence(s, when, case.ref))
        else:
            terms = f"{person.surname.upper()}, {person.forenames}"
            out.append(
                search(
                    rng,
                    s,
                    when,
                    terms,
                    wildcard=False,
                    case_ref=case.ref,
                    explained_by="assignment",
                    subject=person,
                )
            )


def _occurrence(s: Staff, when: datetime, ref: str) -> Access:
    """The case file itself (no person): explained by the reference being the user's case."""
    record_type = "custody" if ref.startswith("CU/") else "occurrence"
    fmt = "custody_syslog" if s.kind == "custody" else "rms_json"
    return Access(when, s, "view", record_type, ref, None, ref, fmt, terminal(s), explained_by="assignment")


def _control_room(rng: random.Random, force: Force, s: Staff, shift: Shift, out: list[Access]) -> None:
    """Call handlers check callers and addresses: broad remit, an incident log number, no case."""
    for when in sorted(time_in(rng, shift) for _ in range(rng.randint(1, 3))):
        person = force.persons[_plain_for(rng, force, s)]
        cad = f"CAD/{when:%d%m}/{rng.randrange(1, 999):04d}"
        out.append(view(rng, s, when, person, cad, explained_by="role:control_room"))


def _intelligence(rng: random.Random, force: Force, s: Staff, shift: Shift, out: list[Access]) -> None:
    """Analysts do a couple of checks a day; bulk batches are added as look-alikes by the scenarios."""
    for when in sorted(time_in(rng, shift) for _ in range(rng.randint(0, 2))):
        person = force.persons[_plain_for(rng, force, s)]
        out.append(
            view(
                rng,
                s,
                when,
                person,
                f"INTEL/REQ/{rng.randrange(1, 9999):04d}",
                explained_by="role:intelligence_bulk",
            )
        )


def _plain_for(rng: random.Random, force: Force, s: Staff) -> str:
    """A member of the public with no risk signal for this user (other surname, other postcode)."""
    while True:
        pid = rng.choice(force.plain)
        p = force.persons[pid]
        if p.surname != s.surname and p.postcode != s.postcode:
            return pid
