"""The shipped role and API-key request bodies: generated from one set of descriptors, valid as role
API bodies (checked offline), and least-privilege by construction."""

from __future__ import annotations

import copy
from pathlib import Path

from auditwatch.config.yamlsource import load_yaml_text
from auditwatch.indexing.security import (
    DAEMON,
    RAW_LINE_FIELDS,
    REVIEWER,
    api_key_requests,
    check_descriptor,
    role_descriptors,
    role_name,
    shipped_files,
)
from auditwatch.schema import IndexNames

SECURITY = Path(__file__).resolve().parents[2] / "deploy" / "elasticsearch" / "security"
NAMES = IndexNames()


def test_shipped_files_equal_the_generated_descriptors() -> None:
    """deploy/elasticsearch/security holds exactly what the code generates for the default prefix."""
    generated = shipped_files(NAMES)
    on_disk = {
        str(p.relative_to(SECURITY)): p.read_text(encoding="utf-8")
        for p in SECURITY.rglob("*")
        if p.is_file()
    }
    assert on_disk == generated


def test_file_roles_api_keys_and_role_bodies_are_the_same_descriptors() -> None:
    """roles.yml (what the tests load) and the API-key bodies carry the role API bodies unchanged."""
    roles = role_descriptors(NAMES)
    file_roles = load_yaml_text(shipped_files(NAMES)["roles.yml"], "roles.yml").data
    assert file_roles == roles
    for purpose, body in api_key_requests(NAMES).items():
        assert body["role_descriptors"] == {role_name(NAMES, purpose): roles[role_name(NAMES, purpose)]}


def test_every_descriptor_is_a_valid_role_body() -> None:
    """No unknown keys or privileges, names and privileges present, field security well formed."""
    for name, descriptor in role_descriptors(NAMES).items():
        assert check_descriptor(name, descriptor) == []


def test_the_offline_check_catches_broken_descriptors() -> None:
    """A misspelt privilege, an unknown key and a field_security without grant are each reported."""
    good = role_descriptors(NAMES)[role_name(NAMES, REVIEWER)]
    typo = copy.deepcopy(good)
    typo["indices"][0]["privileges"] = ["reed"]
    assert check_descriptor("r", typo) == ["r: indices[0]: unknown index privilege 'reed'"]
    extra = {**copy.deepcopy(good), "cluster_privileges": ["all"]}
    assert check_descriptor("r", extra) == ["r: unknown key 'cluster_privileges'"]
    fls = copy.deepcopy(good)
    fls["indices"][1]["field_security"] = {"except": ["event.original"]}
    assert "field_security needs 'grant'" in check_descriptor("r", fls)[0]


def test_daemon_has_no_update_delete_or_event_reads_and_reviewer_no_raw_lines() -> None:
    """The daemon creates documents and reads only alerts and heartbeats (digest, status) - never
    events or dead letters, never updates or deletes; the reviewer reads events without raw lines."""
    roles = role_descriptors(NAMES)
    daemon = roles[role_name(NAMES, DAEMON)]
    privileges = {p for entry in daemon["indices"] for p in entry["privileges"]}
    assert privileges == {"create_doc", "create_index", "read", "view_index_metadata"}
    readable = {n for entry in daemon["indices"] if "read" in entry["privileges"] for n in entry["names"]}
    assert readable == {NAMES.alerts, NAMES.health}
    assert daemon["cluster"] == ["monitor"]
    reviewer = roles[role_name(NAMES, REVIEWER)]
    (events,) = [e for e in reviewer["indices"] if e["names"] == [NAMES.events_pattern]]
    assert events["privileges"] == ["read"]
    assert set(events["field_security"]["except"]) == set(RAW_LINE_FIELDS)
    assert all(NAMES.dead_letter not in e["names"] for e in reviewer["indices"])
