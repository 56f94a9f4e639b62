"""Injected incidents for every DOMAIN.md scenario, and the benign look-alikes each rule must explain away.

Two phases: `prepare` changes the force before the background is generated (suspensions, lapsed
vetting, declared associates, watchlisted people, look-alike cases), `inject` adds the accesses
afterwards. Every injected access carries the id of its truth entry.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Final

from auditwatch.normalise import fold_name
from auditwatch.testing.scenarios import _names as names
from auditwatch.testing.scenarios._force import LONDON, Force, local_span, on_duty
from auditwatch.testing.scenarios._model import (
    Access,
    Assignment,
    Case,
    Person,
    Shift,
    Staff,
    TruthEntry,
)
from auditwatch.testing.scenarios._pick import search, time_in, view

# Scenario name -> the rule id that must catch it (the shipped rule pack uses these ids).
SCENARIOS: Final[dict[str, str]] = {
    "colleague_lookup": "colleague-lookup",
    "vip_lookup": "vip-watchlist",
    "declared_associate": "declared-associate",
    "self_lookup": "self-lookup",
    "family_surname": "family-surname",
    "neighbour_lookup": "neighbour-lookup",
    "unrelated_record": "unrelated-record",
    "bulk_browsing": "bulk-browsing",
    "repeat_subject": "repeat-subject",
    "restricted_user": "restricted-user",
    "vetting_lapsed": "vetting-lapsed",
    "out_of_hours": "out-of-hours",
    "fishing_search": "fishing-search",
    "record_surge": "record-surge",
}
UNRELATED: Final = "unrelated_record"
_ALL_FORMATS: Final = ("rms_json", "pnc_mainframe", "custody_syslog", "intel_csv")
_WILDCARDS: Final = ("{s3}*", "{s2}*/{f1}*", "*{s_end}", "{s3}*/*/19{yy}", "{s4}*/{f1}*")


@dataclass(frozen=True, slots=True)
class Shape:
    """Proportions and timings of the injected behaviour; the defaults are the first force's.

    A second force uses other values, so the rules are not only tried on the timings they were
    tuned on (bulk batches of another size and pace, surges of another size, other off-duty hours)."""

    lookup_opens: tuple[int, int] = (1, 3)  # opens of one record per relationship incident
    lookup_spread_minutes: int = 20
    bulk_size: int | None = None  # distinct subjects per bulk incident (None: 40, or 30 for small sets)
    bulk_extra: int = 10  # ... up to this many more
    bulk_spread_minutes: tuple[int, int] = (25, 50)
    repeat_days: tuple[int, int] = (3, 4)
    surge_users: tuple[int, int] = (8, 11)
    surge_spread_minutes: int = 50
    fishing_searches: tuple[int, int] = (2, 4)
    ooh_hours: tuple[int, ...] = (1, 2, 3, 4, 12, 13, 19, 20)
    neighbour_formats: tuple[str, ...] = ("rms_json",)  # sources whose subject has an address


class Injector:
    """Holds the state shared by the scenario builders: the force, the rng, accesses and truth so far."""

    def __init__(
        self, rng: random.Random, force: Force, per_scenario: int, lookalikes: int, shape: Shape | None = None
    ) -> None:
        self.rng = rng
        self.shape = shape or Shape()
        self.force = force
        self.n = per_scenario
        self.n_like = lookalikes
        self.truth: list[TruthEntry] = []
        self.accesses: list[Access] = []
        self.reserved: set[int] = set()  # staff whose whole activity is scripted (suspended, lapsed)
        self.restricted: dict[int, str] = {}  # staff -> look-alike id for their accesses before the change
        self.incident_colleagues: set[int] = set()
        self.lapsed: dict[int, str] = {}  # staff -> incident id for their accesses after vetting expiry
        self._user_cycle: dict[str, list[Staff]] = {}
        self._used: dict[str, set[int]] = {}
        self._pending: list[Callable[[], None]] = []
        self._lookalike_counts: Counter[str] = Counter()

    # -- truth -------------------------------------------------------------------------------

    def _entry(
        self,
        kind: str,
        scenario: str,
        variant: str,
        users: Sequence[Staff],
        *,
        subject: str | None,
        record: str | None,
        expected_rules: Sequence[str] = (),
        also_rules: Sequence[str] = (),
        must_not_fire: Sequence[str] = (),
        expect: str = "alert",
        severity_below: str | None = None,
    ) -> TruthEntry:
        prefix = "inc" if kind == "incident" else "lal"
        entry = TruthEntry(
            id=f"{prefix}-{len(self.truth) + 1:04d}",
            kind=kind,
            scenario=scenario,
            variant=variant,
            users=sorted({u.sid for u in users}),
            subject=subject,
            record=record,
            start=datetime.max.replace(tzinfo=UTC),
            end=datetime.min.replace(tzinfo=UTC),
            expected_rules=list(expected_rules),
            also_rules=list(also_rules),
            must_not_fire=list(must_not_fire),
            expect=expect,
            severity_below=severity_below,
        )
        self.truth.append(entry)
        return entry

    def incident(
        self,
        scenario: str,
        variant: str,
        users: Sequence[Staff],
        subject: str | None,
        record: str | None,
        *,
        also: Sequence[str] = (),
    ) -> TruthEntry:
        return self._entry(
            "incident",
            scenario,
            variant,
            users,
            subject=subject,
            record=record,
            expected_rules=[SCENARIOS[scenario]],
            also_rules=[SCENARIOS[name] for name in also],
        )

    def lookalike(
        self,
        scenario: str,
        variant: str,
        users: Sequence[Staff],
        subject: str | None,
        record: str | None,
        *,
        must_not: Sequence[str],
        lower: bool = False,
    ) -> TruthEntry:
        self._lookalike_counts[f"{scenario}/{variant}"] += 1
        if lower:
            return self._entry(
                "lookalike",
                scenario,
                variant,
                users,
                subject=subject,
                record=record,
                expect="lower_severity",
                expected_rules=[SCENARIOS[scenario]],
                severity_below=SCENARIOS[scenario],
            )
        return self._entry(
            "lookalike",
            scenario,
            variant,
            users,
            subject=subject,
            record=record,
            expect="silent",
            must_not_fire=[SCENARIOS[name] for name in must_not],
        )

    def add(self, access: Access, entry: TruthEntry | None) -> None:
        if entry is not None:
            explained = access.explained_by
            if entry.kind == "lookalike" and not explained:
                explained = self.explanation(access)
            access = replace(access, label=entry.id, explained_by=explained)
            entry.start = min(entry.start, access.when)
            entry.end = max(entry.end, access.when)
            entry.formats.add(access.fmt)
        self.accesses.append(access)

    def explanation(self, access: Access) -> str:
        """Why a benign access is legitimate: "assignment", "role:<duty>" or "" (unexplained)."""
        day = access.when.astimezone(LONDON).date()
        refs = {a.case_ref for a in self.force.active_assignments(access.user.number, day)}
        if access.case_ref in refs:
            return "assignment"
        if access.subject is not None and any(
            pid == access.subject.person_id for ref in refs for pid, _ in self.force.cases[ref].links
        ):
            return "assignment"
        return f"role:{access.user.duties[0]}" if access.user.duties else ""

    # -- choosing people and times -----------------------------------------------------------

    def users(self, key: str, kinds: Sequence[str], need: Callable[[Staff], bool] = lambda s: True) -> Staff:
        """The next member of staff for `key` ("scenario/variant"), cycling through a shuffled list so
        incidents spread out; nobody is used twice for one scenario while anyone else is left (two
        incidents of one kind by one user on one day would really be one)."""
        used = self._used.setdefault(key.split("/", maxsplit=1)[0], set())
        for attempt in range(2):
            cycle = self._user_cycle.get(key)
            if not cycle:
                cycle = self._user_cycle[key] = self._pool(key, kinds, need)
            while cycle:
                s = cycle.pop()
                if attempt or s.number not in used:
                    used.add(s.number)
                    return self.force.staff_by_number(s.number)  # the current version of the record
        raise ValueError(f"no member of staff fits scenario '{key}'")

    def _pool(self, key: str, kinds: Sequence[str], need: Callable[[Staff], bool]) -> list[Staff]:
        def fits(s: Staff, allowed: Sequence[str]) -> bool:
            return s.kind in allowed and s.number not in self.reserved and s.status == "active" and need(s)

        pool = [s for s in self.force.staff if fits(s, kinds)]
        if not pool:  # a small force may have nobody fitting in a small team: any officer will do
            pool = [s for s in self.force.staff if fits(s, ("response", "investigator"))]
        if not pool:
            raise ValueError(f"no member of staff fits scenario '{key}'")
        self.rng.shuffle(pool)
        return pool

    def shift(self, s: Staff, *, weekday: bool = False, first: int = 1, last: int | None = None) -> Shift:
        """One of the user's rostered shifts inside the period (not the first or last day)."""
        lo = self.force.start + timedelta(days=first)
        hi = self.force.end - timedelta(days=1) if last is None else self.force.start + timedelta(days=last)
        shifts = [
            sh
            for sh in self.force.shifts[s.number]
            if lo <= sh.day <= hi and sh.code != "OT" and (not weekday or sh.day.weekday() < 5)
        ]
        if not shifts:
            shifts = [sh for sh in self.force.shifts[s.number] if lo <= sh.day <= hi]
        if not shifts:
            raise ValueError(f"{s.sid} has no shift between {lo} and {hi}")
        return self.rng.choice(shifts)

    def fmt_for(
        self, scenario: str, i: int, formats: Sequence[str] = _ALL_FORMATS
    ) -> tuple[str, tuple[str, ...]]:
        """The i-th incident's source format and the staff kinds that use it."""
        fmt = formats[i % len(formats)]
        kinds = {"custody_syslog": ("custody",), "intel_csv": ("intelligence",)}.get(
            fmt, ("response", "investigator")
        )
        return fmt, kinds

    def new_case(
        self,
        staff: Sequence[Staff],
        links: Sequence[tuple[Person, str]],
        *,
        kind: str = "occurrence",
        special: bool = True,
    ) -> Case:
        force = self.force
        opened = force.start - timedelta(days=self.rng.randrange(3, 40))
        case = force.add_case(
            Case(force.new_case_ref(kind), kind, opened, tuple((p.person_id, role) for p, role in links))
        )
        for s in staff:
            force.assignments.append(Assignment(s.number, case.ref, opened, None, "oic"))
        if special:
            force.special_cases.add(case.ref)
        return case

    def later(self, action: Callable[[], None]) -> None:
        """Run `action` in `inject`, once the background exists."""
        self._pending.append(action)

    # -- the two phases ----------------------------------------------------------------------

    def builders(self) -> tuple[Callable[[Injector], None], ...]:
        """The scenario builders `prepare` runs, in order (a second force swaps some)."""
        return (
            _restricted,
            _vetting,
            _colleague,
            _vip,
            _associate,
            _self,
            _family,
            _neighbour,
            _unrelated,
            _bulk,
            _repeat,
            _out_of_hours,
            _fishing,
            _surge,
        )

    def prepare(self) -> None:
        for builder in self.builders():
            builder(self)

    def inject(self, background: list[Access]) -> list[Access]:
        """Label the scripted users' background accesses, then add the scenario accesses."""
        for access in background:
            self.add(access, self._background_label(access))
        for action in self._pending:
            action()
        self.accesses.sort(key=lambda a: a.when)
        return self.accesses

    def _background_label(self, access: Access) -> TruthEntry | None:
        number = access.user.number
        day = access.when.astimezone(LONDON).date()
        if number in self.lapsed and day > access.user.vetting_expiry:
            return self._by_id(self.lapsed[number])
        if number in self.restricted:
            return self._by_id(self.restricted[number])
        return None

    def _by_id(self, entry_id: str) -> TruthEntry:
        return next(e for e in self.truth if e.id == entry_id)

    @property
    def lookalike_counts(self) -> dict[str, int]:
        return dict(sorted(self._lookalike_counts.items()))


# --- helpers ---------------------------------------------------------------------------------------


def _cad(rng: random.Random) -> str:
    """A control-room incident log number (not a case anyone is assigned to)."""
    return f"CAD/{rng.randrange(1000, 9999)}/{rng.randrange(1, 999):04d}"


def _day_in(inj: Injector, lo: int, hi: int) -> date:
    return inj.force.start + timedelta(days=inj.rng.randrange(lo, hi))


def _own_subject(inj: Injector, s: Staff, day: date) -> tuple[Person, str] | None:
    """A person linked to one of the user's ordinary active cases, with that case's reference."""
    active = [
        a for a in inj.force.active_assignments(s.number, day) if a.case_ref not in inj.force.special_cases
    ]
    if not active:
        return None
    case = inj.force.cases[inj.rng.choice(active).case_ref]
    return inj.force.persons[inj.rng.choice(case.links)[0]], case.ref


def _staff_persons(inj: Injector, other_than: Staff, *, lookalike: bool = False) -> Staff:
    """A member of staff who has a person record, unrelated to `other_than` (other surname, other unit).

    Colleagues looked up in incidents are never used in look-alikes, so a look-alike's case can
    never explain an incident."""
    pool = [
        s
        for s in inj.force.staff
        if s.person_id
        and s.number != other_than.number
        and s.surname != other_than.surname
        and s.unit != other_than.unit
        and not (lookalike and s.number in inj.incident_colleagues)
    ]
    chosen = inj.rng.choice(pool)
    if not lookalike:
        inj.incident_colleagues.add(chosen.number)
    return chosen


def _in_shift(inj: Injector, s: Staff, sh: Shift, count: int, spread_minutes: int) -> list[datetime]:
    """`count` times within `spread_minutes` somewhere inside the shift."""
    first = time_in(inj.rng, sh, 30)
    latest = sh.end - timedelta(minutes=spread_minutes + 20)
    if first > latest:
        first = max(sh.start + timedelta(minutes=20), latest)
    return sorted(first + timedelta(seconds=inj.rng.randrange(spread_minutes * 60)) for _ in range(count))


# --- restricted user / vetting lapsed (prepared first: they reserve their users) -------------------


def _restricted(inj: Injector) -> None:
    force, rng = inj.force, inj.rng
    statuses = ("suspended", "restricted", "left")
    for i in range(inj.n):
        s = inj.users("restricted", ("response", "investigator"))
        change = _day_in(inj, 3, max(4, force.days - 2))
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
                got = _own_subject(inj, s, change - timedelta(days=1))
                if got is None:
                    person = force.take_unlinked(rng, s)
                    inj.add(view(rng, s, when, person, None, fmt="rms_json"), entry)
                else:
                    person, ref = got
                    inj.add(view(rng, s, when, person, ref), entry)
                entry.subject = entry.subject or person.person_id

        inj.later(act)


def _vetting(inj: Injector) -> None:
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


# --- relationship scenarios ------------------------------------------------------------------------


def _colleague(inj: Injector) -> None:
    rng, force = inj.rng, inj.force
    for i in range(inj.n):
        fmt, kinds = inj.fmt_for("colleague", i)
        u = inj.users(f"colleague/{fmt}", kinds)
        c = _staff_persons(inj, u)
        entry = inj.incident("colleague_lookup", fmt, [u], c.person_id, c.person_id, also=[UNRELATED])
        inj.later(partial(_lookup, inj, u, c.as_person(), entry, fmt=fmt))
    for _ in range(inj.n_like):
        # the colleague is a witness on a case the user works
        u = inj.users("colleague/witness", ("response", "investigator"))
        c = _staff_persons(inj, u, lookalike=True)
        case = inj.new_case([u], [(c.as_person(), "witness"), (force.take_unlinked(rng, u), "suspect")])
        like = inj.lookalike(
            "colleague_lookup",
            "witness_on_assigned_case",
            [u],
            c.person_id,
            c.person_id,
            must_not=["colleague_lookup", UNRELATED],
        )
        inj.later(partial(_lookup, inj, u, c.as_person(), like, ref=case.ref))
    for _ in range(inj.n_like):
        u = inj.users("colleague/psd", ("psd", "vetting"))
        c = _staff_persons(inj, u, lookalike=True)
        like = inj.lookalike(
            "colleague_lookup",
            "psd_vetting_enquiry",
            [u],
            c.person_id,
            c.person_id,
            must_not=["colleague_lookup", UNRELATED],
        )
        inj.later(
            partial(
                _lookup, inj, u, c.as_person(), like, fmt="rms_json", ref=f"PSD/{rng.randrange(100, 999)}/26"
            )
        )


def _lookup(
    inj: Injector,
    u: Staff,
    person: Person,
    entry: TruthEntry,
    *,
    fmt: str | None = None,
    ref: str | None = None,
    weekday: bool = False,
    count: int | None = None,
) -> None:
    """One to three opens of one person's record during one of the user's shifts."""
    sh = inj.shift(u, weekday=weekday)
    shape = inj.shape
    for when in _in_shift(
        inj, u, sh, count or inj.rng.randint(*shape.lookup_opens), shape.lookup_spread_minutes
    ):
        inj.add(view(inj.rng, u, when, person, ref, fmt=fmt), entry)


def _vip(inj: Injector) -> None:
    rng, force = inj.rng, inj.force
    vips: list[Person] = []
    for i in range(max(inj.n, 4)):
        category, reason = names.VIP_CATEGORIES[i % len(names.VIP_CATEGORIES)]
        p = force.new_public(rng)
        force.watchlist.append((p.person_id, category, reason))
        vips.append(p)
    for i in range(inj.n):
        fmt, kinds = inj.fmt_for("vip", i)
        u = inj.users(f"vip/{fmt}", kinds)
        p = vips[i % len(vips)]
        entry = inj.incident("vip_lookup", fmt, [u], p.person_id, p.person_id, also=[UNRELATED])
        inj.later(partial(_lookup, inj, u, p, entry, fmt=fmt))
    for i in range(inj.n_like):
        u = inj.users("vip/assigned", ("response", "investigator"))
        p = vips[i % len(vips)]
        case = inj.new_case([u], [(p, "victim")])
        like = inj.lookalike(
            "vip_lookup",
            "assigned_to_case",
            [u],
            p.person_id,
            p.person_id,
            must_not=["vip_lookup", UNRELATED],
        )
        inj.later(partial(_lookup, inj, u, p, like, ref=case.ref))
    for i in range(inj.n_like):
        u = inj.users("vip/press", ("press",))
        p = vips[(i + 1) % len(vips)]
        like = inj.lookalike(
            "vip_lookup", "press_office", [u], p.person_id, p.person_id, must_not=["vip_lookup", UNRELATED]
        )
        inj.later(partial(_lookup, inj, u, p, like, fmt="rms_json", weekday=True))


def _associate(inj: Injector) -> None:
    rng, force = inj.rng, inj.force
    for i in range(inj.n):
        fmt, kinds = inj.fmt_for("associate", i)
        u = inj.users(f"associate/{fmt}", kinds)
        p = _declare(inj, u)
        entry = inj.incident("declared_associate", fmt, [u], p.person_id, p.person_id, also=[UNRELATED])
        inj.later(partial(_lookup, inj, u, p, entry, fmt=fmt))
    for _ in range(inj.n_like):
        # a conflict of interest even on an assigned case: still an alert, at a lower severity
        u = inj.users("associate/assigned", ("response", "investigator"))
        p = _declare(inj, u)
        case = inj.new_case([u], [(p, "witness"), (force.take_unlinked(rng, u), "suspect")])
        like = inj.lookalike(
            "declared_associate",
            "assigned_to_case",
            [u],
            p.person_id,
            p.person_id,
            must_not=[UNRELATED],
            lower=True,
        )
        inj.later(partial(_lookup, inj, u, p, like, ref=case.ref))
    # a few more declarations nobody looks up: the register is not only the people who get searched
    for s in rng.sample([s for s in force.staff if s.number not in inj.reserved], max(2, inj.n // 2)):
        _declare(inj, s)


def _declare(inj: Injector, u: Staff) -> Person:
    rng, force = inj.rng, inj.force
    surname = rng.choice([n for n, _ in names.COMMON_SURNAMES if n != u.surname])
    p = force.new_public(rng, surname=surname)
    relationship = rng.choice(names.RELATIONSHIPS)
    declared = force.start - timedelta(days=rng.randrange(30, 900))
    force.associates.append((u.number, p.person_id, relationship, declared))
    return p


def _self(inj: Injector) -> None:
    rng, force = inj.rng, inj.force
    for i in range(inj.n):
        fmt, kinds = inj.fmt_for("self", i)
        u = inj.users(f"self/{fmt}", kinds)
        if u.person_id is None:  # give them a record of their own (a witness statement years ago)
            idx = force.staff.index(u)
            u = force.staff[idx] = replace(u, person_id=force.new_person_id(rng), person_id_in_hr=i % 2 == 0)
            force.add_person(u.as_person())
        entry = inj.incident("self_lookup", fmt, [u], u.person_id, u.person_id, also=[UNRELATED])
        inj.later(partial(_lookup, inj, u, u.as_person(), entry, fmt=fmt))
    for _ in range(inj.n_like):
        u = inj.users("self/sar", ("subject_access", "training"))
        if u.person_id is None:
            idx = force.staff.index(u)
            u = force.staff[idx] = replace(u, person_id=force.new_person_id(rng), person_id_in_hr=True)
            force.add_person(u.as_person())
        like = inj.lookalike(
            "self_lookup",
            "subject_access_or_training",
            [u],
            u.person_id,
            u.person_id,
            must_not=["self_lookup", "colleague_lookup", UNRELATED],
        )
        inj.later(partial(_lookup, inj, u, u.as_person(), like, fmt="rms_json", weekday=True))


def _family(inj: Injector) -> None:
    rng, force = inj.rng, inj.force

    def rare(s: Staff) -> bool:
        return s.surname in force.staff_surnames_rare

    for i in range(inj.n):
        fmt, kinds = inj.fmt_for("family", i)
        u = inj.users(f"family/{fmt}", kinds, rare)
        p = force.new_public(rng, surname=u.surname)
        entry = inj.incident("family_surname", fmt, [u], p.person_id, p.person_id, also=[UNRELATED])
        inj.later(partial(_lookup, inj, u, p, entry, fmt=fmt))
    for _ in range(inj.n_like):
        u = inj.users("family/assigned", ("response", "investigator"), rare)
        p = force.new_public(rng, surname=u.surname)
        case = inj.new_case([u], [(p, "victim")])
        like = inj.lookalike(
            "family_surname",
            "linked_to_assigned_case",
            [u],
            p.person_id,
            p.person_id,
            must_not=["family_surname", UNRELATED],
        )
        inj.later(partial(_lookup, inj, u, p, like, ref=case.ref))
    common = {n for n, _ in names.COMMON_SURNAMES[:30]}
    for _ in range(inj.n_like):
        # a call handler called Smith checks a caller called Smith
        u = inj.users(
            "family/common", ("control_room",), lambda s: s.surname not in force.staff_surnames_rare
        )
        if u.surname not in common:
            idx = force.staff.index(u)
            u = force.staff[idx] = replace(u, surname=rng.choice(sorted(common)))
        p = force.new_public(rng, surname=u.surname)
        like = inj.lookalike(
            "family_surname",
            "common_surname",
            [u],
            p.person_id,
            p.person_id,
            must_not=["family_surname", UNRELATED],
        )
        inj.later(partial(_lookup, inj, u, p, like, fmt="rms_json", ref=_cad(rng)))


def _neighbour(inj: Injector) -> None:
    for i in range(inj.n):
        # only the records-management log carries the subject's postcode
        fmt, kinds = inj.fmt_for("neighbour", i, inj.shape.neighbour_formats)
        u = inj.users(f"neighbour/{fmt}", kinds)
        p = _neighbour_of(inj, u)
        entry = inj.incident("neighbour_lookup", fmt, [u], p.person_id, p.person_id, also=[UNRELATED])
        inj.later(partial(_lookup, inj, u, p, entry, fmt=fmt))
    for _ in range(inj.n_like):
        u = inj.users("neighbour/assigned", ("response", "investigator"))
        p = _neighbour_of(inj, u)
        case = inj.new_case([u], [(p, "victim")])
        like = inj.lookalike(
            "neighbour_lookup",
            "linked_to_assigned_case",
            [u],
            p.person_id,
            p.person_id,
            must_not=["neighbour_lookup", UNRELATED],
        )
        inj.later(partial(_lookup, inj, u, p, like, fmt="rms_json", ref=case.ref))


def _neighbour_of(inj: Injector, u: Staff) -> Person:
    rng = inj.rng
    number = rng.randrange(1, 180)
    street = u.address.split(" ", 1)[1] if " " in u.address else u.address
    surname = rng.choice([n for n, _ in names.COMMON_SURNAMES if n != u.surname])
    return inj.force.new_public(rng, surname=surname, postcode=u.postcode, address=f"{number} {street}")


# --- unexplained activity --------------------------------------------------------------------------

_CASE_FORMATS: Final = ("rms_json", "pnc_mainframe", "custody_syslog")
# A repeat is the same subject on several days within 30 days (rules/repeat-subject.yml): incidents
# keep their days inside 28, however long the period.
_REPEAT_SPAN_DAYS: Final = 28
# Counting distinct people or days per person needs a person id: the mainframe log has none.
_ID_FORMATS: Final = ("rms_json", "custody_syslog")


def _unrelated(inj: Injector) -> None:
    rng, force = inj.rng, inj.force
    for i in range(inj.n):
        fmt, kinds = inj.fmt_for("unrelated", i, _CASE_FORMATS)
        u = inj.users(f"unrelated/{fmt}", kinds)
        p = force.take_unlinked(rng, u)
        entry = inj.incident("unrelated_record", fmt, [u], p.person_id, p.person_id)
        inj.later(partial(_lookup, inj, u, p, entry, fmt=fmt, count=1))
    # broad-remit teams: their everyday checks are unexplained by assignments by design
    for _ in range(inj.n_like):
        u = inj.users("unrelated/control", ("control_room",))
        p = force.take_unlinked(rng, u)
        like = inj.lookalike(
            UNRELATED, "control_room_check", [u], p.person_id, p.person_id, must_not=[UNRELATED]
        )
        inj.later(partial(_lookup, inj, u, p, like, ref=_cad(rng), count=1))


def _bulk(inj: Injector) -> None:
    rng, force = inj.rng, inj.force
    shape = inj.shape
    size = shape.bulk_size or (40 if inj.n >= 6 else 30)
    for i in range(inj.n):
        fmt, kinds = inj.fmt_for("bulk", i, _ID_FORMATS)
        u = inj.users(f"bulk/{fmt}", kinds)
        entry = inj.incident("bulk_browsing", fmt, [u], None, None, also=[UNRELATED])

        def act(u: Staff = u, entry: TruthEntry = entry, fmt: str = fmt) -> None:
            sh = inj.shift(u)
            for when in _in_shift(
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
            for when in _in_shift(inj, u, sh, rng.randint(size + 10, size + 40), rng.randint(20, 40)):
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


def _repeat(inj: Injector) -> None:
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


def _out_of_hours(inj: Injector) -> None:
    rng, force = inj.rng, inj.force
    for i in range(inj.n):
        fmt, kinds = inj.fmt_for("ooh", i, ("rms_json", "pnc_mainframe", "custody_syslog"))
        u = inj.users(f"ooh/{fmt}", kinds)
        entry = inj.incident("out_of_hours", fmt, [u], None, None)

        def act(u: Staff = u, entry: TruthEntry = entry, fmt: str = fmt) -> None:
            for _ in range(200):
                day = _day_in(inj, 1, force.days - 1)
                hour = rng.choice(inj.shape.ooh_hours)
                when = local_span(day, f"{hour:02d}:{rng.randrange(0, 50):02d}", "23:59")[0]
                if not on_duty(force, u.number, when, timedelta(hours=2)) and not on_duty(
                    force, u.number, when + timedelta(minutes=40), timedelta(hours=2)
                ):
                    break
            else:
                raise ValueError(f"no off-duty time found for {u.sid}")
            got = _own_subject(inj, u, day)
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
                day = _day_in(inj, 2, force.days - 2)
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
            got = _own_subject(inj, u, sh.day)
            if got is None:
                return
            base = sh.start + timedelta(hours=4 if night else 2, minutes=rng.randrange(0, 90))
            for k in range(rng.randint(2, 3)):
                inj.add(view(rng, u, base + timedelta(minutes=7 * k), got[0], got[1]), like)

        inj.later(act_like)


def _fishing(inj: Injector) -> None:
    rng, force = inj.rng, inj.force
    for i in range(inj.n):
        fmt = ("rms_json", "pnc_mainframe")[i % 2]
        u = inj.users(f"fishing/{fmt}", ("response", "investigator"))
        entry = inj.incident("fishing_search", fmt, [u], None, None)

        def act(u: Staff = u, entry: TruthEntry = entry, fmt: str = fmt) -> None:
            sh = inj.shift(u)
            for when in _in_shift(inj, u, sh, rng.randint(*inj.shape.fishing_searches), 15):
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
            got = _own_subject(inj, u, sh.day)
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


def _surge(inj: Injector) -> None:
    rng, force = inj.rng, inj.force
    workers = [s for s in force.staff if s.kind in ("response", "investigator", "custody")]
    for _ in range(inj.n):
        p = force.take_unlinked(rng)
        entry = inj.incident(
            "record_surge", "many_users_one_record", [], p.person_id, p.person_id, also=[UNRELATED]
        )

        def act(p: Person = p, entry: TruthEntry = entry) -> None:
            for _ in range(100):
                day = _day_in(inj, 1, force.days - 1)
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
