"""Build the synthetic force: staff, the public, cases with linked people, assignments and rosters."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from auditwatch.testing.scenarios import _names as names
from auditwatch.testing.scenarios._model import CASE_WORKER_KINDS, Assignment, Case, Person, Shift, Staff

LONDON: Final = ZoneInfo("Europe/London")

# kind -> (share of staff, minimum head count, unit names, ranks, HR duties, roster pattern)
_KINDS: Final[dict[str, tuple[float, int, tuple[str, ...], tuple[str, ...], tuple[str, ...], str]]] = {
    "response": (
        0.30,
        8,
        ("Response Team A", "Response Team B", "Response Team C", "Response Team D"),
        ("PC", "PC", "PC", "PC", "PS"),
        (),
        "247",
    ),
    "investigator": (0.20, 6, ("CID", "Safeguarding Hub"), ("DC", "DC", "DS", "DI"), (), "days"),
    "custody": (0.08, 3, ("Custody",), ("PS", "Detention Officer", "Detention Officer"), (), "247"),
    "mit": (
        0.06,
        6,
        ("Major Investigation Team",),
        ("DC", "DC", "DS", "DI", "DCI"),
        ("major_incident",),
        "days",
    ),
    "control_room": (
        0.08,
        3,
        ("Force Control Room",),
        ("Call Handler", "Dispatcher", "Supervisor"),
        ("control_room",),
        "247",
    ),
    "intelligence": (
        0.05,
        3,
        ("Intelligence Bureau",),
        ("Intelligence Analyst", "Researcher"),
        ("intelligence_bulk",),
        "days",
    ),
    "press": (0.02, 2, ("Corporate Communications",), ("Press Officer",), ("press_office",), "days"),
    "psd": (0.03, 2, ("Professional Standards",), ("DS", "DI", "Investigator"), ("psd", "vetting"), "days"),
    "vetting": (0.02, 1, ("Vetting Unit",), ("Vetting Officer",), ("vetting",), "days"),
    "subject_access": (
        0.02,
        2,
        ("Information Rights",),
        ("Disclosure Officer",),
        ("subject_access",),
        "days",
    ),
    "training": (0.02, 2, ("Learning and Development",), ("Trainer", "PS"), ("training",), "days"),
    "support": (0.12, 2, ("Business Support", "HR"), ("Admin Officer", "HR Adviser"), (), "days"),
}
# 24/7 teams work a ten-day cycle: two earlies, two lates, two nights, four rest days.
_CYCLE: Final = ("E", "E", "L", "L", "N", "N", "", "", "", "")
_TIMES: Final = {
    "E": ("07:00", "15:00"),
    "L": ("15:00", "23:00"),
    "N": ("22:00", "07:00"),
    "D": ("08:00", "17:00"),
    "OT": ("10:00", "18:00"),
}
_LINK_ROLES: Final = ("suspect", "victim", "witness", "witness", "person_of_interest", "victim")


@dataclass(slots=True)
class Force:
    """Everything generated about the force; mutable only while the generator builds it."""

    start: date
    days: int
    staff: list[Staff]
    persons: dict[str, Person]
    plain: list[str]  # members of the public linked to cases (benign case work, control-room checks)
    unlinked: list[str]  # members of the public linked to no case: subjects of unexplained accesses
    cases: dict[str, Case]
    assignments: list[Assignment]
    shifts: dict[int, list[Shift]]  # staff number -> shifts, in time order
    watchlist: list[tuple[str, str, str]]  # (person_id, category, reason)
    associates: list[tuple[int, str, str, date]]  # (staff number, person_id, relationship, declared)
    surname_counts: dict[str, int]
    staff_surnames_rare: set[str]
    special_cases: set[str] = field(default_factory=set)  # look-alike cases: only the scenarios access them
    # watchlist person id -> (added on, removed on): entries without one apply for the whole period
    watch_dates: dict[str, tuple[date | None, date | None]] = field(default_factory=dict)
    _ids: set[str] = field(default_factory=set)
    _seq: int = 0

    @property
    def end(self) -> date:
        return self.start + timedelta(days=self.days - 1)

    def by_kind(self, *kinds: str) -> list[Staff]:
        return [s for s in self.staff if s.kind in kinds]

    def staff_by_number(self, number: int) -> Staff:
        for s in self.staff:
            if s.number == number:
                return s
        raise KeyError(number)

    def new_person_id(self, rng: random.Random) -> str:
        while True:
            pid = f"P{rng.randrange(1_000_000, 9_999_999)}"
            if pid not in self._ids:
                self._ids.add(pid)
                return pid

    def add_person(self, person: Person) -> Person:
        self.persons[person.person_id] = person
        return person

    def new_case_ref(self, kind: str = "occurrence") -> str:
        self._seq += 1
        prefix = {"occurrence": "OCC", "custody": "CU", "operation": "OP"}[kind]
        return f"{prefix}/{self.start.year % 100:02d}/{self._seq:06d}"

    def add_case(self, case: Case) -> Case:
        self.cases[case.ref] = case
        return case

    def active_assignments(self, number: int, day: date) -> list[Assignment]:
        return [
            a
            for a in self.assignments
            if a.staff == number and a.start <= day and (a.end is None or day <= a.end)
        ]

    def take_unlinked(self, rng: random.Random, avoid: Staff | None = None) -> Person:
        """A member of the public linked to no case, never handed out before (made up when none is left)."""
        while self.unlinked:
            person = self.persons[self.unlinked.pop()]
            if avoid is None or (person.surname != avoid.surname and person.postcode != avoid.postcode):
                return person
        surname = rng.choice([n for n, _ in names.COMMON_SURNAMES if avoid is None or n != avoid.surname])
        return self.add_person(
            Person(
                self.new_person_id(rng),
                surname,
                rng.choice(names.FORENAMES),
                _dob(rng, 18, 80, self.start),
                _address(rng),
                _postcode(rng, names.OUTWARD_CODES[8:]),
            )
        )

    def new_public(
        self,
        rng: random.Random,
        *,
        surname: str | None = None,
        postcode: str | None = None,
        address: str | None = None,
    ) -> Person:
        """A new member of the public (a relative, neighbour, associate or VIP) linked to no case."""
        common = [n for n, _ in names.COMMON_SURNAMES]
        return self.add_person(
            Person(
                self.new_person_id(rng),
                surname or rng.choice(common),
                rng.choice(names.FORENAMES),
                _dob(rng, 18, 80, self.start),
                address or _address(rng),
                postcode or _postcode(rng, names.OUTWARD_CODES[8:]),
            )
        )


def local_span(day: date, start_local: str, end_local: str) -> tuple[datetime, datetime]:
    """UTC span of a shift given in local wall-clock times (an end at or before the start: next day)."""
    sh, sm = map(int, start_local.split(":"))
    eh, em = map(int, end_local.split(":"))
    start = datetime.combine(day, time(sh, sm), LONDON)
    end_day = day if (eh, em) > (sh, sm) else day + timedelta(days=1)
    end = datetime.combine(end_day, time(eh, em), LONDON)
    return start.astimezone(UTC), end.astimezone(UTC)


def _postcode(rng: random.Random, outward: tuple[str, ...]) -> str:
    letters = names.INWARD_LETTERS
    return f"{rng.choice(outward)} {rng.randrange(1, 10)}{rng.choice(letters)}{rng.choice(letters)}"


def _address(rng: random.Random) -> str:
    return f"{rng.randrange(1, 180)} {rng.choice(names.STREETS)}, {rng.choice(names.TOWNS)}"


def _dob(rng: random.Random, youngest: int, oldest: int, today: date) -> date:
    return today - timedelta(days=rng.randrange(youngest * 365, oldest * 365))


def build_force(
    rng: random.Random,
    *,
    start: date,
    days: int,
    staff_count: int,
    people_per_staff: int,
    cycle: tuple[str, ...] = _CYCLE,
    times: dict[str, tuple[str, str]] | None = None,
) -> Force:
    """The force's people, cases, assignments and rosters; special roles are added by the scenarios.

    `cycle` is the 24/7 teams' shift pattern (one code per day, "" = rest day) and `times` the local
    start and end of each shift code (defaults: the first force's)."""
    common = [n for n, _ in names.COMMON_SURNAMES]
    weights = [c for _, c in names.COMMON_SURNAMES]
    rare_pool = list(names.RARE_SURNAMES) + names.generated_rare_surnames()
    rng.shuffle(rare_pool)
    # Staff and the public draw postcodes from different outward codes: no neighbour by accident.
    staff_outward = names.OUTWARD_CODES[:8]
    public_outward = names.OUTWARD_CODES[8:]
    force = Force(start, days, [], {}, [], [], {}, [], {}, [], [], {}, set())

    numbers = rng.sample(range(1_000, 999_999), staff_count)
    kinds = _kind_list(staff_count)
    used_postcodes: set[str] = set()
    for i, (number, kind) in enumerate(zip(numbers, kinds, strict=True)):
        _share, _minimum, units, ranks, duties, _pattern = _KINDS[kind]
        if rng.random() < 0.25:
            surname = rare_pool.pop()
            force.staff_surnames_rare.add(surname)
        else:
            surname = rng.choices(common, weights)[0]
        postcode = _postcode(rng, staff_outward)
        while postcode in used_postcodes:
            postcode = _postcode(rng, staff_outward)
        used_postcodes.add(postcode)
        force.staff.append(
            Staff(
                number=number,
                surname=surname,
                forenames=rng.choice(names.FORENAMES),
                dob=_dob(rng, 21, 60, start),
                address=_address(rng),
                postcode=postcode,
                kind=kind,
                unit=rng.choice(units),
                rank=rng.choice(ranks),
                duties=duties,
                vetting_level=rng.choice(("RV", "SC", "MV")),
                vetting_expiry=start + timedelta(days=rng.randrange(200, 1800)),
                cycle_offset=i % len(cycle),
            )
        )
    # About one in five staff also have a record of their own (victim, witness, licence check...).
    for idx, s in enumerate(force.staff):
        if rng.random() < 0.22:
            pid = force.new_person_id(rng)
            force.staff[idx] = replace(s, person_id=pid, person_id_in_hr=rng.random() < 0.5)
            force.add_person(force.staff[idx].as_person())

    # The public: common surnames mostly, some rare ones no member of staff has.
    public_rare = rare_pool[: max(20, staff_count // 5)]
    for _ in range(staff_count * people_per_staff):
        surname = rng.choice(public_rare) if rng.random() < 0.08 else rng.choices(common, weights)[0]
        person = force.add_person(
            Person(
                force.new_person_id(rng),
                surname,
                rng.choice(names.FORENAMES),
                _dob(rng, 14, 85, start),
                _address(rng),
                _postcode(rng, public_outward),
            )
        )
        (force.unlinked if rng.random() < 0.3 else force.plain).append(person.person_id)

    force.surname_counts = dict(names.COMMON_SURNAMES)
    for surname in sorted(force.staff_surnames_rare | set(public_rare)):
        force.surname_counts[surname] = rng.randrange(12, 900)
    _build_cases(rng, force)
    _build_roster(rng, force, cycle, times or _TIMES)
    return force


def _kind_list(staff_count: int) -> list[str]:
    counts = {k: max(v[1], round(v[0] * staff_count)) for k, v in _KINDS.items()}
    counts["response"] += staff_count - sum(counts.values())
    if counts["response"] < 4:
        raise ValueError(f"staff={staff_count} is too small for a force (at least 60 needed)")
    out: list[str] = []
    for kind, n in counts.items():
        out.extend([kind] * n)
    return out


def _build_cases(rng: random.Random, force: Force) -> None:
    """Each case worker gets several active cases; each case links a few members of the public."""
    workers = [s for s in force.staff if s.kind in CASE_WORKER_KINDS]
    pool = list(force.plain)
    for s in workers:
        for _ in range(rng.randrange(4, 8)):
            kind = "custody" if s.kind == "custody" else "occurrence"
            opened = force.start - timedelta(days=rng.randrange(0, 60))
            links = tuple((rng.choice(pool), rng.choice(_LINK_ROLES)) for _ in range(rng.randrange(2, 6)))
            links = tuple(dict(links).items())  # one role per person
            case = force.add_case(Case(force.new_case_ref(kind), kind, opened, links))
            end = None
            if rng.random() < 0.12:  # some assignments end during the period
                end = force.start + timedelta(days=rng.randrange(2, force.days))
            force.assignments.append(Assignment(s.number, case.ref, opened, end, "oic"))
            # a second officer on some cases, from the same kind of team
            if rng.random() < 0.3:
                peers = [w for w in workers if w.kind == s.kind and w.number != s.number]
                if peers:
                    other = rng.choice(peers)
                    force.assignments.append(Assignment(other.number, case.ref, opened, end, "support"))


def _build_roster(
    rng: random.Random, force: Force, cycle: tuple[str, ...], times: dict[str, tuple[str, str]]
) -> None:
    for s in force.staff:
        pattern = _KINDS[s.kind][5]
        shifts: list[Shift] = []
        for d in range(-1, force.days + 1):
            day = force.start + timedelta(days=d)
            if pattern == "247":
                code = cycle[(d + s.cycle_offset) % len(cycle)]
            else:
                code = "D" if day.weekday() < 5 else ""
            if not code and s.kind in CASE_WORKER_KINDS and rng.random() < 0.05:
                code = "OT"
            if code:
                a, b = times[code]
                start, end = local_span(day, a, b)
                shifts.append(Shift(s.number, day, code, a, b, start, end))
        force.shifts[s.number] = shifts


def on_duty(force: Force, number: int, when: datetime, margin: timedelta = timedelta(0)) -> bool:
    """Whether `when` falls inside one of the staff member's shifts (widened by `margin`)."""
    return any(sh.start - margin <= when <= sh.end + margin for sh in force.shifts.get(number, ()))
