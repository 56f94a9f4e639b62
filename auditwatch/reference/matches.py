"""The relationship matches rules test (`match(name)`, or a bare `name`): one record per match.

A record holds all there is to know about its match: what rule authors read (`MatchInfo`, shown by
`auditwatch rules names` and RULES.md), the test the view runs for every event (proofs.py), the
evidence built from the test's proof for an alert (evidence.py), and what the match needs of the
event's user (`user_can`), so that rules requiring it are skipped for users who cannot have it. The
lookup tables (`MATCHES`, `TESTS`, `BY_NAME`) are read off the one list, `ALL`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Generic, Literal, TypeVar, cast

from auditwatch.reference import evidence as ev
from auditwatch.reference import proofs
from auditwatch.reference.evidence import Evidence
from auditwatch.reference.proofs import (
    RESTRICTED,
    CaseRefProof,
    DutyProof,
    HomeProof,
    LinkedCaseProof,
    ListedProof,
    StaffProof,
    StatusProof,
    SurnameProof,
    UnitCaseProof,
    VettingProof,
)

if TYPE_CHECKING:
    from auditwatch.reference.view import EventView, UserFacts

P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class MatchInfo:
    description: str
    kind: Literal["signal", "explanation"]
    no_match_text: str  # what an alert says when this explanation was tried and failed


@dataclass(frozen=True, slots=True)
class Match(Generic[P]):
    """One match. `test` and `evidence` agree on the type of the proof `P` (checked by mypy where the
    record is written). Build it unsubscripted: `Match(...)`."""

    name: str
    info: MatchInfo
    test: Callable[[EventView], P | None]  # the proof that the match holds, or None: run per event
    evidence: Callable[[EventView, P], Evidence]  # from the proof, only for alerts
    # whether the match can hold for some subject at some time, given only the event's user. Read off
    # `test`, never stricter than it (tests/unit/detection/test_detection_user_skip.py).
    user_can: Callable[[UserFacts], bool]

    def evidence_for(self, view: EventView) -> Evidence | None:
        """The evidence that this match holds for `view`, from the proof `view.hit` memoised."""
        if not view.hit(self.name):
            return None
        # `view.answers[name]` is only ever set from `TESTS[name]`, this record's own test
        return self.evidence(view, cast(P, view.answers[self.name]))


AnyMatch = (
    Match[StaffProof]
    | Match[ListedProof]
    | Match[SurnameProof]
    | Match[HomeProof]
    | Match[StatusProof]
    | Match[VettingProof]
    | Match[LinkedCaseProof]
    | Match[CaseRefProof]
    | Match[DutyProof]
    | Match[UnitCaseProof]
)


def any_user(user: UserFacts) -> bool:
    """`user_can` of a match that can hold whoever the user is."""
    return True


ALL: Final[tuple[AnyMatch, ...]] = (
    Match(
        "subject_is_staff",
        MatchInfo(
            "the subject is another member of staff, by person id or by surname, first forename and DOB "
            "(directly or through the persons table)",
            "signal",
            "the subject does not match anyone in the HR directory",
        ),
        test=proofs.subject_is_staff,
        evidence=ev.staff,
        user_can=any_user,
    ),
    Match(
        "subject_is_staff_by_name",
        MatchInfo(
            "as subject_is_staff, or by name alone where a date of birth is missing on one side (opt-in; "
            "a namesake with another DOB never matches)",
            "signal",
            "the subject does not match anyone in the HR directory, even by name",
        ),
        test=proofs.subject_is_staff_by_name,
        evidence=ev.staff,
        user_can=any_user,
    ),
    Match(
        "subject_is_self",
        MatchInfo(
            "the subject is the user themselves, by person id or by surname, first forename and DOB "
            "(directly or through the persons table)",
            "signal",
            "the subject is not the user",
        ),
        test=proofs.subject_is_self,
        evidence=ev.is_self,
        user_can=lambda u: (
            u.entry is not None and bool(u.entry.person.person_id or u.entry.person.name_dob_key)
        ),
    ),
    Match(
        "subject_on_watchlist",
        MatchInfo(
            "the subject is on a watchlist on the event's date, by person id or by name and DOB",
            "signal",
            "the subject is on no watchlist on that date",
        ),
        test=proofs.on_watchlist,
        evidence=ev.watchlist,
        user_can=any_user,
    ),
    Match(
        "subject_on_watchlist_by_name",
        MatchInfo(
            "as subject_on_watchlist, or by name alone where a date of birth is missing on one side (opt-in)",
            "signal",
            "the subject is on no watchlist on that date, even by name",
        ),
        test=proofs.on_watchlist_by_name,
        evidence=ev.watchlist,
        user_can=any_user,
    ),
    Match(
        "subject_is_declared_associate",
        MatchInfo(
            "the subject is an associate this user had declared in the integrity register by the event's "
            "date, by person id or by name and DOB",
            "signal",
            "the subject is not among this user's declared associates",
        ),
        test=proofs.declared_associate,
        evidence=ev.associate,
        user_can=lambda u: u.associates is not None,
    ),
    Match(
        "subject_is_declared_associate_by_name",
        MatchInfo(
            "as subject_is_declared_associate, or by name alone where a date of birth is missing on one "
            "side (opt-in)",
            "signal",
            "the subject is not among this user's declared associates, even by name",
        ),
        test=proofs.declared_associate_by_name,
        evidence=ev.associate,
        user_can=lambda u: u.associates is not None,
    ),
    Match(
        "subject_same_surname",
        MatchInfo(
            "the subject has the user's surname (folded; the persons table's when the event has none); "
            "weigh with subject.surname_rarity",
            "signal",
            "the subject's surname differs from the user's",
        ),
        test=proofs.same_surname,
        evidence=ev.surname,
        user_can=lambda u: u.entry is not None and u.entry.person.surname_fold is not None,
    ),
    Match(
        "subject_same_address",
        MatchInfo(
            "the subject lives at the user's home address (same postcode and same address; the event's or "
            "the persons table's)",
            "signal",
            "the subject's address is not the user's home address",
        ),
        test=proofs.same_address,
        evidence=ev.address,
        user_can=lambda u: u.entry is not None and u.entry.postcode is not None,
    ),
    Match(
        "subject_same_postcode",
        MatchInfo(
            "the subject's postcode (the event's or the persons table's) is the user's home postcode "
            "(neighbour or same address)",
            "signal",
            "the subject's postcode is not the user's home postcode",
        ),
        test=proofs.same_postcode,
        evidence=ev.postcode,
        user_can=lambda u: u.entry is not None and u.entry.postcode is not None,
    ),
    Match(
        "user_restricted",
        MatchInfo(
            "the user was suspended, restricted or had left on the event's date",
            "signal",
            "the user's status was active on the event's date",
        ),
        test=proofs.restricted,
        evidence=ev.restricted,
        user_can=lambda u: u.entry is not None and any(row[1] in RESTRICTED for row in u.entry.history),
    ),
    Match(
        "user_vetting_lapsed",
        MatchInfo(
            "the user's vetting had expired by the event's date",
            "signal",
            "the user's vetting was in date (or no expiry is recorded)",
        ),
        test=proofs.vetting_lapsed,
        evidence=ev.vetting,
        user_can=lambda u: u.entry is not None and u.entry.vetting_expiry is not None,
    ),
    Match(
        "assigned_to_linked_case",
        MatchInfo(
            "the user was assigned on the event's date to a case linked to the subject or the record",
            "explanation",
            "no case assignment links this user to this person or record",
        ),
        test=proofs.linked_case,
        evidence=ev.linked_case,
        user_can=lambda u: u.sid is not None and bool(u.cases),
    ),
    Match(
        "assigned_to_case_ref",
        MatchInfo(
            "the case reference given with the access is a case the user was assigned to on that date",
            "explanation",
            "the case reference given is not a case this user was assigned to on that date",
        ),
        test=proofs.case_ref,
        evidence=ev.case_ref,
        user_can=lambda u: bool(u.cases),
    ),
    Match(
        "rostered_on_duty",
        MatchInfo(
            "a rostered shift of the user covers the event's time (within the configured grace)",
            "explanation",
            "the user was not rostered on duty at that time",
        ),
        test=proofs.on_duty,
        evidence=ev.duty,
        user_can=lambda u: u.sid is not None and bool(u.shifts),
    ),
    Match(
        "subject_in_same_unit_case",
        MatchInfo(
            "a colleague in the user's unit was assigned on that date to a case linked to the subject or "
            "the record (team work)",
            "explanation",
            "no one in the user's unit was assigned to a case linked to this person or record",
        ),
        test=proofs.same_unit_case,
        evidence=ev.unit_case,
        user_can=lambda u: u.entry is not None and bool(u.entry.unit),
    ),
)


def by_name(matches: Iterable[AnyMatch]) -> dict[str, AnyMatch]:
    """The matches by name, in order; ValueError if two share a name (one would hide the other)."""
    found: dict[str, AnyMatch] = {}
    for match in matches:
        if match.name in found:
            raise ValueError(f"two reference matches are named {match.name!r}")
        found[match.name] = match
    return found


BY_NAME: Final[Mapping[str, AnyMatch]] = by_name(ALL)
#: name -> what rule authors read, in the list's order (`auditwatch rules names`, RULES.md)
MATCHES: Final[Mapping[str, MatchInfo]] = {name: match.info for name, match in BY_NAME.items()}
#: name -> the match's test (what `EventView.hit` and compiled rules run)
TESTS: Final[Mapping[str, Callable[[EventView], object]]] = {
    name: match.test for name, match in BY_NAME.items()
}

_POSSIBLE: dict[frozenset[str], frozenset[str]] = {}  # interned: users share a handful of these


def possible_for(user: UserFacts) -> frozenset[str]:
    """The names of the matches that can hold for some event of `user` (see `Match.user_can`)."""
    found = frozenset(match.name for match in ALL if match.user_can(user))
    return _POSSIBLE.setdefault(found, found)
