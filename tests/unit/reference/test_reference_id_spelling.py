"""Ids keep their spelling unless a normaliser says otherwise: only staff-number-shaped ids are rewritten."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditwatch.model import AccessEvent, RawLine
from auditwatch.normalise import build_normaliser
from auditwatch.parsing import load_parser
from auditwatch.reference import EventView, ReferenceConfig, load_reference

Load = Callable[[str, Path], ReferenceConfig]
REPO = Path(__file__).resolve().parents[3]
MP6 = {"staff_id": {"prefix": "MP", "digits": 6}}


@pytest.mark.parametrize("spec", ["staff_id", MP6])
def test_service_accounts_and_names_keep_their_spelling(spec: object) -> None:
    """`svc_custody_sync`, `Batch-Loader` and `admin` are not staff numbers: kept exactly as written."""
    normalise = build_normaliser(spec)  # type: ignore[arg-type]
    for value in ("svc_custody_sync", "Batch-Loader", "admin", "svc_backup01"):
        assert normalise(value) == value
        assert normalise(f"  {value} ") == value


def test_staff_numbers_still_become_one_spelling() -> None:
    """Staff-number-shaped ids are still normalised: `mp 12345`, `MP-012345`, `12345` -> `MP012345`."""
    normalise = build_normaliser(MP6)
    assert {normalise(v) for v in ("mp 12345", "MP-012345", "12345", "mp.012345")} == {"MP012345"}
    assert normalise("cs 00123") == "CS00123"  # another short prefix: compacted, not padded


def test_parsed_user_id_keeps_a_service_accounts_spelling() -> None:
    """The shipped rms_json parser (staff_id normaliser on user.id) keeps `svc_custody_sync` as written."""
    parser = load_parser(REPO / "parsers" / "rms_json.yml")
    line = b'{"audit_id":"A-1","ts":"2026-11-25T09:45:12Z","action":"VIEW",'
    line += b'"user":{"staff_no":"svc_custody_sync"}}'
    result = parser.parse(
        RawLine("rms", "x", "k", 0, len(line) + 1, line, len(line)), "2026-11-25T12:00:00.000Z"
    )
    assert isinstance(result, AccessEvent)
    assert result.fields["user.id"] == "svc_custody_sync"
    assert result.fields["related.user"] == ["svc_custody_sync"]


def test_identifiers_config_matches_a_service_account_in_hr_as_written(
    tmp_path: Path, load_config: Load
) -> None:
    """With `identifiers: {staff_id: {staff_id: {prefix: MP, digits: 6}}}`, an HR row for a service
    account is found by the event's id as written, and staff numbers still meet across spellings."""
    (tmp_path / "hr.csv").write_text(
        "staff_id,surname,unit\nsvc_custody_sync,Custody Sync,Systems\nmp 12345,Smith,CID\n", encoding="utf-8"
    )
    text = (
        "reference:\n  identifiers:\n    staff_id: {staff_id: {prefix: MP, digits: 6}}\n"
        "  sources:\n    - {kind: staff, path: hr.csv}\n"
    )
    snap, warnings = load_reference(load_config(text, tmp_path))
    assert warnings == []
    assert sorted(snap.staff[0].by_id) == ["MP012345", "svc_custody_sync"]
    at = datetime(2026, 11, 25, 12, tzinfo=UTC).timestamp()
    service = EventView(snap, {"user.id": "svc_custody_sync"}, at)
    assert (service.value("user.known"), service.value("user.staff_id"), service.value("user.unit")) == (
        True,
        "svc_custody_sync",
        "Systems",
    )
    assert EventView(snap, {"user.id": "MP-012345"}, at).value("user.unit") == "CID"
    assert (
        EventView(snap, {"user.id": "SVC_CUSTODY_SYNC"}, at).value("user.known") is False
    )  # spelling counts
