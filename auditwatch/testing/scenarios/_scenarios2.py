"""The second force's scenario builders: the first force's, with effective-dated watchlist entries
and namesakes of declared associates.

- VIP: half the watchlist entries are added during the period (and one is removed during it);
  incidents fall inside each entry's effective dates, and control-room checks of the same people
  before the entry was added (or after it was removed) are look-alikes that must stay silent.
- Declared associate: every associate looked up in an incident has a namesake in the records system
  (same surname and forenames, another date of birth); the declarant opening the namesake's record
  on a case they work is a look-alike that must not raise `declared-associate`.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Final

from auditwatch.testing.scenarios import _names as names
from auditwatch.testing.scenarios import _relations as relations
from auditwatch.testing.scenarios._injector import Builder, Injector, cad, in_shift
from auditwatch.testing.scenarios._model import Person, Staff, TruthEntry
from auditwatch.testing.scenarios._pick import view
from auditwatch.testing.scenarios._scenarios import BUILDERS as FIRST_FORCE


def _lookup_between(
    inj: Injector,
    u: Staff,
    person: Person,
    entry: TruthEntry,
    *,
    first: int,
    last: int,
    fmt: str | None = None,
    ref: str | None = None,
    optional: bool = False,
) -> None:
    """One to a few opens of one record during one of the user's shifts between two period days
    (`optional`: none when the user has no shift then; the look-alike is then left out)."""
    try:
        sh = inj.shift(u, first=first, last=last)
    except ValueError:
        if optional:
            return
        raise
    shape = inj.shape
    count = inj.rng.randint(*shape.lookup_opens)
    for when in in_shift(inj, u, sh, count, shape.lookup_spread_minutes):
        inj.add(view(inj.rng, u, when, person, ref, fmt=fmt), entry)


def _vip_dated(inj: Injector) -> None:
    rng, force = inj.rng, inj.force
    last_day = force.days - 2
    vips: list[tuple[Person, int, int]] = []  # person, first and last period day the entry applies
    for i in range(max(inj.n, 4)):
        category, reason = names.VIP_CATEGORIES[i % len(names.VIP_CATEGORIES)]
        p = force.new_public(rng)
        force.watchlist.append((p.person_id, category, reason))
        added: date | None = None
        removed: date | None = None
        first, last = 1, last_day
        if i % 2 == 1:  # added during the period: a new high-profile case, a new MP
            first = rng.randrange(6, max(7, force.days // 2))
            added = force.start + timedelta(days=first)
        elif i % 8 == 4:  # removed during the period (protection ended)
            last = rng.randrange(force.days // 2, force.days - 5)
            removed = force.start + timedelta(days=last)
            last -= 1
        else:
            added = force.start - timedelta(days=rng.randrange(20, 700))
        force.watch_dates[p.person_id] = (added, removed)
        vips.append((p, first, last))
    for i in range(inj.n):
        fmt, kinds = inj.fmt_for("vip", i)
        u = inj.users(f"vip/{fmt}", kinds)
        p, first, last = vips[i % len(vips)]
        inj.lookup_incident("vip_lookup", fmt, u, p, how=_lookup_between, first=first, last=last)
    for i in range(inj.n_like):
        u = inj.users("vip/assigned", ("response", "investigator"))
        p, first, last = vips[i % len(vips)]
        case = inj.new_case([u], [(p, "victim")])
        inj.lookup_lookalike(
            "vip_lookup", "assigned_to_case", u, p, how=_lookup_between, first=first, last=last, ref=case.ref
        )
    for i in range(inj.n_like):
        u = inj.users("vip/press", ("press",))
        p, first, last = vips[(i + 1) % len(vips)]
        inj.lookup_lookalike("vip_lookup", "press_office", u, p, how=_press, first=first, last=last)
    outside = [(p, first, last) for p, first, last in vips if first > 2 or last < last_day]
    for i in range(max(inj.n_like, len(outside))):
        # a call handler checks a caller before the entry was added (or after it was removed)
        p, first, last = outside[i % len(outside)]
        u = inj.users("vip/not_yet_listed", ("control_room",))
        variant = "before_added_on" if first > 2 else "after_removed_on"
        lo, hi = (1, first - 2) if first > 2 else (last + 2, last_day)
        inj.lookup_lookalike(
            "vip_lookup", variant, u, p, how=_lookup_between, first=lo, last=hi, ref=cad(rng), optional=True
        )


def _press(inj: Injector, u: Staff, p: Person, like: TruthEntry, *, first: int, last: int) -> None:
    weekdays = [
        d
        for d in range(first, last + 1)
        if (inj.force.start + timedelta(days=d)).weekday() < 5
        and any(sh.day == inj.force.start + timedelta(days=d) for sh in inj.force.shifts[u.number])
    ]
    if weekdays:
        first = last = inj.rng.choice(weekdays)
    _lookup_between(inj, u, p, like, first=first, last=last, fmt="rms_json", optional=True)


def _associate_with_namesakes(inj: Injector) -> None:
    rng, force = inj.rng, inj.force
    for i in range(inj.n):
        fmt, kinds = inj.fmt_for("associate", i)
        u = inj.users(f"associate/{fmt}", kinds)
        p = relations.declare(inj, u)
        inj.lookup_incident("declared_associate", fmt, u, p)
        # the same name, another person: the declarant meets them on a case of their own
        twin = _namesake(rng, inj, p)
        case = inj.new_case([u], [(twin, "witness"), (force.take_unlinked(rng, u), "suspect")])
        inj.lookup_lookalike("declared_associate", "namesake_other_dob", u, twin, fmt=fmt, ref=case.ref)
    for _ in range(inj.n_like):
        u = inj.users("associate/assigned", ("response", "investigator"))
        p = relations.declare(inj, u)
        case = inj.new_case([u], [(p, "witness"), (force.take_unlinked(rng, u), "suspect")])
        inj.lookup_lookalike("declared_associate", "assigned_to_case", u, p, lower=True, ref=case.ref)
    for s in rng.sample([s for s in force.staff if s.number not in inj.reserved], max(2, inj.n // 2)):
        relations.declare(inj, s)


def _namesake(rng: random.Random, inj: Injector, p: Person) -> Person:
    """Another person with `p`'s surname and forenames, born on another day, living elsewhere."""
    force = inj.force
    shift = timedelta(days=rng.choice((-1, 1)) * rng.randrange(400, 9000))
    return force.add_person(
        Person(
            force.new_person_id(rng),
            p.surname,
            p.forenames,
            p.dob + shift,
            f"{rng.randrange(1, 180)} {rng.choice(names.STREETS)}, {rng.choice(names.TOWNS)}",
            f"{rng.choice(names.OUTWARD_CODES[8:])} {rng.randrange(1, 10)}"
            f"{rng.choice(names.INWARD_LETTERS)}{rng.choice(names.INWARD_LETTERS)}",
        )
    )


_SWAP: Final[dict[Builder, Builder]] = {
    relations.vip: _vip_dated,
    relations.associate: _associate_with_namesakes,
}


# The first force's builders, with the VIP and declared-associate builders the second force's.
BUILDERS: Final[tuple[Builder, ...]] = tuple(_SWAP.get(b, b) for b in FIRST_FORCE)
