"""Injected incidents for every DOMAIN.md scenario, and the benign look-alikes each rule must explain away.

`BUILDERS` lists the first force's scenario builders in the order `Injector.prepare` runs them:
the restricted-user and vetting-lapsed builders here come first (they reserve their users), then the
relationship scenarios (`_relations`) and the unexplained activity (`_activity`). The state they
share and their common helpers are in `_injector`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Final

from auditwatch.testing.scenarios import _activity as activity
from auditwatch.testing.scenarios import _relations as relations
from auditwatch.testing.scenarios._force import LONDON, local_span
from auditwatch.testing.scenarios._injector import (
    SCENARIOS,
    UNRELATED,
    Builder,
    Injector,
    Shape,
    day_in,
    own_subject,
)
from auditwatch.testing.scenarios._model import Staff, TruthEntry
from auditwatch.testing.scenarios._pick import view

__all__ = ["BUILDERS", "SCENARIOS", "UNRELATED", "Builder", "Injector", "Shape"]


def restricted(inj: Injector) -> None:
    force, rng = inj.force, inj.rng
    statuses = ("suspended", "restricted", "left")
    for i in range(inj.n):
        s = inj.users("restricted", ("response", "investigator"))
        change = day_in(inj, 3, max(4, force.days - 2))
        status = statuses[i % len(statuses)]
        idx = force.staff.index(s)
        s = force.staff[idx] = replace(s, status=status, status_from=change)
        inj.reserved.add(s.number)
        # no shift may run into the day the change applies (a night shift ends the next morning)
        force.shifts[s.number] = [
            sh for sh in force.shifts[s.number] if sh.end.astimezone(LONDON).date() < change
        ]
        before = inj.lookalike(
            "restricted_user", "status_effective_later", [s], None, None, must_not=["restricted_user"]
        )
        inj.restricted[s.number] = before.id
        entry = inj.incident("restricted_user", status, [s], None, None, also=["out_of_hours", UNRELATED])

        def act(s: Staff = s, change: date = change, entry: TruthEntry = entry) -> None:
            day = change + timedelta(
                days=rng.randrange(0, max(1, force.days - (change - force.start).days - 1))
            )
            start, _ = local_span(day, "09:00", "17:00")
            for _ in range(rng.randint(1, 3)):
                when = start + timedelta(minutes=rng.randrange(0, 420))
                got = own_subject(inj, s, change - timedelta(days=1))
                if got is None:
                    person = force.take_unlinked(rng, s)
                    inj.add(view(rng, s, when, person, None, fmt="rms_json"), entry)
                else:
                    person, ref = got
                    inj.add(view(rng, s, when, person, ref), entry)
                entry.subject = entry.subject or person.person_id

        inj.later(act)


def vetting(inj: Injector) -> None:
    force = inj.force
    for _ in range(inj.n):
        s = inj.users("vetting", ("response", "investigator", "custody"))
        worked = [
            sh.day
            for sh in force.shifts[s.number]
            if force.start + timedelta(days=4) <= sh.day < force.end and sh.code != "OT"
        ]
        expiry = inj.rng.choice(worked) - timedelta(days=inj.rng.randint(1, 2))
        idx = force.staff.index(s)
        s = force.staff[idx] = replace(s, vetting_expiry=expiry)
        inj.reserved.add(s.number)
        entry = inj.incident("vetting_lapsed", "expired", [s], None, None)
        inj.lapsed[s.number] = entry.id


BUILDERS: Final[tuple[Builder, ...]] = (
    restricted,
    vetting,
    relations.colleague,
    relations.vip,
    relations.associate,
    relations.self_lookup,
    relations.family,
    relations.neighbour,
    activity.unrelated,
    activity.bulk,
    activity.repeat,
    activity.out_of_hours,
    activity.fishing,
    activity.surge,
)
