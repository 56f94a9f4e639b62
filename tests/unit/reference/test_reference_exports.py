"""Reading awkward exports: encodings, delimiters, header spellings, dates, ids, and broken files."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditwatch.errors import ConfigError
from auditwatch.reference import ReferenceConfig, load_reference
from auditwatch.reference.snapshot import ReferenceSnapshot

Load = Callable[[str, Path], ReferenceConfig]


def _one(load_config: Load, text: str, directory: Path) -> ReferenceSnapshot:
    snap, _ = load_reference(load_config(text, directory))
    return snap


def test_bom_crlf_semicolon_and_header_spellings_are_read(snapshot: ReferenceSnapshot) -> None:
    """The UTF-8-BOM, CRLF, semicolon HR export with odd header case and spacing loads every good row."""
    (staff,) = snapshot.staff
    assert sorted(staff.by_id) == ["MP012345", "MP012346", "MP012347", "MP012348", "MP012349", "MP012350"]
    jane = staff.by_id["MP012345"]
    assert (jane.person.surname, jane.person.forenames, jane.postcode) == ("Smith", "Jane", "SW1A 1AA")
    assert jane.address == "10 High Street, London"
    assert jane.line == 2


def test_staff_id_spellings_become_one(snapshot: ReferenceSnapshot) -> None:
    """`mp012345`, `12346` and `MP 012347` are all normalised to the MPnnnnnn spelling."""
    (staff,) = snapshot.staff
    assert {"MP012345", "MP012346", "MP012347"} <= set(staff.by_id)


def test_dates_in_both_formats_become_iso(snapshot: ReferenceSnapshot) -> None:
    """dd/mm/yyyy and ISO dates in the same column both become ISO dates."""
    (staff,) = snapshot.staff
    assert staff.by_id["MP012345"].person.dob == "1980-02-01"
    assert staff.by_id["MP012346"].person.dob == "1975-03-04"
    assert staff.by_id["MP012346"].vetting_expiry == "2025-12-31"


def test_accents_and_apostrophes_are_kept_for_display_and_folded_for_matching(
    snapshot: ReferenceSnapshot,
) -> None:
    """Names keep their spelling; keys are accent- and apostrophe-folded."""
    (staff,) = snapshot.staff
    jose = staff.by_id["MP012347"].person
    assert (jose.surname, jose.forenames) == ("Núñez", "José Luis")
    assert jose.name_dob_key == "nunez|jose|1990-07-15"
    assert staff.by_id["MP012346"].person.surname_fold == "obrien"


def test_list_and_token_columns(snapshot: ReferenceSnapshot) -> None:
    """Roles split on | and become code words; status synonyms become the canonical status."""
    (staff,) = snapshot.staff
    assert staff.by_id["MP012347"].roles == ("vetting", "psd")
    assert staff.by_id["MP012348"].roles == ("press_office",)
    assert staff.by_id["MP012349"].history == (("2026-10-01", "left"),)


def test_latin1_watchlist_declared_as_latin1(snapshot: ReferenceSnapshot) -> None:
    """A Latin-1 file declared `encoding: latin-1` reads its accented names correctly."""
    (watch,) = snapshot.watchlists
    (renee,) = watch.by_person["P-2001"]
    assert (renee.person.surname, renee.person.forenames, renee.category) == ("MÜLLER", "Renée", "celebrity")
    assert "dupont gerard" in watch.by_name


def test_bad_rows_are_reported_with_line_and_column(cfg: ReferenceConfig) -> None:
    """A row without a staff id is skipped and a bad DOB is dropped, each named by file:line [column]."""
    _, warnings = load_reference(cfg)
    texts = [str(w) for w in warnings]
    assert any(t.endswith("hr.csv:9: AW104 [staff_id] no staff_id; row skipped") for t in texts)
    assert any("hr.csv:8: AW104 [dob] '31/02/1980' is not a date" in t and "row kept" in t for t in texts)
    assert any("7 rows loaded, 1 bad rows skipped, 2 values ignored" in t for t in texts)


def test_undeclared_latin1_is_rejected_naming_the_line(
    exports: Path, load_config: Load, config_text: str
) -> None:
    """Reading a Latin-1 file as UTF-8 rejects the export and names the first bad line."""
    text = config_text.replace("      encoding: latin-1\n", "")
    with pytest.raises(ConfigError) as err:
        _one(load_config, text, exports)
    (problem,) = err.value.problems
    assert problem.file.endswith("watchlist_latin1.csv")
    assert problem.line == 2
    assert "not valid utf-8-sig" in problem.message


def test_missing_mapped_column_rejects_the_export(exports: Path, load_config: Load, config_text: str) -> None:
    """A mapped column the header lacks rejects the export, naming the header line and column."""
    text = config_text.replace("staff_id: officer", "staff_id: Officer Number")
    with pytest.raises(ConfigError) as err:
        _one(load_config, text, exports)
    (problem,) = err.value.problems
    assert (Path(problem.file).name, problem.line, problem.field) == ("assignments.csv", 1, "staff_id")
    assert "'Officer Number' (mapped to staff_id) not found" in problem.message


def test_unreadable_file_rejects_the_export(exports: Path, load_config: Load, config_text: str) -> None:
    """A missing export file is reported as unreadable."""
    (exports / "roster.csv").unlink()
    with pytest.raises(ConfigError) as err:
        _one(load_config, config_text, exports)
    assert err.value.problems[0].file.endswith("roster.csv")
    assert "cannot read" in err.value.problems[0].message


def test_too_many_bad_rows_rejects_the_export(exports: Path, load_config: Load, config_text: str) -> None:
    """More bad rows than max_bad_rows_percent rejects the export and lists the bad rows."""
    text = config_text.replace("max_bad_rows_percent: 20", "max_bad_rows_percent: 10")
    with pytest.raises(ConfigError) as err:
        _one(load_config, text, exports)
    messages = [str(p) for p in err.value.problems]
    assert "export rejected: 1 of 8 rows are bad (more than 10%)" in messages[0]
    assert any("hr.csv:9: AW104 [staff_id]" in m for m in messages)


def test_wrong_cell_count_row_is_skipped(tmp_path: Path, load_config: Load) -> None:
    """A row with an extra unquoted delimiter is reported instead of shifting values into wrong columns."""
    (tmp_path / "links.csv").write_text("case_ref,person_id,role\nC1,P1,victim\nC2,P2,wit,ness\nC3,P3,\n")
    text = "reference:\n  max_bad_rows_percent: 50\n  sources:\n    - {kind: case_links, path: links.csv}\n"
    snap, warnings = load_reference(load_config(text, tmp_path))
    assert sorted(snap.case_links[0].by_person) == ["P1", "P3"]
    assert "links.csv:3: AW104 has 4 cells where the header has 3" in str(warnings[0])


def test_header_only_export_is_rejected(tmp_path: Path, load_config: Load) -> None:
    """An export with a header and no rows is treated as a broken extraction (min_rows defaults to 1)."""
    (tmp_path / "hr.csv").write_text("staff_id,surname\n")
    text = "reference:\n  sources:\n    - {kind: staff, path: hr.csv}\n"
    with pytest.raises(ConfigError, match="only 0 usable rows"):
        _one(load_config, text, tmp_path)
    _one(load_config, text.replace("path: hr.csv", "path: hr.csv, min_rows: 0"), tmp_path)


def test_json_array_export_names_items(tmp_path: Path, load_config: Load) -> None:
    """A JSON array export loads; a bad item is named by its position and column."""
    (tmp_path / "watch.json").write_text(
        '{"entries": [{"Surname": "Brown", "Forenames": "Ann", "DOB": "1970-01-01",'
        ' "Category": "Politician"},'
        ' {"Surname": "Grey", "Forenames": "Bob", "DOB": "soon"}, "oops"]}'
    )
    text = "reference:\n  max_bad_rows_percent: 90\n  sources:\n    - {kind: watchlist, path: watch.json}\n"
    snap, warnings = load_reference(load_config(text, tmp_path))
    assert set(snap.watchlists[0].by_name_dob) == {"brown|ann|1970-01-01"}
    texts = [str(w) for w in warnings]
    assert any("[[2].dob] 'soon' is not a date" in t for t in texts)
    assert any("[[3].] is not a JSON object" in t for t in texts)


def test_roster_with_full_timestamps(tmp_path: Path, load_config: Load) -> None:
    """Roster shifts given as full local (Europe/London) timestamps are converted to UTC epochs."""
    (tmp_path / "roster.csv").write_text(
        "staff_id,start,end\n1,24/11/2026 22:00,25/11/2026 06:00\n1,01/07/2026 22:00,02/07/2026 06:00\n"
    )
    snap = _one(load_config, "reference:\n  sources:\n    - {kind: roster, path: roster.csv}\n", tmp_path)
    shifts = snap.rosters[0].by_staff["1"]
    utc = [
        datetime(*t, tzinfo=UTC).timestamp()
        for t in ((2026, 7, 1, 21), (2026, 7, 2, 5), (2026, 11, 24, 22), (2026, 11, 25, 6))
    ]
    assert list(shifts.starts) == [utc[0], utc[2]]
    assert list(shifts.ends) == [utc[1], utc[3]]


def test_config_errors_name_the_yaml_line(tmp_path: Path, load_config: Load) -> None:
    """Unknown kinds, unknown columns and bad normalisers are config problems with their YAML line."""
    text = (
        "reference:\n  sources:\n    - kind: staf\n      path: x.csv\n"
        "    - kind: staff\n      path: y.csv\n      columns: {staff_number: X}\n"
        "      normalise: {surname: shout}\n      colour: red\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(text, tmp_path)
    found = {(p.line, p.field) for p in err.value.problems}
    assert (3, "reference.sources[0].kind") in found
    assert (7, "reference.sources[1].columns.staff_number") in found
    assert (8, "reference.sources[1].normalise.surname") in found
    assert (9, "reference.sources[1].colour") in found


def test_config_defaults_and_relative_paths(tmp_path: Path, load_config: Load) -> None:
    """Paths resolve against the config file's directory; formats come from the suffix; defaults apply."""
    cfg = load_config(
        "reference:\n  roster_grace_minutes: 10\n  sources:\n"
        "    - {kind: associates, path: sub/decl.jsonl}\n    - {kind: staff, path: hr.txt, delimiter: tab}\n",
        tmp_path,
    )
    first, second = cfg.sources
    assert first.path == str(tmp_path / "sub" / "decl.jsonl")
    assert (first.format, first.encoding) == ("jsonl", "utf-8-sig")
    assert (second.format, second.delimiter) == ("csv", "\t")
    assert (cfg.timezone, cfg.roster_grace_seconds, cfg.max_bad_rows_percent) == ("Europe/London", 600.0, 5.0)
    assert cfg.identifiers["staff_id"] == "staff_id"


def test_jsonl_line_that_is_not_json_rejects_the_export(tmp_path: Path, load_config: Load) -> None:
    """A JSON-lines export with a broken line is rejected, naming that line."""
    (tmp_path / "decl.jsonl").write_text(
        '{"staff_id": "1", "surname": "A", "forenames": "B"}\n{"staff_id": \n'
    )
    with pytest.raises(ConfigError) as err:
        _one(load_config, "reference:\n  sources:\n    - {kind: associates, path: decl.jsonl}\n", tmp_path)
    assert (err.value.problems[0].line, "not JSON" in err.value.problems[0].message) == (2, True)
