"""Roster rows without times (rest day, leave) are valid rows; bad-row counts are reported truly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from auditwatch.commands.cli import main
from auditwatch.reference import ReferenceConfig, load_reference
from auditwatch.reference.reload import ReferenceHolder

Load = Callable[[str, Path], ReferenceConfig]

ROSTER = "reference:\n  sources:\n    - {kind: roster, path: roster.csv, columns: {date: Duty Date}}\n"


def _roster(directory: Path, rows: list[str]) -> None:
    (directory / "roster.csv").write_text("staff_id,Duty Date,start,end,note\n" + "\n".join(rows) + "\n")


def test_rest_day_rows_are_valid_rows_not_bad_rows(tmp_path: Path, load_config: Load) -> None:
    """A roster where most rows are rest days or leave (blank times) loads with no warnings at the default
    5 % bad-row limit; the rest-day rows count as rows and give no shift."""
    rows = ["1,24/11/2026,08:00,16:00,"] + [f"1,{d:02d}/12/2026,,,rest day" for d in range(1, 29)]
    rows += ["2,24/11/2026, , ,annual leave"]
    _roster(tmp_path, rows)
    snap, warnings = load_reference(load_config(ROSTER, tmp_path))
    (roster,) = snap.rosters
    assert warnings == []
    assert roster.rows == 30
    assert roster.by_staff["1"].count == 1
    assert "2" not in roster.by_staff


def test_rest_day_markers_made_blank_by_null_if(tmp_path: Path, load_config: Load) -> None:
    """A roster that writes REST / LEAVE in the time columns is read with `null_if` as rest-day rows."""
    _roster(
        tmp_path,
        ["1,24/11/2026,08:00,16:00,"]
        + [f"1,{d:02d}/12/2026,REST,REST," for d in range(1, 9)]
        + ["1,09/12/2026,Leave,leave,"],
    )
    marker = "{null_if: {values: [REST, LEAVE]}}"
    text = ROSTER.replace(
        "columns: {date: Duty Date}",
        f"columns: {{date: Duty Date}}, normalise: {{start: {marker}, end: {marker}}}",
    )
    snap, warnings = load_reference(load_config(text, tmp_path))
    assert (warnings, snap.rosters[0].rows, snap.rosters[0].by_staff["1"].count) == ([], 10, 1)


def test_a_row_with_only_one_time_is_still_a_bad_row(tmp_path: Path, load_config: Load) -> None:
    """A start without an end (or the reverse) is a broken row, reported and skipped."""
    _roster(
        tmp_path,
        ["1,24/11/2026,08:00,16:00,", "1,25/11/2026,08:00,,", "1,26/11/2026,,16:00,"]
        + [f"{n},01/12/2026,08:00,16:00," for n in range(2, 60)],
    )
    snap, warnings = load_reference(load_config(ROSTER, tmp_path))
    texts = [str(w) for w in warnings]
    assert any("roster.csv:3: AW104 [end] no end; row skipped" in t for t in texts)
    assert any("roster.csv:4: AW104 [start] no start; row skipped" in t for t in texts)
    assert snap.rosters[0].rows == 59


def test_check_config_reports_the_true_number_of_bad_rows_per_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """check-config counts every skipped row (not the few listed), per export, with a few examples."""
    good = [f"{n},24/11/2026,08:00,16:00," for n in range(2000)]
    bad = [f"{n},24/11/2026,25:99,16:00," for n in range(2000, 2057)]  # 57 bad rows: 2.8 %
    _roster(tmp_path, good + bad)
    (tmp_path / "rules").mkdir()
    (tmp_path / "parsers").mkdir()
    cfg = tmp_path / "aw.yml"
    cfg.write_text(
        "inputs: []\nelasticsearch: {hosts: ['http://127.0.0.1:9200']}\n"
        "reference:\n  sources:\n    - {kind: roster, path: roster.csv, columns: {date: Duty Date}}\n",
        encoding="utf-8",
    )
    main(["check-config", "--config", str(cfg)])
    out, _err = capsys.readouterr()
    assert "reference data: loaded, 57 bad row(s) skipped and 0 value(s) ignored in 1 export(s)" in out
    assert (
        f"{tmp_path / 'roster.csv'}: roster: 2000 rows loaded, 57 bad rows skipped, 0 values ignored" in out
    )
    examples = [line for line in out.splitlines() if "is not a time" in line]
    assert 1 <= len(examples) <= 3
    assert "21 row warning" not in out


def test_reload_log_counts_every_skipped_row(tmp_path: Path, load_config: Load) -> None:
    """The daemon's reload log gives the true number of skipped rows, not the number of listed problems."""
    good = [f"{n},24/11/2026,08:00,16:00," for n in range(2000)]
    bad = [f"{n},24/11/2026,25:99,16:00," for n in range(2000, 2057)]
    _roster(tmp_path, good + bad)
    holder = ReferenceHolder(load_config(ROSTER, tmp_path))
    with capture_logs() as logs:
        holder.reload()
    (loaded,) = [entry for entry in logs if entry["event"] == "reference_reloaded"]
    assert (loaded["bad_rows_skipped"], loaded["values_ignored"]) == (57, 0)
