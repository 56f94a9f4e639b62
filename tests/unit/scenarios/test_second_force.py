"""The second synthetic force really is shaped unlike the first, in the ways real forces differ."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from auditwatch.normalise import fold_name
from auditwatch.parsing import load_parsers
from auditwatch.testing.scenarios import SCENARIOS, ScenarioSet, generate, load_truth
from auditwatch.testing.scenarios._config2 import PARSERS_DIR

_LOGS = ("logs/records", "logs/checks", "logs/custody", "logs/intel")


@pytest.fixture(scope="module")
def second(tmp_path_factory: pytest.TempPathFactory) -> ScenarioSet:
    return generate(tmp_path_factory.mktemp("force2"), scale="test", force=2)


@pytest.fixture(scope="module")
def truth(second: ScenarioSet) -> list[dict[str, Any]]:
    return load_truth(second.truth)


def _rows(path: Path, *, encoding: str = "utf-8", delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode(encoding)), delimiter=delimiter))


def _line(root: Path, rel: str, offset: int) -> bytes:
    data = gzip.decompress((root / rel).read_bytes()) if rel.endswith(".gz") else (root / rel).read_bytes()
    return data[offset : data.index(b"\n", offset)]


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "auditwatch.yml"
    }


def test_same_seed_gives_identical_files_in_another_process(tmp_path: Path) -> None:
    """`python -m auditwatch.testing.scenarios OUT --force 2` is deterministic (gzip files included)."""
    generate(tmp_path / "a", scale="demo", seed=5, force=2)
    env = {**os.environ, "PYTHONHASHSEED": "999"}
    command = [sys.executable, "-m", "auditwatch.testing.scenarios", str(tmp_path / "b"), "--force", "2"]
    subprocess.run([*command, "--seed", "5"], check=True, env=env, capture_output=True)
    assert (tmp_path / "b" / "auditwatch.yml").is_file()
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    generate(tmp_path / "c", scale="demo", seed=6, force=2)
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_every_scenario_has_incidents_and_lookalikes(truth: list[dict[str, Any]]) -> None:
    """Each DOMAIN.md scenario has >= 10 incidents and >= 1 benign look-alike with evidence lines."""
    incidents = Counter(str(t["scenario"]) for t in truth if t["kind"] == "incident" and t["lines"])
    lookalikes = Counter(str(t["scenario"]) for t in truth if t["kind"] == "lookalike" and t["lines"])
    assert {s for s, n in incidents.items() if n >= 10} == set(SCENARIOS)
    assert set(lookalikes) >= set(SCENARIOS) - {"vetting_lapsed"}  # nothing explains lapsed vetting


def test_own_formats_are_configuration_only(second: ScenarioSet) -> None:
    """The logs use four formats none of the shipped parsers reads; their parser files (copied next
    to the data) load and pass their own examples."""
    parsers = load_parsers(second.root / PARSERS_DIR)
    assert set(parsers) == {"niche_audit", "ncheck_json", "custody_kv", "intel_tsv"}
    assert all(p.check_examples() == [] for p in parsers.values())
    shipped = {p.stem for p in (Path(__file__).parents[3] / "parsers").glob("*.yml")}
    assert not set(parsers) & shipped


def test_rotated_and_gzipped_logs_split_bulk_windows(
    second: ScenarioSet, truth: list[dict[str, Any]]
) -> None:
    """The records log is rotated (live, .1, .2.gz, .3.gz) and custody once; bulk-browsing windows
    span a rotation (their lines sit in two files)."""
    records = sorted(p.name for p in (second.root / "logs/records").iterdir())
    assert records == [
        "nominal-audit.log",
        "nominal-audit.log.1",
        "nominal-audit.log.2.gz",
        "nominal-audit.log.3.gz",
    ]
    assert gzip.decompress((second.root / "logs/records/nominal-audit.log.3.gz").read_bytes())
    assert (second.root / "logs/custody/custody-audit.log.1").is_file()
    spanning = [
        t
        for t in truth
        if t["kind"] == "incident"
        and t["scenario"] == "bulk_browsing"
        and len({f for f, _ in t["lines"]}) > 1
    ]
    assert len(spanning) >= 3
    assert any(f.endswith(".gz") for t in spanning for f, _ in t["lines"])


def test_most_accesses_name_the_person_by_id_only(second: ScenarioSet) -> None:
    """Records-system lines carry a nominal id and no name or date of birth."""
    live = (second.root / "logs/records/nominal-audit.log").read_text(encoding="utf-8").splitlines()
    person = [line for line in live if " NOMINAL NM" in line]
    assert len(person) > 0.5 * len(live)
    assert all(len(line.split()) == 10 for line in person)  # date time offset id wks user op NOMINAL id ref


def test_hr_has_no_person_ids_and_persons_are_folded(second: ScenarioSet) -> None:
    """HR knows no records-system ids; the person table has upper-case ASCII names and unspaced
    postcodes; staff who have a record appear in it under the folded spelling of their HR name."""
    hr = _rows(second.root / "exports/hr/establishment.csv", delimiter="|")
    assert not any(v.startswith("NM") for row in hr for v in row.values())
    persons = _rows(second.root / "exports/rms/nominals.csv", encoding="cp1252")
    assert all(p["SURNAME"] == p["SURNAME"].upper() and p["SURNAME"].isascii() for p in persons)
    assert all(" " not in p["POSTCODE"] for p in persons)
    by_key = {(fold_name(p["SURNAME"]), p["DATE_OF_BIRTH"]) for p in persons}
    staff_in_persons = [
        s
        for s in hr
        if (
            fold_name(s["Family Name"]),
            date(int(s["Birth Date"][:4]), int(s["Birth Date"][4:6]), int(s["Birth Date"][6:]))
            .strftime("%d-%b-%Y")
            .upper(),
        )
        in by_key
    ]
    assert len(staff_in_persons) >= 20
    assert any(not (s["Family Name"] + s["Given Names"]).isascii() for s in hr)  # folding needed


def test_declared_associates_have_namesakes(second: ScenarioSet, truth: list[dict[str, Any]]) -> None:
    """Each namesake look-alike's subject shares a declared associate's name, with another birth date."""
    register = _rows(second.root / "exports/integrity/declarations.csv", encoding="utf-8-sig", delimiter=";")
    declared = {
        (fold_name(r["Assoc Surname"]), fold_name(r["Assoc Forenames"])): r["Assoc Born"] for r in register
    }
    persons = {p["NOMINAL_ID"]: p for p in _rows(second.root / "exports/rms/nominals.csv", encoding="cp1252")}
    namesakes = [t for t in truth if t.get("variant") == "namesake_other_dob" and t["lines"]]
    assert len(namesakes) >= 10
    for t in namesakes:
        p = persons["NM" + str(t["subject"])[1:]]
        born = declared.get((fold_name(p["SURNAME"]), fold_name(p["FORENAMES"])))
        assert born is not None
        assert (
            date(int(born[6:]), int(born[3:5]), int(born[:2])).strftime("%d-%b-%Y").upper()
            != p["DATE_OF_BIRTH"]
        )


def test_watchlist_entries_are_dated_inside_the_period(
    second: ScenarioSet, truth: list[dict[str, Any]]
) -> None:
    """Some watchlist entries are added (or removed) during the period, half carry no nominal id, and
    look-alike accesses fall before the entry was added."""
    doc = json.loads((second.root / "exports/vip/watchlist.json").read_text(encoding="utf-8"))
    entries = doc["entries"]
    first, last = (
        second.start.isoformat(),
        date.fromordinal(second.start.toordinal() + second.days).isoformat(),
    )
    assert sum(1 for e in entries if e["added"] and first < e["added"] < last) >= 3
    assert any(e["removed"] for e in entries)
    assert sum(1 for e in entries if e["nominal"] is None) >= len(entries) // 2
    added = {e["nominal"] or e["name"]: e["added"] for e in entries}
    before = [t for t in truth if t.get("variant") == "before_added_on" and t["lines"]]
    assert before
    assert all(t["end"][:10] < max(a for a in added.values() if a) for t in before)


def test_roster_is_utf16_with_rest_day_rows(second: ScenarioSet) -> None:
    """The roster is Excel's UTF-16 tab-separated text, with rest-day and leave rows without times."""
    rows = _rows(second.root / "exports/roster/roster.txt", encoding="utf-16", delimiter="\t")
    blank = Counter(r["Shift"] for r in rows if not r["On"] and not r["Off"])
    assert blank["RD"] > 0.2 * len(rows)
    assert blank["AL"] > 0


def test_malformed_lines_look_lenient(second: ScenarioSet, truth: list[dict[str, Any]]) -> None:
    """The custody log holds key=value lines that are almost right (a bare word, a control character,
    invalid UTF-8, an open quote): the truth lists each as a line that must be a dead letter."""
    bad = {str(t["reason"]): t for t in truth if t["kind"] == "malformed" and t["format"] == "custody_kv"}
    assert set(bad) == {
        "a bare word without '=' (value with a space, unquoted)",
        "control character in a value",
        "invalid UTF-8",
        "quoted value not closed",
    }
    raw = _line(second.root, bad["invalid UTF-8"]["file"], bad["invalid UTF-8"]["offset"])
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert b"\x07" in _line(
        second.root,
        bad["control character in a value"]["file"],
        bad["control character in a value"]["offset"],
    )
