"""The reference values rules read (`user.*`, `subject.*`): one record per value, its description (for
rule authors, RULES.md) and how the view computes it; `VALUES` and `VALUE_FUNCS` are read off the one
list, `ALL`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from auditwatch.reference.proofs import on_watchlist
from auditwatch.reference.subject import name_facts, subject_postcodes, subject_surname
from auditwatch.reference.tables import StaffEntry

if TYPE_CHECKING:
    from auditwatch.reference.view import EventView


@dataclass(frozen=True, slots=True)
class Value:
    """One reference value: its name, what it means, and how the view computes it (memoised per view)."""

    name: str
    description: str
    compute: Callable[[EventView], object]


def _status(view: EventView) -> object:
    entry = (view._u or view._user()).entry
    return entry.status_on(view._v_day or view._day()) if entry is not None else "unknown"


def _vetting_expired(view: EventView) -> object:
    entry = (view._u or view._user()).entry
    expiry = entry.vetting_expiry if entry is not None else None
    return expiry is not None and (view._v_day or view._day()) > expiry


def _surname_norm(view: EventView) -> object:
    found = subject_surname(view)
    return found[0] if found is not None else None


def _rarity(view: EventView) -> object:
    found = subject_surname(view)
    return view._ref.rarity(found[0]) if found is not None else None


def _subject_pid(view: EventView) -> object:
    pid = (view._v_ids or view._load_ids())[0]
    if pid:
        return pid
    row = view._resolved().one
    return row.person_id if row is not None else None


def _subject_identity(view: EventView) -> object:
    key = (view._v_keys or view._keys())[0]
    if key:
        return key
    pid = (view._v_ids or view._load_ids())[0]
    row = view._resolved().one
    if row is not None:
        own = name_facts(row.surname, row.forenames, row.dob)[1][0]
        if own:
            return own
    return pid


def _subject_postcode_value(view: EventView) -> object:
    found = subject_postcodes(view)
    return found[0][0] if found else None


def _watch_category(view: EventView) -> object:
    if not view.hit("subject_on_watchlist"):
        return None
    proof = on_watchlist(view)  # the proof `hit` memoised, again: its inputs are memoised in the view
    return proof[0].target.category if proof is not None else None


def _subject_staff_attr(get: Callable[[StaffEntry], object]) -> Callable[[EventView], object]:
    def compute(view: EventView) -> object:
        found = view._subject_staff()
        return get(found[0].target) if found else None

    return compute


ALL: Final[tuple[Value, ...]] = (
    Value(
        "user.staff_id",
        "the event's user id normalised like HR staff numbers (None if absent)",
        lambda v: v._sid(),
    ),
    Value("user.known", "true when the user is in the HR directory", lambda v: v._staff() is not None),
    Value(
        "user.surname",
        "the user's surname from HR (None if unknown)",
        lambda v: v._user_attr(lambda e: e.person.surname),
    ),
    Value(
        "user.forenames", "the user's forenames from HR", lambda v: v._user_attr(lambda e: e.person.forenames)
    ),
    Value("user.unit", "the user's unit from HR", lambda v: v._user_attr(lambda e: e.unit)),
    Value("user.rank", "the user's rank or grade from HR", lambda v: v._user_attr(lambda e: e.rank)),
    Value(
        "user.roles",
        "the user's roles from HR, a tuple such as ('vetting', 'psd')",
        lambda v: v._user_attr(lambda e: e.roles) or (),
    ),
    Value(
        "user.status",
        "active, suspended, restricted or left, as effective on the event's date; "
        "'unknown' if the user is not in HR",
        _status,
    ),
    Value(
        "user.vetting_level",
        "the user's vetting level from HR (None if none recorded)",
        lambda v: v._user_attr(lambda e: e.vetting_level),
    ),
    Value(
        "user.vetting_expired",
        "true when the user's vetting expired before the event's date",
        _vetting_expired,
    ),
    Value("user.postcode", "the user's home postcode from HR", lambda v: v._user_attr(lambda e: e.postcode)),
    Value(
        "user.person_id",
        "the user's own person id in the record system, if HR links it",
        lambda v: v._user_attr(lambda e: e.person.person_id),
    ),
    Value(
        "subject.person_id",
        "the subject's person id: the event's, else the one person whose name and "
        "DOB the event gives (persons table)",
        _subject_pid,
    ),
    Value(
        "subject.identity",
        "one key per subject for grouping and suppression: folded surname|first "
        "forename|DOB when known (from the event or the persons table), else the person id",
        _subject_identity,
    ),
    Value(
        "subject.resolved_by",
        "how the subject was found in the persons table: person_id, name_dob, "
        "ambiguous (several persons share the name and DOB) or None",
        lambda v: v._resolved().by,
    ),
    Value(
        "subject.postcode",
        "the subject's postcode: the event's, else the persons table's",
        _subject_postcode_value,
    ),
    Value(
        "subject.surname_norm",
        "the subject's surname, case- and accent-folded: the event's, else the "
        "persons table's (None if absent)",
        _surname_norm,
    ),
    Value(
        "subject.surname_rarity",
        "0 (very common) .. 1 (rarest) for the subject's surname (None if absent)",
        _rarity,
    ),
    Value(
        "subject.watchlist_category",
        "the subject's watchlist category (None if not on a watchlist)",
        _watch_category,
    ),
    Value(
        "subject.staff_id",
        "the staff number of the subject, if the subject is a member of staff (or the user)",
        _subject_staff_attr(lambda e: e.staff_id),
    ),
    Value(
        "subject.staff_unit",
        "the unit of the subject, if the subject is a member of staff",
        _subject_staff_attr(lambda e: e.unit),
    ),
)


def by_name(values: Iterable[Value]) -> dict[str, Value]:
    """The values by name, in order; ValueError if two share a name (one would hide the other)."""
    found: dict[str, Value] = {}
    for value in values:
        if value.name in found:
            raise ValueError(f"two reference values are named {value.name!r}")
        found[value.name] = value
    return found


BY_NAME: Final[Mapping[str, Value]] = by_name(ALL)
#: name -> description, in the list's order (what `auditwatch rules names` and RULES.md show)
VALUES: Final[Mapping[str, str]] = {name: value.description for name, value in BY_NAME.items()}
#: name -> how the view computes it
VALUE_FUNCS: Final[Mapping[str, Callable[[EventView], object]]] = {
    name: value.compute for name, value in BY_NAME.items()
}
