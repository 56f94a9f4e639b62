"""The state the scenario builders share (`Injector`) and the helpers they have in common.

Two phases: `prepare` runs the builders, which change the force before the background is generated
(suspensions, lapsed vetting, declared associates, watchlisted people, look-alike cases) and schedule
their accesses with `later`; `inject` runs those afterwards. Every injected access carries the id of
its truth entry.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any, Final, TypeAlias

from auditwatch.testing.scenarios._force import LONDON, Force
from auditwatch.testing.scenarios._model import (
    Access,
    Assignment,
    Case,
    Person,
    Shift,
    Staff,
    TruthEntry,
)
from auditwatch.testing.scenarios._pick import time_in, view

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


# A scenario builder: run by `Injector.prepare`, in order.
Builder: TypeAlias = Callable[["Injector"], None]
# Schedules the opens of one record: (injector, user, person, truth entry, **options).
Lookup: TypeAlias = Callable[..., None]


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

    def lookup_incident(
        self,
        scenario: str,
        fmt: str,
        u: Staff,
        person: Person,
        *,
        also: Sequence[str] = (UNRELATED,),
        how: Lookup | None = None,
        **options: Any,
    ) -> TruthEntry:
        """An incident where `u` opens `person`'s record in `fmt`: the opens are scheduled with `how`
        (default `lookup`) once the background exists."""
        entry = self.incident(scenario, fmt, [u], person.person_id, person.person_id, also=also)
        self.later(partial(how or lookup, self, u, person, entry, fmt=fmt, **options))
        return entry

    def lookup_lookalike(
        self,
        scenario: str,
        variant: str,
        u: Staff,
        person: Person,
        *,
        must_not: Sequence[str] | None = None,
        lower: bool = False,
        how: Lookup | None = None,
        **options: Any,
    ) -> TruthEntry:
        """A look-alike where `u` opens `person`'s record; it must not fire the scenario's rule nor
        `unrelated-record` (unless `must_not` says otherwise), or with `lower` must fire at a lower
        severity. The opens are scheduled with `how` (default `lookup`)."""
        like = self.lookalike(
            scenario,
            variant,
            [u],
            person.person_id,
            person.person_id,
            must_not=[scenario, UNRELATED] if must_not is None else must_not,
            lower=lower,
        )
        self.later(partial(how or lookup, self, u, person, like, **options))
        return like

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

    def prepare(self, builders: Sequence[Builder]) -> None:
        """Run the scenario builders, in order (see `_scenarios.BUILDERS`)."""
        for builder in builders:
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


def cad(rng: random.Random) -> str:
    """A control-room incident log number (not a case anyone is assigned to)."""
    return f"CAD/{rng.randrange(1000, 9999)}/{rng.randrange(1, 999):04d}"


def day_in(inj: Injector, lo: int, hi: int) -> date:
    return inj.force.start + timedelta(days=inj.rng.randrange(lo, hi))


def own_subject(inj: Injector, s: Staff, day: date) -> tuple[Person, str] | None:
    """A person linked to one of the user's ordinary active cases, with that case's reference."""
    active = [
        a for a in inj.force.active_assignments(s.number, day) if a.case_ref not in inj.force.special_cases
    ]
    if not active:
        return None
    case = inj.force.cases[inj.rng.choice(active).case_ref]
    return inj.force.persons[inj.rng.choice(case.links)[0]], case.ref


def in_shift(inj: Injector, s: Staff, sh: Shift, count: int, spread_minutes: int) -> list[datetime]:
    """`count` times within `spread_minutes` somewhere inside the shift."""
    first = time_in(inj.rng, sh, 30)
    latest = sh.end - timedelta(minutes=spread_minutes + 20)
    if first > latest:
        first = max(sh.start + timedelta(minutes=20), latest)
    return sorted(first + timedelta(seconds=inj.rng.randrange(spread_minutes * 60)) for _ in range(count))


def lookup(
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
    for when in in_shift(
        inj, u, sh, count or inj.rng.randint(*shape.lookup_opens), shape.lookup_spread_minutes
    ):
        inj.add(view(inj.rng, u, when, person, ref, fmt=fmt), entry)
