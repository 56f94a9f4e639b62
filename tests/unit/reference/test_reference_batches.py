"""The largest exports (persons, case links, roster, assignments) are converted and built a batch of rows
at a time (converters.convert_batches): whatever the batch size, the tables and the problems (which
rows, which lines, in which order) are those of a row-at-a-time load (one row per batch)."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

import auditwatch.reference.converters as converters_module
from auditwatch.reference import ReferenceConfig, load_sources
from auditwatch.reference.config import SourceConfig
from auditwatch.reference.readers import CHUNK_BYTES, CHUNK_STEP, CsvRows, open_rows
from auditwatch.reference.tables import person_keys


def _write_persons(path: Path) -> None:
    rng = random.Random(11)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["Person ID", "surname", "forenames", "dob", "postcode", "address", "name", "aliases"]
        )
        for i in range(400):
            if i % 37 == 0:
                handle.write("\n")  # a blank line: skipped, not a problem
            if i % 53 == 0:
                handle.write("a,b\n")  # the wrong cell count
            writer.writerow(
                [
                    rng.choice([f"P{rng.randrange(300):04d}", f" P{rng.randrange(300):04d} ", "", "  "]),
                    rng.choice(["SMITH", "O'Brien", "o brien", "Müller", "", "Smith-Jones"]),
                    rng.choice(["JANE", "jane mary", "", "Seán"]),
                    rng.choice(["01/02/1980", "31/12/1999", "not a date", ""]),
                    rng.choice(["ab12cd", "SW1A 1AA", "", "nope"]),
                    rng.choice(["1 High  St", "", "Flat 2,\n Mill Road", "x"]),  # a cell over two lines
                    rng.choice(["", "Jane SMITH", "SMITH, Jane"]),
                    rng.choice(["", "", "Jane JONES", "J SMITH|Janet Smith"]),
                ]
            )


def _write_links(path: Path) -> None:
    rng = random.Random(12)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case_ref", "person_id", "record_id", "role"])
        for i in range(600):
            if i % 71 == 0:
                handle.write("x\n")
            writer.writerow(
                [
                    rng.choice(["cr/1", "CR/2", " cr/3 ", "", "CR/4\nA"]),
                    rng.choice(["", f"P{rng.randrange(40)}", " P1 "]),
                    rng.choice(["", f"R{rng.randrange(20)}"]),
                    rng.choice(["", "Victim", "Suspect Person"]),
                ]
            )


Problems = list[tuple[int | None, str, str]]


def _write_roster(path: Path) -> None:
    rng = random.Random(13)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["staff_id", "date", "start", "end"])
        for i in range(500):
            if i % 61 == 0:
                handle.write("MP1,2026-01-01\n")
            start, end = rng.choice(
                [("07:00", "15:00"), ("22:00", "07:00"), ("", ""), ("", "15:00"), ("25:99", "1")]
            )
            day = rng.choice(["01/02/2026", "2026-02-03", "", "someday"])
            if not day and start:
                start, end = rng.choice([("2026-02-01T07:00", "2026-02-01T06:00"), ("2026-02-01 07:00", "x")])
            writer.writerow([rng.choice(["MP1", "mp 2", "MP3", ""]), day, start, end])


def _write_assignments(path: Path) -> None:
    rng = random.Random(14)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["staff_id", "case_ref", "from", "to", "role"])
        for i in range(500):
            if i % 83 == 0:
                handle.write("x,,,\n")
            writer.writerow(
                [
                    rng.choice(["MP1", "mp 2", "MP3", ""]),
                    rng.choice(["cr/1", "CR/2", ""]),
                    rng.choice(["01/02/2026", "", "2026-03-01", "bad"]),
                    rng.choice(["", "2026-02-15", "01/01/2026"]),
                    rng.choice(["", "OIC", "Support Officer"]),
                ]
            )


def _everything(directory: Path, kind: str, name: str, fmt: str = "csv") -> tuple[Problems, list[object]]:
    """Every answer the loaded table gives, and every problem, as plain values."""
    source = SourceConfig(
        kind=kind, path=str(directory / name), format=fmt, max_bad_rows_percent=100.0, normalise={}
    )
    identifiers = {"case_ref": "upper", "staff_id": {"staff_id": {"prefix": "MP", "digits": 1}}}
    cfg = ReferenceConfig(sources=(source,), identifiers=identifiers, max_reported_rows=10_000)
    result = load_sources(cfg)
    problems = [(p.line, p.field, p.message) for p in result.warnings]
    snapshot = result.snapshot
    out: list[object] = []
    for table in snapshot.persons:
        rows = table.by_id
        for pid in rows:
            record = rows[pid]
            keys = person_keys(record)
            out.append((record.entry(), keys, [table.pids_with(k) for k in keys[0]]))
        out.append((rows.surname.values, list(rows.surname.codes), rows.by_key.count))
    for links in snapshot.case_links:
        for index in (links.by_person, links.by_record):
            out.append([(key, index[key]) for key in index])
        out.append(links.rows)
    for assignments in snapshot.assignments:
        out.append((assignments.rows, dict(assignments.by_staff), dict(assignments.by_case)))
    for roster in snapshot.rosters:
        shifts = {sid: (list(s.data), s.count) for sid, s in roster.by_staff.items()}
        out.append((roster.rows, shifts))
    return problems, out


@pytest.mark.parametrize("batch_rows", [2, 7, 512])
@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("persons", "persons.csv"),
        ("case_links", "links.csv"),
        ("roster", "roster.csv"),
        ("assignments", "assignments.csv"),
    ],
)
def test_a_batched_load_answers_and_reports_as_a_row_at_a_time_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, name: str, batch_rows: int
) -> None:
    _write_persons(tmp_path / "persons.csv")
    _write_links(tmp_path / "links.csv")
    _write_roster(tmp_path / "roster.csv")
    _write_assignments(tmp_path / "assignments.csv")
    monkeypatch.setattr(converters_module, "BATCH_ROWS", 1)
    one_at_a_time = _everything(tmp_path, kind, name)
    monkeypatch.setattr(converters_module, "BATCH_ROWS", batch_rows)
    batched = _everything(tmp_path, kind, name)
    assert batched == one_at_a_time
    problems = one_at_a_time[0]
    # bad rows of each sort are there (the comparison covers them), with their own lines
    messages = " ".join(message for _, _, message in problems)
    assert "cells where the header has" in messages
    if kind == "persons":
        assert "already on line" in messages
    if kind in ("persons", "roster", "assignments"):
        assert "is not a date" in messages
    if kind == "roster":
        assert "is not a time" in messages
        assert "before it starts" in messages
        assert any(shifts for shifts in batched[1][-1][1].values())  # type: ignore[index]


def test_line_numbers_count_cells_that_span_lines(tmp_path: Path) -> None:
    text = (
        'person_id,surname,address\nP1,SMITH,"Flat 2,\n Mill Road"\nP2,JONES,x\nP1,BROWN,y\n'
        '\nP3,,"a\nb\nc"\nP2,X,z\n'
    )
    (tmp_path / "persons.csv").write_text(text, encoding="utf-8")
    problems, _ = _everything(tmp_path, "persons", "persons.csv")
    assert problems[:2] == [
        (5, "person_id", "person id 'P1' already on line 2; row skipped"),
        (10, "person_id", "person id 'P2' already on line 4; row skipped"),
    ]


def test_json_exports_load_a_batch_at_a_time_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    items = [
        {
            "case_ref": f"cr/{i % 7}",
            "person_id": f"P{i % 13}" if i % 3 else None,
            "role": ["x"] if i % 11 == 0 else "v",
        }
        for i in range(60)
    ]
    (tmp_path / "links.json").write_text(json.dumps(items), encoding="utf-8")
    monkeypatch.setattr(converters_module, "BATCH_ROWS", 1)
    one_at_a_time = _everything(tmp_path, "case_links", "links.json", "json")
    monkeypatch.setattr(converters_module, "BATCH_ROWS", 4)
    assert _everything(tmp_path, "case_links", "links.json", "json") == one_at_a_time


def test_a_chunk_holds_at_most_about_chunk_bytes_of_the_file(tmp_path: Path) -> None:
    """Rows are read a few at a time and a chunk ends after CHUNK_BYTES of the file: crafted huge rows are
    not held 512 at a time."""
    path = tmp_path / "persons.csv"
    big = "x" * 20_000
    path.write_text("person_id,address\n" + "".join(f"P{i},{big}\n" for i in range(300)), encoding="utf-8")
    export = open_rows(SourceConfig(kind="persons", path=str(path)))
    assert isinstance(export, CsvRows)
    chunks = list(export.chunks(512))
    per_chunk = CHUNK_BYTES // 20_000 + CHUNK_STEP + 1  # a chunk may end a step after the limit
    assert max(len(chunk.rows) for chunk in chunks) <= per_chunk
    assert [start for chunk in chunks for start in chunk.starts] == list(range(2, 302))


def test_a_column_of_text_is_collapsed_as_cell_by_cell() -> None:
    """The bulk converter of a text column (whitespace collapsed) agrees with `" ".join(cell.split())`."""
    rng = random.Random(15)
    alphabet = "ab \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u2003\x00é"
    for _ in range(3000):
        pool = alphabet if rng.random() < 0.5 else "abc "
        cells = [
            "".join(rng.choice(pool) for _ in range(rng.randrange(6))) for _ in range(rng.randrange(1, 6))
        ]
        assert converters_module._collapsed(cells) == [" ".join(cell.split()) or None for cell in cells]
