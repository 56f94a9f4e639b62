"""The synthetic force generator: deterministic, complete, and readable by the shipped parsers and loaders."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from auditwatch.config.daemon import load_config
from auditwatch.model import AccessEvent, DeadLetter, RawLine
from auditwatch.parsing import load_parsers
from auditwatch.reference import load_reference
from auditwatch.testing.scenarios import LOG_FILES, SCENARIOS, ScenarioSet, generate, load_truth, write_config
from auditwatch.testing.scenarios._config import REPO_ROOT

_Parsed = dict[str, tuple[list[AccessEvent], list[DeadLetter]]]
INGESTED = "2026-11-02T12:00:00.000Z"  # just after the default period: syslog dates without a year resolve


@pytest.fixture(scope="module")
def test_set(tmp_path_factory: pytest.TempPathFactory) -> ScenarioSet:
    return generate(tmp_path_factory.mktemp("force"), scale="test")


@pytest.fixture(scope="module")
def truth(test_set: ScenarioSet) -> list[dict[str, Any]]:
    return load_truth(test_set.truth)


@pytest.fixture(scope="module")
def parsed(test_set: ScenarioSet) -> _Parsed:
    parsers = load_parsers(REPO_ROOT / "parsers")
    out: _Parsed = {}
    for fmt, rel in LOG_FILES.items():
        raws = _raw_lines(test_set.root, fmt, rel)
        events, dead = parsers[fmt].parse_batch(raws, INGESTED)
        out[fmt] = (list(events), list(dead))
    return out


def _raw_lines(root: Path, fmt: str, rel: str) -> list[RawLine]:
    data = (root / rel).read_bytes()
    raws, offset = [], 0
    for line in data.split(b"\n")[:-1]:
        raws.append(RawLine(fmt, str(root / rel), rel, offset, offset + len(line) + 1, line, len(line)))
        offset += len(line) + 1
    return raws


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    """The same seed gives byte-identical files, even in another process with other string hashing."""
    generate(tmp_path / "a", scale="demo", seed=11)
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    command = [sys.executable, "-m", "auditwatch.testing.scenarios", str(tmp_path / "b"), "--seed", "11"]
    subprocess.run(command, check=True, env=env, capture_output=True)
    generate(tmp_path / "c", scale="demo", seed=12)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a")[LOG_FILES["rms_json"]] != _digest(tmp_path / "c")[LOG_FILES["rms_json"]]


def test_every_scenario_is_injected_at_least_ten_times(truth: list[dict[str, Any]]) -> None:
    """Each DOMAIN.md scenario has >= 10 incidents with evidence lines and at least one benign look-alike."""
    incidents = Counter(str(t["scenario"]) for t in truth if t["kind"] == "incident" and t["lines"])
    lookalikes = Counter(str(t["scenario"]) for t in truth if t["kind"] == "lookalike" and t["lines"])
    for scenario in SCENARIOS:
        assert incidents[scenario] >= 10, scenario
        if scenario != "vetting_lapsed":  # DOMAIN.md lists no look-alike for lapsed vetting
            assert lookalikes[scenario] >= 1, scenario
    assert set(incidents) == set(SCENARIOS)


def test_incidents_spread_over_formats_and_users(truth: list[dict[str, Any]]) -> None:
    """Incidents come through all four source formats and from many different users."""
    incidents = [t for t in truth if t["kind"] == "incident"]
    formats = {f for t in incidents for f in t["formats"]}
    users = {u for t in incidents for u in t["users"]}
    assert formats == set(LOG_FILES)
    assert len(users) >= 60


def test_every_line_parses_except_the_labelled_malformed_ones(
    test_set: ScenarioSet,
    truth: list[dict[str, Any]],
    parsed: _Parsed,
) -> None:
    """Each access line becomes an event; dead letters are exactly the malformed lines truth lists."""
    malformed = {(t["file"], t["offset"]) for t in truth if t["kind"] == "malformed"}
    dead_positions = {(d.raw.file_key, d.raw.offset) for _, dead in parsed.values() for d in dead}
    assert dead_positions == malformed
    assert len(malformed) >= 5
    for fmt, (events, _dead) in parsed.items():
        assert len(events) == test_set.events_by_format[fmt], fmt


def test_evidence_lines_hold_the_incident_user_at_the_incident_time(
    truth: list[dict[str, Any]], parsed: _Parsed
) -> None:
    """Each truth entry's evidence lines parse to one of its users, inside its time window."""
    by_position = {(e.raw.file_key, e.raw.offset): e for events, _ in parsed.values() for e in events}
    checked = 0
    for entry in truth:
        if entry["kind"] not in ("incident", "lookalike"):
            continue
        start = datetime.fromisoformat(str(entry["start"])).timestamp()
        end = datetime.fromisoformat(str(entry["end"])).timestamp()
        for rel, offset in entry["lines"]:
            event = by_position[(rel, offset)]
            assert event.fields["user.id"] in entry["users"], entry["id"]
            assert start - 1 <= event.timestamp <= end + 1, entry["id"]
            checked += 1
    assert checked > 1000


def test_config_and_awkward_exports_load_without_warnings(test_set: ScenarioSet) -> None:
    """The written config validates and every export loads through the reference loader with no problem."""
    config = load_config(write_config(test_set.root, "http://127.0.0.1:9200", "state"))
    assert {i.parser for i in config.inputs} == set(LOG_FILES)
    snapshot, warnings = load_reference(config.reference)
    assert list(warnings) == []
    hr = test_set.exports["staff"].read_bytes()
    assert hr.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in hr
    assert b";" in test_set.exports["roster"].read_bytes().splitlines()[1]
    assert snapshot is not None


def test_background_is_mostly_explained_by_assignments(test_set: ScenarioSet) -> None:
    """Over 90% of benign accesses are explained by case assignments, the rest by the user's duties."""
    summary = test_set.summary
    benign = int(summary["benign_events"])
    by_assignment = int(summary["benign_explained_by_assignment"])
    by_role = int(summary["benign_explained_by_role"])
    assert by_assignment / benign > 0.9
    assert by_assignment + by_role == benign
    assert 20_000 <= test_set.events <= 60_000


def test_truth_summary_is_the_last_line(test_set: ScenarioSet) -> None:
    """The truth file ends with a summary that counts what the earlier lines list."""
    lines = test_set.truth.read_text(encoding="utf-8").splitlines()
    summary = json.loads(lines[-1])
    assert summary["kind"] == "summary"
    incidents = sum(1 for line in lines if json.loads(line)["kind"] == "incident")
    assert sum(summary["incidents_by_scenario"].values()) == incidents == test_set.incidents


def test_demo_preset_stays_small(tmp_path: Path) -> None:
    """The demo preset is a few thousand events and well under 2 MB on disk."""
    demo = generate(tmp_path, scale="demo")
    size = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    assert 1_500 <= demo.events <= 6_000
    assert size < 2 * 1024 * 1024
