"""Shared fixtures for the reference-data tests: the awkward sample exports and a config for them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditwatch.config.spec import Reader
from auditwatch.config.yamlsource import load_yaml_text
from auditwatch.reference import EventView, ReferenceConfig, ReferenceSnapshot, load_reference
from auditwatch.reference.config import read_reference_config

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "reference"

CONFIG = """\
reference:
  timezone: Europe/London
  roster_grace_minutes: 30
  max_bad_rows_percent: 20
  identifiers:
    staff_id: {staff_id: {prefix: MP, digits: 6}}
  sources:
    - kind: staff
      path: hr.csv
      delimiter: ";"
      columns:
        staff_id: Staff Number
        surname: last name
        forenames: FIRST NAMES
        dob: date_of_birth
        postcode: Home Postcode
        address: home address
        status: Employment Status
        person_id: person id
    - kind: watchlist
      path: watchlist_latin1.csv
      encoding: latin-1
      columns: {name: Full Name, dob: DOB, person_id: PNC ID}
    - kind: associates
      path: associates.jsonl
      columns: {staff_id: declarer, person_id: person_ref, declared_on: declared}
    - kind: assignments
      path: assignments.csv
      columns: {staff_id: officer, case_ref: case, from: start date, to: end date}
    - kind: case_links
      path: case_links.csv
    - kind: roster
      path: roster.csv
      columns: {staff_id: Staff, date: Shift Date}
"""


def read_config(text: str, directory: Path) -> ReferenceConfig:
    """Read a `reference:` section as the daemon would, failing the test on any config problem."""
    doc = load_yaml_text(text, str(directory / "auditwatch.yml"))
    root = Reader(doc)
    cfg = read_reference_config(root.section("reference"))
    root.done()
    root.raise_if_any()
    return cfg


def utc(text: str) -> float:
    """Epoch seconds of an ISO UTC time."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    """A private copy of the sample exports (tests may change them)."""
    for item in FIXTURES.iterdir():
        shutil.copy(item, tmp_path / item.name)
    return tmp_path


@pytest.fixture
def cfg(exports: Path) -> ReferenceConfig:
    return read_config(CONFIG, exports)


@pytest.fixture
def snapshot(cfg: ReferenceConfig) -> ReferenceSnapshot:
    snap, _warnings = load_reference(cfg)
    return snap


@pytest.fixture
def view(snapshot: ReferenceSnapshot) -> Callable[..., EventView]:
    """view(at="2026-11-25T12:00:00", **fields) with `user`, `pid`, `surname`, ... shortcuts."""
    names = {
        "user": "user.id",
        "pid": "auditwatch.subject.person_id",
        "surname": "auditwatch.subject.surname",
        "forenames": "auditwatch.subject.forenames",
        "dob": "auditwatch.subject.dob",
        "postcode": "auditwatch.subject.postcode",
        "address": "auditwatch.subject.address",
        "record": "auditwatch.record.id",
        "case_ref": "auditwatch.reason.case_ref",
        "name_norm": "auditwatch.subject.name_norm",
    }

    def make(at: str = "2026-11-25T12:00:00", **fields: object) -> EventView:
        return EventView(snapshot, {names[k]: v for k, v in fields.items()}, utc(at))

    return make


@pytest.fixture
def config_text() -> str:
    """The YAML of the sample exports' config (tests edit it)."""
    return CONFIG


@pytest.fixture
def load_config() -> Callable[[str, Path], ReferenceConfig]:
    """read_config as a fixture (test modules cannot import conftest under importlib mode)."""
    return read_config
