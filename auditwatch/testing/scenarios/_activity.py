"""Unexplained activity: records opened with no case to explain them, bulk browsing, repeated
looks at one subject, out-of-hours use, wildcard fishing searches and surges of many users on one
record, with the look-alikes that explain each.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Final

from auditwatch.normalise import fold_name
from auditwatch.testing.scenarios._force import LONDON, local_span, on_duty
from auditwatch.testing.scenarios._injector import UNRELATED, Injector, cad, day_in, in_shift, own_subject
from auditwatch.testing.scenarios._model import Person, Shift, Staff, TruthEntry
from auditwatch.testing.scenarios._pick import search, time_in, view

_WILDCARDS: Final = ("{s3}*", "{s2}*/{f1}*", "*{s_end}", "{s3}*/*/19{yy}", "{s4}*/{f1}*")
_CASE_FORMATS: Final = ("rms_json", "pnc_mainframe", "custody_syslog")
# A repeat is the same subject on several days within 30 days (rules/repeat-subject.yml): incidents
# keep their days inside 28, however long the period.
_REPEAT_SPAN_DAYS: Final = 28
# Counting distinct people or days per person needs a person id: the mainframe log has none.
_ID_FORMATS: Final = ("rms_json", "custody_syslog")


def unrelated(inj: Injector) -> None:
    rng, force = inj.rng, inj.force
    for i in range(inj.n):
        fmt, kinds = inj.fmt_for("unrelated", i, _CASE_FORMATS)
        u = inj.users(f"unrelated/{fmt}", kinds)
        inj.lookup_incident(UNRELATED, fmt, u, force.take_unlinked(rng, u), also=(), count=1)
    # broad-remit teams: their everyday checks are unexplained by assignments by design
    for _ in range(inj.n_like):
        u = inj.users("unrelated/control", ("control_room",))
        p = force.take_unlinked(rng, u)
        inj.lookup_lookalike(
            UNRELATED, "control_room_check", u, p, must_not=[UNRELATED], ref=cad(rng), count=1
        )


def bulk(inj: Injector) -> None:
    rng, force = inj.rng, inj.force
    shape = inj.shape
    size = shape.bulk_size or (40 if inj.n >= 6 else 30)
    for i in range(inj.n):
        fmt, kinds = inj.fmt_for("bulk", i, _ID_FORMATS)
        u = inj.users(f"bulk/{fmt}", kinds)
        entry = inj.incident("bulk_browsing", fmt, [u], None, None, also=[UNRELATED])

        def act(u: Staff = u, entry: TruthEntry = entry, fmt: str = fmt) -> None:
            sh = inj.shift(u)
            for when in in_shift(
                inj,
                u,
                sh,
                rng.randint(size, size + shape.bulk_extra),
                rng.randint(*shape.bulk_spread_minutes),
            ):
                inj.add(view(rng, u, when, force.take_unlinked(rng, u), None, fmt=fmt), entry)

        inj.later(act)
    for _ in range(inj.n_like):
        u = inj.users("bulk/intel", ("intelligence",))
        like = inj.lookalike(
            "bulk_browsing", "intelligence_bulk_check", [u], None, None, must_not=["bulk_browsing", UNRELATED]
        )

        def act_like(u: Staff = u, like: TruthEntry = like) -> None:
            sh = inj.shift(u)
            tasking = f"INTEL/REQ/{rng.randrange(1, 9999):04d}"
            for when in in_shift(inj, u, sh, rng.randint(size + 10, size + 40), rng.randint(20, 40)):
                person = force.persons[rng.choice(force.plain)]
                if person.surname == u.surname or person.postcode == u.postcode:
                    continue
                inj.add(
                    view(
                        rng, u, when, person, tasking, fmt="intel_csv", explained_by="role:intelligence_bulk"
                    ),
                    like,
                )

        inj.later(act_like)


def repeat(inj: Injector) -> None:
    rng, force = inj.rng, inj.force
    for i in range(inj.n):
        fmt, kinds = inj.fmt_for("repeat", i, _ID_FORMATS)
        u = inj.users(f"repeat/{fmt}", kinds)
        p = force.take_unlinked(rng, u)
        entry = inj.incident("repeat_subject", fmt, [u], p.person_id, p.person_id, also=[UNRELATED])

        def act(u: Staff = u, p: Person = p, entry: TruthEntry = entry, fmt: str = fmt) -> None:
            days = sorted(
                {
                    sh.day
                    for sh in force.shifts[u.number]
                    if force.start < sh.day < force.end and sh.code != "OT"
                }
            )
            if days and (days[-1] - days[0]).days >= _REPEAT_SPAN_DAYS:  # long periods only
                first = rng.choice([d for d in days if (days[-1] - d).days >= _REPEAT_SPAN_DAYS // 2])
                days = [d for d in days if 0 <= (d - first).days < _REPEAT_SPAN_DAYS]
            chosen = sorted(rng.sample(days, min(len(days), rng.randint(*inj.shape.repeat_days))))
            seen: set[date] = set()  # local dates: a night shift's access may fall on the next date
            for day in chosen:
                sh = next(x for x in force.shifts[u.number] if x.day == day and x.code != "OT")
                when = time_in(rng, sh, 30)
                for _ in range(50):
                    if when.astimezone(LONDON).date() not in seen:
                        break
                    when = time_in(rng, sh, 30)
                seen.add(when.astimezone(LONDON).date())
                inj.add(view(rng, u, when, p, None, fmt=fmt), entry)

        inj.later(act)
    for _ in range(inj.n_like):
        u = inj.users("repeat/ongoing", ("response", "investigator"))
        p = force.take_unlinked(rng, u)
        case = inj.new_case([u], [(p, "victim")])
        like = inj.lookalike(
            "repeat_subject",
            "ongoing_assigned_case",
            [u],
            p.person_id,
            p.person_id,
            must_not=["repeat_subject", UNRELATED],
        )

        def act_like(u: Staff = u, p: Person = p, like: TruthEntry = like, ref: str = case.ref) -> None:
            shifts = [sh for sh in force.shifts[u.number] if force.start < sh.day < force.end]
            for sh in rng.sample(shifts, min(len(shifts), rng.randint(4, 6))):
                inj.add(view(rng, u, time_in(rng, sh, 30), p, ref), like)

        inj.later(act_like)


def out_of_hours(inj: Injector) -> None:
    rng, force = inj.rng, inj.force
    for i in range(inj.n):
        fmt, kinds = inj.fmt_for("ooh", i, ("rms_json", "pnc_mainframe", "custody_syslog"))
        u = inj.users(f"ooh/{fmt}", kinds)
        entry = inj.incident("out_of_hours", fmt, [u], None, None)

        def act(u: Staff = u, entry: TruthEntry = entry, fmt: str = fmt) -> None:
            for _ in range(200):
                day = day_in(inj, 1, force.days - 1)
                hour = rng.choice(inj.shape.ooh_hours)
                when = local_span(day, f"{hour:02d}:{rng.randrange(0, 50):02d}", "23:59")[0]
                if not on_duty(force, u.number, when, timedelta(hours=2)) and not on_duty(
                    force, u.number, when + timedelta(minutes=40), timedelta(hours=2)
                ):
                    break
            else:
                raise ValueError(f"no off-duty time found for {u.sid}")
            got = own_subject(inj, u, day)
            for k in range(rng.randint(1, 3)):
                at = when + timedelta(minutes=k * rng.randint(3, 12))
                if got is None:
                    inj.add(view(rng, u, at, force.take_unlinked(rng, u), None, fmt="rms_json"), entry)
                else:
                    inj.add(view(rng, u, at, got[0], got[1], fmt=fmt), entry)
            entry.also_rules = [UNRELATED] if got is None else []

        inj.later(act)
    for i in range(inj.n_like):
        night = i % 2 == 0
        u = inj.users("ooh/night", ("response", "custody"))
        like = inj.lookalike(
            "out_of_hours",
            "rostered_night_shift" if night else "overtime_shift",
            [u],
            None,
            None,
            must_not=["out_of_hours"],
        )

        def act_like(u: Staff = u, like: TruthEntry = like, night: bool = night) -> None:
            code = "N" if night else "OT"
            shifts = [
                sh for sh in force.shifts[u.number] if force.start < sh.day < force.end and sh.code == code
            ]
            if not shifts:
                day = day_in(inj, 2, force.days - 2)
                if any(sh.day == day for sh in force.shifts[u.number]):
                    day = next(
                        d
                        for d in (force.start + timedelta(days=k) for k in range(2, force.days - 1))
                        if not any(sh.day == d for sh in force.shifts[u.number])
                    )
                start, end = local_span(day, "10:00", "18:00")
                new = Shift(u.number, day, "OT", "10:00", "18:00", start, end)
                force.shifts[u.number] = sorted([*force.shifts[u.number], new], key=lambda x: x.start)
                shifts = [new]
            sh = rng.choice(shifts)
            got = own_subject(inj, u, sh.day)
            if got is None:
                return
            base = sh.start + timedelta(hours=4 if night else 2, minutes=rng.randrange(0, 90))
            for k in range(rng.randint(2, 3)):
                inj.add(view(rng, u, base + timedelta(minutes=7 * k), got[0], got[1]), like)

        inj.later(act_like)


def fishing(inj: Injector) -> None:
    rng, force = inj.rng, inj.force
    for i in range(inj.n):
        fmt = ("rms_json", "pnc_mainframe")[i % 2]
        u = inj.users(f"fishing/{fmt}", ("response", "investigator"))
        entry = inj.incident("fishing_search", fmt, [u], None, None)

        def act(u: Staff = u, entry: TruthEntry = entry, fmt: str = fmt) -> None:
            sh = inj.shift(u)
            for when in in_shift(inj, u, sh, rng.randint(*inj.shape.fishing_searches), 15):
                target = force.persons[rng.choice(force.plain)]
                inj.add(
                    search(rng, u, when, _wildcard(rng, target, fmt), wildcard=True, case_ref=None, fmt=fmt),
                    entry,
                )

        inj.later(act)
    for i in range(inj.n_like):
        fmt = ("rms_json", "pnc_mainframe")[i % 2]
        u = inj.users("fishing/with_ref", ("response", "investigator"))
        like = inj.lookalike(
            "fishing_search", "wildcard_with_case_ref", [u], None, None, must_not=["fishing_search"]
        )

        def act_like(u: Staff = u, like: TruthEntry = like, fmt: str = fmt) -> None:
            sh = inj.shift(u)
            got = own_subject(inj, u, sh.day)
            if got is None:
                return
            person, ref = got
            inj.add(
                search(
                    rng,
                    u,
                    time_in(rng, sh, 30),
                    _wildcard(rng, person, fmt),
                    wildcard=True,
                    case_ref=ref,
                    fmt=fmt,
                    explained_by="assignment",
                ),
                like,
            )

        inj.later(act_like)


def _wildcard(rng: random.Random, p: Person, fmt: str) -> str:
    surname = fold_name(p.surname).replace(" ", "").upper() or "SMITH"
    forename = fold_name(p.forenames).upper() or "J"
    pattern = rng.choice(_WILDCARDS)
    text = pattern.format(
        s2=surname[:2],
        s3=surname[:3],
        s4=surname[:4],
        s_end=surname[-4:],
        f1=forename[:1],
        yy=f"{p.dob.year % 100:02d}",
    )
    if fmt == "pnc_mainframe":
        parts = [*text.split("/"), "*", "*"]
        return "/".join(parts[:3])
    return text.replace("/", " ")


def surge(inj: Injector) -> None:
    rng, force = inj.rng, inj.force
    workers = [s for s in force.staff if s.kind in ("response", "investigator", "custody")]
    for _ in range(inj.n):
        p = force.take_unlinked(rng)
        entry = inj.incident(
            "record_surge", "many_users_one_record", [], p.person_id, p.person_id, also=[UNRELATED]
        )

        def act(p: Person = p, entry: TruthEntry = entry) -> None:
            for _ in range(100):
                day = day_in(inj, 1, force.days - 1)
                if day.weekday() >= 5:
                    continue
                at = local_span(day, f"{rng.randrange(10, 14):02d}:{rng.randrange(0, 59):02d}", "23:00")[0]
                here = [
                    s
                    for s in workers
                    if s.number not in inj.reserved
                    and s.status == "active"
                    and s.surname != p.surname
                    and s.postcode != p.postcode
                    and on_duty(force, s.number, at - timedelta(minutes=30))
                    and on_duty(force, s.number, at + timedelta(minutes=90))
                ]
                if len(here) >= 8:
                    break
            else:
                raise ValueError("not enough staff on duty together for a surge")
            chosen = rng.sample(here, min(len(here), rng.randint(*inj.shape.surge_users)))
            for s in chosen:
                fmt = "custody_syslog" if s.kind == "custody" else "rms_json"
                inj.add(
                    view(
                        rng,
                        s,
                        at + timedelta(seconds=rng.randrange(0, inj.shape.surge_spread_minutes * 60)),
                        p,
                        None,
                        fmt=fmt,
                    ),
                    entry,
                )
            entry.users = sorted(s.sid for s in chosen)

        inj.later(act)
    mit = [s for s in force.staff if s.kind == "mit" and s.number not in inj.reserved]
    for _ in range(inj.n_like):
        victim = force.take_unlinked(rng)
        team = rng.sample(mit, min(len(mit), 10))
        case = inj.new_case(team, [(victim, "victim")], kind="operation")
        like = inj.lookalike(
            "record_surge",
            "major_incident_team",
            team,
            victim.person_id,
            victim.person_id,
            must_not=["record_surge", UNRELATED],
        )

        def act_like(
            team: list[Staff] = team, victim: Person = victim, like: TruthEntry = like, ref: str = case.ref
        ) -> None:
            days = sorted(
                {
                    sh.day
                    for s in team
                    for sh in force.shifts[s.number]
                    if force.start < sh.day < force.end and sh.day.weekday() < 5
                }
            )
            day = rng.choice(days)
            at = local_span(day, f"{rng.randrange(9, 13):02d}:{rng.randrange(0, 59):02d}", "23:00")[0]
            for s in team:
                if on_duty(force, s.number, at) and on_duty(force, s.number, at + timedelta(minutes=60)):
                    inj.add(
                        view(
                            rng,
                            s,
                            at + timedelta(seconds=rng.randrange(0, 45 * 60)),
                            victim,
                            ref,
                            fmt="rms_json",
                        ),
                        like,
                    )

        inj.later(act_like)
