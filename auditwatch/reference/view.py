"""The per-event view of reference data that detection rules read: `EventView.value` / `.match`.

A view costs little until asked; each answer (and each intermediate lookup) is computed once per
view, what depends only on the user id once per snapshot (`UserFacts`), and the `Evidence` of a match
(with its formatted summary) only when `match` asks for it: rules test matches with `hit`. Every
answer is a dict hit or a `bisect`, keyed by identifiers normalised exactly like the exports' (see
`identifiers:` in config.py).

What the answers are: the matches in matches.py (their tests in proofs.py, their evidence in
evidence.py), the values in values.py; who the subject is: subject.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Final

from auditwatch.reference.evidence import Evidence
from auditwatch.reference.identity import Joins, Links
from auditwatch.reference.matches import BY_NAME, MATCHES, TESTS, possible_for
from auditwatch.reference.snapshot import ReferenceSnapshot
from auditwatch.reference.subject import (
    MISS,
    Resolved,
    as_text,
    field_text,
    name_facts,
    resolve,
    strict_links,
)
from auditwatch.reference.tables import (
    Assignment,
    AssignmentTable,
    ListedPerson,
    RosterTable,
    Shifts,
    StaffEntry,
    StaffTable,
    Table,
)
from auditwatch.reference.values import VALUE_FUNCS, VALUES
from auditwatch.schema import (
    RECORD_ID,
    SUBJECT_DOB,
    SUBJECT_FORENAMES,
    SUBJECT_PERSON_ID,
    SUBJECT_SURNAME,
    USER_ID,
)

# Facts about one raw user id are cached per snapshot (the same users act all day), so the lookups
# every event of a user shares are made once. Bounded: cleared when full.
USER_CACHE_LIMIT: Final = 100_000


class UserFacts:
    """What the reference says about one raw `user.id`, independent of the event's time."""

    __slots__ = ("associates", "cases", "entry", "possible", "shifts", "sid", "table")

    sid: str | None  # the user id normalised like HR staff numbers
    entry: StaffEntry | None  # the user in HR, and the HR export (both None: not in HR)
    table: StaffTable | None
    cases: tuple[tuple[Mapping[str, tuple[Assignment, ...]], AssignmentTable], ...]  # case -> assignments
    shifts: tuple[tuple[Shifts, RosterTable], ...]
    associates: Joins[ListedPerson] | None  # this user's declared associates, by subject key (None: none)
    possible: frozenset[str] | None  # see `matches.possible_for`

    def __init__(self, ref: ReferenceSnapshot, raw: str | None) -> None:
        self.possible = None
        sid = self.sid = ref.staff_id_of(raw) if raw else None
        self.entry = None
        self.table = None
        self.cases = ()
        self.shifts = ()
        self.associates = None
        if sid is None:
            return
        for table in ref.staff:
            entry = table.by_id.get(sid)
            if entry is not None:
                self.entry, self.table = entry, table
                break
        self.cases = tuple((cases, t) for t in ref.assignments if (cases := t.by_staff.get(sid)))
        self.shifts = tuple((shifts, t) for t in ref.rosters if (shifts := t.by_staff.get(sid)) is not None)
        self.associates = ref.identity.associates.get(sid)


_NO_USER_KEY: Final = "\x00none"


def matcher(name: str) -> Callable[[EventView], bool]:
    """`view.hit(name)` as one memoised call, for compiled rules (KeyError for an unknown name)."""
    compute = TESTS[name]

    def test(view: EventView) -> bool:
        answers = view.answers
        found = answers.get(name)
        if found is None:
            found = answers[name] = compute(view) or False
        return found is not False

    return test


def value_getter(name: str) -> Callable[[EventView], object]:
    """`view.value(name)` as one memoised call, for compiled rules (KeyError for an unknown name)."""
    compute = VALUE_FUNCS[name]

    def get(view: EventView) -> object:
        memo = view._values
        found = memo.get(name, MISS)
        if found is MISS:
            found = memo[name] = compute(view)
        return found

    return get


class EventView:
    """Reference data about one event's user and subject; answers are memoised per view.

    `hit(name)` says whether a match holds without building its `Evidence`; `match(name)` builds the
    evidence (once) from what `hit` found. `answers` memoises `hit`: per match name, False (no match)
    or the proof the evidence is built from."""

    __slots__ = (
        "_at",
        "_evidence",
        "_fields",
        "_ref",
        "_u",
        "_v_day",
        "_v_ids",
        "_v_keys",
        "_v_names",
        "_v_person",
        "_v_staff",
        "_values",
        "answers",
    )

    def __init__(self, ref: ReferenceSnapshot, fields: Mapping[str, object], at: float) -> None:
        self._ref = ref
        self._fields = fields
        self._at = at
        self.answers: dict[str, object] = {}
        self._values: dict[str, object] = {}
        self._evidence: dict[str, Evidence | None] | None = None
        self._u: UserFacts | None = None
        self._v_day: str | None = None
        self._v_ids: tuple[str | None, str | None] | None = None
        self._v_names: tuple[str | None, str | None, str | None] | None = None
        self._v_keys: tuple[str | None, str | None] | None = None
        self._v_person: Resolved | None = None
        self._v_staff: Links[StaffEntry] | None = None

    def value(self, name: str) -> object:
        memo = self._values
        found = memo.get(name, MISS)
        if found is MISS:
            compute = VALUE_FUNCS.get(name)
            if compute is None:
                raise KeyError(f"unknown reference value '{name}' (known: {', '.join(VALUES)})")
            found = memo[name] = compute(self)
        return found

    def hit(self, name: str) -> bool:
        """Whether the match `name` holds (memoised; no evidence is built)."""
        found = self.answers.get(name)
        if found is None:
            compute = TESTS.get(name)
            if compute is None:
                raise KeyError(f"unknown reference match '{name}' (known: {', '.join(MATCHES)})")
            found = self.answers[name] = compute(self) or False
        return found is not False

    def match(self, name: str) -> Evidence | None:
        memo = self._evidence
        if memo is None:
            memo = self._evidence = {}
        found = memo.get(name, MISS)
        if found is MISS:
            found = memo[name] = BY_NAME[name].evidence_for(self) if self.hit(name) else None
        return found  # type: ignore[return-value]

    # --- memoised intermediate lookups (inline memo code: no closure per call) ----------------

    def _day(self) -> str:
        day = self._v_day
        if day is None:
            day = self._v_day = self._ref.local_day(self._at)
        return day

    def _user(self) -> UserFacts:
        user = self._u
        if user is None:
            user = self._u = _user_facts(self._ref, self._fields.get(USER_ID))
        return user

    def possible_matches(self) -> frozenset[str]:
        """The match names that can hold for some subject at some time given this event's user
        (a superset: a match left out is certainly false for every event of this user)."""
        user = self._u or self._user()
        possible = user.possible
        if possible is None:
            possible = user.possible = possible_for(user)
        return possible

    def _sid(self) -> str | None:
        return self._user().sid

    def _staff(self) -> StaffEntry | None:
        return self._user().entry

    def _user_attr(self, get: Callable[[StaffEntry], object]) -> object:
        entry = self._user().entry
        return get(entry) if entry is not None else None

    def _load_ids(self) -> tuple[str | None, str | None]:
        fields, ref = self._fields, self._ref
        pid, record = field_text(fields, SUBJECT_PERSON_ID), field_text(fields, RECORD_ID)
        loaded = self._v_ids = (
            ref.normalise_person_id(pid) if pid else None,
            ref.normalise_record_id(record) if record else None,
        )
        return loaded

    def _pid(self) -> str | None:
        return (self._v_ids or self._load_ids())[0]

    def _record(self) -> str | None:
        return (self._v_ids or self._load_ids())[1]

    def _case_pid(self) -> str | None:
        """The person id case links are looked up by: the event's, else the one person of the persons
        table whose name and DOB the event gives."""
        pid = (self._v_ids or self._load_ids())[0]
        if pid or not self._ref.identity.persons:
            return pid
        row = self._resolved().one
        return row.person_id if row is not None else None

    def _names(self) -> tuple[str | None, str | None, str | None]:
        """(folded surname, folded forenames, DOB) of the subject."""
        names = self._v_names
        if names is None:
            fields = self._fields
            names, self._v_keys = name_facts(
                field_text(fields, SUBJECT_SURNAME),
                field_text(fields, SUBJECT_FORENAMES),
                field_text(fields, SUBJECT_DOB),
            )
            self._v_names = names
        return names

    def _keys(self) -> tuple[str | None, str | None]:
        """The subject's (name_dob_key, name_key), see keys.py."""
        keys = self._v_keys
        if keys is None:
            self._names()
            keys = self._v_keys
            assert keys is not None
        return keys

    def _subject_staff(self) -> Links[StaffEntry]:
        """Staff the subject is, by person id or name and DOB (in index order; the user may be one)."""
        links = self._v_staff
        if links is None:
            links = self._v_staff = strict_links(self, self._ref.identity.staff)
        return links

    def _resolved(self) -> Resolved:
        """The subject's row(s) in the persons table (memoised)."""
        found = self._v_person
        if found is None:
            found = self._v_person = resolve(self)
        return found

    def _is_self(self) -> bool:
        return self.hit("subject_is_self")

    def _linked_cases(self) -> Iterator[tuple[str, str, str, str, Table | None]]:
        """(case ref, "person"/"record"/"case", the id, link role, links table) for subject and record."""
        pid, record = self._case_pid(), self._record()
        if record:
            yield self._ref.case_ref_of(record) or record, "case", record, "", None
        for links in self._ref.case_links:
            if pid:
                flat = links.by_person.get(pid)
                if flat:
                    for i in range(0, len(flat), 2):
                        yield flat[i], "person", pid, flat[i + 1], links
            if record:
                flat = links.by_record.get(record)
                if flat:
                    for i in range(0, len(flat), 2):
                        yield flat[i], "record", record, flat[i + 1], links


def _user_facts(ref: ReferenceSnapshot, raw: object) -> UserFacts:
    text = raw if raw.__class__ is str else as_text(raw)
    cache: dict[str, UserFacts] = ref._users
    user = cache.get(text or _NO_USER_KEY)
    if user is None:
        if len(cache) >= USER_CACHE_LIMIT:
            cache.clear()
        user = cache[text or _NO_USER_KEY] = UserFacts(ref, text or None)
    return user
