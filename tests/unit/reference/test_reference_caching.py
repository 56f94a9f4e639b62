"""The view's fast paths: `hit` without evidence, compiled matchers, and the per-snapshot user cache."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from auditwatch.detection import reference_from_rows
from auditwatch.reference import MATCHES, VALUES, EventView, ReferenceSnapshot, matcher, value_getter
from auditwatch.reference import view as view_module

View = Callable[..., EventView]
JANE = "mp012345"
SEAN = "12346"
JOSE = "MP 012347"
CASES: list[dict[str, Any]] = [
    {"user": JANE, "pid": "P-1002"},
    {"user": JANE, "pid": "P-1001", "surname": "Smith", "postcode": "SW1A 1AA", "address": "10 High Street"},
    {"user": JANE, "case_ref": "CR/2026/001", "record": "CR/2026/001"},
    {"user": SEAN, "surname": "O'BRIEN", "forenames": "Sean Patrick", "dob": "1975-03-04"},
    {"user": JOSE, "pid": "P-2001", "at": "2026-11-21T09:00:00"},
    {"user": "ZZ999", "pid": "P-1002"},
    {"pid": "P-2001"},
    {},
]


def _make(view: View, case: dict[str, Any]) -> EventView:
    fields = dict(case)
    at = fields.pop("at", "2026-11-25T12:00:00")
    return view(at, **fields)


@pytest.mark.parametrize("case", CASES)
def test_hit_and_compiled_matchers_agree_with_match(view: View, case: dict[str, Any]) -> None:
    """For every match, `hit` and the compiled matcher say exactly what `match` says."""
    for name in MATCHES:
        expected = _make(view, case).match(name) is not None
        assert _make(view, case).hit(name) is expected, name
        assert matcher(name)(_make(view, case)) is expected, name


@pytest.mark.parametrize("case", CASES)
def test_value_getters_agree_with_value(view: View, case: dict[str, Any]) -> None:
    """A compiled value getter returns what `value` returns on a fresh view."""
    for name in VALUES:
        assert value_getter(name)(_make(view, case)) == _make(view, case).value(name), name


def test_evidence_after_hit_is_the_same_as_without(view: View) -> None:
    """Asking `hit` first changes nothing about the evidence `match` builds afterwards."""
    for name in ("subject_is_staff", "subject_on_watchlist", "assigned_to_linked_case"):
        fields = {"user": JANE, "pid": "P-1002" if name == "subject_is_staff" else "P-2001"}
        if name == "assigned_to_linked_case":
            fields = {"user": JANE, "record": "CR/2026/001"}
        first = _make(view, fields)
        assert first.hit(name)
        evidence = first.match(name)
        assert evidence is not None
        assert evidence == _make(view, fields).match(name)
        assert first.match(name) is evidence


def _staff(status: str) -> ReferenceSnapshot:
    return reference_from_rows({"staff": [{"staff_id": "MP000001", "surname": "Reid", "status": status}]})


def test_user_cache_belongs_to_its_snapshot() -> None:
    """A reloaded snapshot answers from its own data, never from another snapshot's cached user."""
    active, suspended = _staff("active"), _staff("suspended")
    for snap, status in ((active, "active"), (suspended, "suspended"), (active, "active")):
        assert EventView(snap, {"user.id": "MP000001"}, 1_795_608_000.0).value("user.status") == status


def test_user_cache_is_bounded_and_stays_correct(monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-user cache is cleared when full, and answers stay right across clearing."""
    monkeypatch.setattr(view_module, "USER_CACHE_LIMIT", 2)
    rows = [{"staff_id": f"MP00000{i}", "surname": f"Name{i}", "unit": f"Unit {i}"} for i in range(1, 6)]
    snap = reference_from_rows({"staff": rows})
    for _ in range(2):
        for i in range(1, 6):
            view = EventView(snap, {"user.id": f"MP00000{i}"}, 0.0)
            assert view.value("user.unit") == f"Unit {i}"
            assert len(snap._users) <= 2
    assert EventView(snap, {"user.id": "MP000009"}, 0.0).value("user.known") is False
