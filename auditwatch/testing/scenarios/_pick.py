"""Small random choices shared by the background and the incidents: times, terminals, formats."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from auditwatch.testing.scenarios._force import LONDON
from auditwatch.testing.scenarios._model import Access, Person, Shift, Staff


def time_in(rng: random.Random, shift: Shift, margin_minutes: int = 15) -> datetime:
    """A random second inside the shift, `margin_minutes` away from either end."""
    span = (shift.end - shift.start).total_seconds() - 2 * margin_minutes * 60
    return shift.start + timedelta(seconds=margin_minutes * 60 + rng.randrange(int(max(span, 60))))


def ambiguous_local(when: datetime) -> bool:
    """True in the repeated hour when the clocks go back: local wall time alone cannot say which."""
    local = when.astimezone(LONDON).replace(tzinfo=None)
    return (
        local.replace(tzinfo=LONDON, fold=0).utcoffset() != local.replace(tzinfo=LONDON, fold=1).utcoffset()
    )


def terminal(staff: Staff) -> str:
    return f"WS{staff.number % 9000 + 1000:04d}"


def _safe(fmt: str, when: datetime) -> str:
    """Formats that log local time without an offset cannot express the repeated autumn hour."""
    if fmt in ("pnc_mainframe", "intel_csv") and ambiguous_local(when):
        return "rms_json"
    return fmt


def person_format(rng: random.Random, staff: Staff, when: datetime) -> str:
    """Which system a person enquiry by this member of staff goes through."""
    if staff.kind == "custody":
        return "custody_syslog" if rng.random() < 0.8 else "rms_json"
    if staff.kind == "intelligence":
        return "intel_csv"
    if rng.random() < 0.45 and not ambiguous_local(when):
        return "pnc_mainframe"
    return "rms_json"


def view(
    rng: random.Random,
    staff: Staff,
    when: datetime,
    person: Person,
    case_ref: str | None,
    *,
    fmt: str | None = None,
    label: str | None = None,
    explained_by: str = "",
    action: str = "view",
) -> Access:
    """A person-record view (or update) in the system this member of staff normally uses."""
    chosen = _safe(fmt or person_format(rng, staff, when), when)
    record_type, record_id = "person", person.person_id
    if chosen == "custody_syslog" and case_ref and case_ref.startswith("CU/"):
        record_type, record_id = "custody", case_ref
    elif chosen == "intel_csv":
        record_type = "intel"
    return Access(
        when.astimezone(UTC),
        staff,
        action,
        record_type,
        record_id,
        person,
        case_ref,
        chosen,
        terminal(staff),
        label=label,
        explained_by=explained_by,
    )


def search(
    rng: random.Random,
    staff: Staff,
    when: datetime,
    terms: str,
    *,
    wildcard: bool,
    case_ref: str | None,
    fmt: str | None = None,
    label: str | None = None,
    explained_by: str = "",
    subject: Person | None = None,
) -> Access:
    """A name search (exact or wildcard); `subject` is the person an exact search was for."""
    chosen = _safe(fmt or person_format(rng, staff, when), when)
    return Access(
        when.astimezone(UTC),
        staff,
        "search",
        "search",
        "",
        subject,
        case_ref,
        chosen,
        terminal(staff),
        search_terms=terms,
        wildcard=wildcard,
        result_count=rng.randrange(0, 40) if wildcard else 1,
        label=label,
        explained_by=explained_by,
    )
