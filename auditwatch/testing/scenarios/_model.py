"""The synthetic force as plain frozen values: people, staff, cases, shifts and record accesses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final

# Roles (the HR "duties" tokens the rules read) and which unit kinds carry them.
CASE_WORKER_KINDS: Final = frozenset({"response", "investigator", "custody", "mit"})
BROAD_REMIT_KINDS: Final = frozenset({"control_room", "intelligence", "psd", "vetting", "subject_access"})


@dataclass(frozen=True, slots=True)
class Person:
    """A person record in the force's record systems."""

    person_id: str
    surname: str
    forenames: str
    dob: date
    address: str
    postcode: str


@dataclass(frozen=True, slots=True)
class Staff:
    """A member of staff as the HR directory knows them (current row)."""

    number: int
    surname: str
    forenames: str
    dob: date
    address: str
    postcode: str
    kind: str  # response, investigator, custody, mit, control_room, intelligence, press, psd, ...
    unit: str
    rank: str
    duties: tuple[str, ...]  # HR duty tokens, e.g. ("control_room",)
    vetting_level: str
    vetting_expiry: date
    status: str = "active"  # active, suspended, restricted, left (from status_from)
    status_from: date | None = None
    person_id: str | None = None  # the member of staff's own record, when they have one
    person_id_in_hr: bool = False  # whether the HR export carries that id (else name + DOB only)
    cycle_offset: int = 0

    @property
    def sid(self) -> str:
        """The canonical staff number (``MP012345``)."""
        return f"MP{self.number:06d}"

    def as_person(self) -> Person:
        assert self.person_id is not None
        return Person(self.person_id, self.surname, self.forenames, self.dob, self.address, self.postcode)


@dataclass(frozen=True, slots=True)
class Case:
    """A case, incident or custody reference with the people linked to it."""

    ref: str
    kind: str  # occurrence, custody, operation
    opened: date
    links: tuple[tuple[str, str], ...]  # (person_id, role)


@dataclass(frozen=True, slots=True)
class Assignment:
    staff: int
    case_ref: str
    start: date
    end: date | None
    role: str = "investigator"


@dataclass(frozen=True, slots=True)
class Shift:
    """A rostered duty period, local date and times in Europe/London, and its UTC span."""

    staff: int
    day: date
    code: str  # E, L, N, D, OT
    start_local: str  # "07:00"
    end_local: str
    start: datetime  # aware, UTC
    end: datetime


@dataclass(frozen=True, slots=True)
class Access:
    """One record access before it is written in some source format."""

    when: datetime  # aware, UTC
    user: Staff
    action: str  # view, update, search
    record_type: str  # person, occurrence, custody, intel
    record_id: str
    subject: Person | None
    case_ref: str | None
    fmt: str  # rms_json, pnc_mainframe, custody_syslog, intel_csv
    terminal: str
    search_terms: str | None = None
    wildcard: bool = False
    result_count: int | None = None
    label: str | None = None  # truth entry this access belongs to
    explained_by: str = ""  # benign only: "assignment" or "role:<duty>"


@dataclass(slots=True)
class TruthEntry:
    """One injected incident or benign look-alike, filled with evidence lines once written."""

    id: str
    kind: str  # incident | lookalike
    scenario: str
    variant: str
    users: list[str]
    subject: str | None
    record: str | None
    start: datetime
    end: datetime
    expected_rules: list[str]  # incident: at least one of these must fire
    also_rules: list[str] = field(default_factory=list)  # incident: may fire too
    must_not_fire: list[str] = field(default_factory=list)  # look-alike: none of these may fire
    expect: str = "alert"  # alert | silent | lower_severity
    severity_below: str | None = None  # lower_severity: the rule whose severity must be lower
    lines: list[tuple[str, int]] = field(default_factory=list)  # (relative file, byte offset)
    formats: set[str] = field(default_factory=set)
