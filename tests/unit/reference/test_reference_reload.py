"""ReferenceHolder: atomic swap, broken exports keep the previous snapshot, watchdog reloads."""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime
from pathlib import Path

from auditwatch.errors import Problem
from auditwatch.reference import EventView, ReferenceConfig, ReferenceHolder, ReferenceSnapshot
from auditwatch.testing.waiting import wait_until

NIGHT = datetime(2026, 11, 25, 2, tzinfo=UTC).timestamp()  # inside Jane's rostered night shift


def _on_duty(snapshot: ReferenceSnapshot, user: str = "MP012345", at: float = NIGHT) -> bool:
    return EventView(snapshot, {"user.id": user}, at).match("rostered_on_duty") is not None


def _replace(path: Path, text: str, encoding: str = "utf-8") -> None:
    """Write an export the way export jobs do: a temp file renamed over the old one."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding=encoding)
    os.replace(tmp, path)


def test_reload_swaps_in_a_new_snapshot(exports: Path, cfg: ReferenceConfig) -> None:
    """A changed export is picked up; views made earlier keep answering from the old snapshot."""
    holder = ReferenceHolder(cfg)
    assert _on_duty(holder.current) is False  # empty until the first reload
    assert [p for p in holder.reload() if "row skipped" in p.message]
    first = holder.current
    old_view = EventView(first, {"user.id": "MP012345"}, NIGHT)
    _replace(exports / "roster.csv", "Staff,Shift Date,Start,End\nMP012346,24/11/2026,22:00,06:00\n")
    holder.reload()
    assert holder.current is not first
    assert _on_duty(holder.current) is False
    assert _on_duty(holder.current, "MP012346") is True
    assert old_view.match("rostered_on_duty") is not None


def test_unchanged_exports_are_reused(exports: Path, cfg: ReferenceConfig) -> None:
    """Only the changed export is re-read; the other tables are the very same objects."""
    holder = ReferenceHolder(cfg)
    holder.reload()
    before = {s.table.kind: s.table for s in holder.current.sources}
    _replace(exports / "roster.csv", "Staff,Shift Date,Start,End\nMP012346,24/11/2026,22:00,06:00\n")
    holder.reload()
    after = {s.table.kind: s.table for s in holder.current.sources}
    assert after["roster"] is not before["roster"]
    assert all(after[k] is before[k] for k in before if k != "roster")


def test_broken_export_keeps_its_own_previous_version_while_the_others_update(
    exports: Path, cfg: ReferenceConfig
) -> None:
    """A broken export keeps its last good version (file, line, column reported); a good one updates."""
    holder = ReferenceHolder(cfg)
    holder.reload()
    good = holder.current
    _replace(exports / "assignments.csv", "officer,case_number,start date,end date\nMP012345,X,,\n")
    _replace(exports / "roster.csv", "Staff,Shift Date,Start,End\nMP012346,24/11/2026,22:00,06:00\n")
    problems = holder.reload()
    assert holder.last_rejected is True
    assert [(Path(p.file).name, p.line, p.field) for p in problems] == [("assignments.csv", 1, "case_ref")]
    tables = {s.table.kind: s.table for s in holder.current.sources}
    assert tables["assignments"] is next(s.table for s in good.sources if s.table.kind == "assignments")
    assert _on_duty(holder.current, "MP012346")  # the new roster
    assert not _on_duty(holder.current)
    assert holder.missing() == ()
    states = {d["kind"]: d["state"] for d in holder.describe()}
    assert states["assignments"] == "stale (newer file rejected)"
    assert states["roster"] == "in force"


def test_badly_encoded_export_keeps_the_previous_snapshot(exports: Path, cfg: ReferenceConfig) -> None:
    """An HR export rewritten in another encoding is rejected with the line that does not decode."""
    holder = ReferenceHolder(cfg)
    holder.reload()
    good = holder.current
    text = (exports / "hr.csv").read_text(encoding="utf-8-sig")
    _replace(exports / "hr.csv", text, encoding="cp1252")
    problems = holder.reload()
    assert holder.current is good
    assert (Path(problems[0].file).name, problems[0].line) == ("hr.csv", 3)  # "Seán" is line 3
    _replace(exports / "hr.csv", text, encoding="utf-8")
    holder.reload()
    assert holder.last_rejected is False
    assert holder.current is not good


def test_watchdog_reloads_a_changed_export(exports: Path, cfg: ReferenceConfig) -> None:
    """Renaming a new roster over the old one triggers a debounced reload (one short real wait)."""
    seen: list[tuple[ReferenceSnapshot, bool]] = []

    def on_reload(snapshot: ReferenceSnapshot, problems: object, rejected: bool) -> None:
        seen.append((snapshot, rejected))

    holder = ReferenceHolder(dataclasses.replace(cfg, reload_debounce_seconds=0.05), on_reload=on_reload)
    holder.reload()
    first = holder.current
    holder.start_watching()
    try:
        _replace(exports / "roster.csv", "Staff,Shift Date,Start,End\nMP012346,24/11/2026,22:00,06:00\n")
        wait_until(lambda: holder.current is not first, 10, interval=0.02, what="a reload")
    finally:
        holder.stop_watching()
    assert holder.current is not first
    assert _on_duty(holder.current, "MP012346")
    assert seen[-1] == (holder.current, False)


def test_problem_strings_name_file_line_and_column() -> None:
    """Problems render as file:line: CODE [column] message, the form the daemon logs (a CSV row has
    no character column: the export's column is the field)."""
    assert str(Problem("hr.csv", 9, "staff_id", "no staff_id")) == "hr.csv:9: AW104 [staff_id] no staff_id"
