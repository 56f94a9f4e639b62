"""Builders: one export's converted rows -> its table (tables.py), problems reported per row."""

from __future__ import annotations

import dataclasses
import re
import sys
from array import array
from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from typing import Any, Final

from auditwatch.normalise import compile_date, compile_timestamp, fold_name
from auditwatch.reference.batched import BATCH_BUILDERS, BatchBuilder
from auditwatch.reference.config import ReferenceConfig, SourceConfig
from auditwatch.reference.converters import Batch, RowProblems, convert_batches, convert_rows
from auditwatch.reference.keys import address_parts, name_dob_key, name_key, split_name
from auditwatch.reference.readers import ExportRows
from auditwatch.reference.tables import (
    OPEN_END,
    Assignment,
    AssignmentTable,
    ListedPerson,
    ListTable,
    Person,
    RosterTable,
    Shifts,
    StaffEntry,
    StaffTable,
    SurnameTable,
    Table,
)
from auditwatch.timefmt import iso_utc

STATUSES: Final = ("active", "suspended", "restricted", "left")
_STATUS_WORDS: Final[dict[str, str]] = {
    "active": "active",
    "current": "active",
    "in_post": "active",
    "employed": "active",
    "suspended": "suspended",
    "restricted": "restricted",
    "restricted_duties": "restricted",
    "on_restricted_duties": "restricted",
    "left": "left",
    "leaver": "left",
    "resigned": "left",
    "retired": "left",
    "dismissed": "left",
    "terminated": "left",
}
_TIME: Final = re.compile(r"\s*(\d{1,2}):?(\d{2})(?::(\d{2}))?\s*")


def _person(row: Mapping[str, Any], *, with_name_key: bool = True) -> Person:
    surname, forenames = row.get("surname"), row.get("forenames")
    if not surname and row.get("name"):
        surname, split_fore = split_name(row["name"])
        forenames = forenames or split_fore
    sfold = fold_name(surname) if surname else None
    ffold = fold_name(forenames) if forenames else None
    dob = row.get("dob")
    return Person(
        surname,
        forenames,
        dob,
        row.get("person_id"),
        sfold or None,
        name_dob_key(sfold, ffold, dob),
        name_key(sfold, ffold) if with_name_key else None,
    )


Rows = Iterable[tuple[int, dict[str, Any]]]
Batches = Iterable[Batch]
Builder = Callable[[SourceConfig, ReferenceConfig, Rows, str, RowProblems], Table]


def build_table(
    source: SourceConfig, cfg: ReferenceConfig, export: ExportRows, as_of: str, problems: RowProblems
) -> Table:
    """The table of one export: the largest kinds (batched.py) a batch of rows at a time, the others a
    row at a time."""
    batch_builder = _BATCHED.get(source.kind)
    if batch_builder is not None:
        return batch_builder(source, cfg, convert_batches(source, cfg, export, problems), as_of, problems)
    rows = convert_rows(source, cfg, lambda: export.columns, export, problems)
    return _BUILDERS[source.kind](source, cfg, rows, as_of, problems)


def _staff(
    source: SourceConfig, cfg: ReferenceConfig, rows: Rows, as_of: str, problems: RowProblems
) -> Table:
    by_id: dict[str, StaffEntry] = {}
    rank: dict[str, str] = {}  # staff id -> status_from of the row its entry was built from
    count = 0
    for line, row in rows:
        status = row.get("status")
        if status:
            known = _STATUS_WORDS.get(status)
            if known is None:
                problems.add(
                    line,
                    "status",
                    f"unknown status {status!r} (known: {', '.join(STATUSES)}; "
                    "map others with `normalise: {status: {map: ...}}`)",
                    skipped=False,
                )
            row["status"] = known or status
        count += 1
        sid = row["staff_id"]
        change = (row.get("status_from") or "", row.get("status") or "active")
        previous = by_id.get(sid)
        if previous is None:
            by_id[sid] = _staff_entry(row, line, (change,))
            rank[sid] = change[0]
            continue
        # several rows for one staff id: a status history; the latest row gives the identity
        history = tuple(sorted({*previous.history, change}))
        if change[0] >= rank[sid]:
            by_id[sid] = _staff_entry(row, line, history)
            rank[sid] = change[0]
        else:
            by_id[sid] = dataclasses.replace(previous, history=history)
    by_person: dict[str, list[str]] = {}
    by_name_dob: dict[str, list[str]] = {}
    surname_counts: dict[str, int] = {}
    for sid, entry in by_id.items():
        person = entry.person
        if person.person_id:
            by_person.setdefault(person.person_id, []).append(sid)
        if person.name_dob_key:
            by_name_dob.setdefault(person.name_dob_key, []).append(sid)
        if person.surname_fold:
            surname_counts[person.surname_fold] = surname_counts.get(person.surname_fold, 0) + 1
    return StaffTable(
        "staff", source.path, as_of, count, by_id, _tuples(by_person), _tuples(by_name_dob), surname_counts
    )


def _staff_entry(row: dict[str, Any], line: int, history: tuple[tuple[str, str], ...]) -> StaffEntry:
    address_key, numbers = address_parts(row.get("address"))
    return StaffEntry(
        row["staff_id"],
        _person(row),
        row.get("postcode"),
        row.get("address"),
        address_key,
        numbers,
        row.get("unit"),
        row.get("rank"),
        row.get("roles") or (),
        row.get("vetting_level"),
        row.get("vetting_expiry"),
        history,
        line,
    )


def _listed(kind: str) -> Builder:
    def build(
        source: SourceConfig, cfg: ReferenceConfig, rows: Rows, as_of: str, problems: RowProblems
    ) -> Table:
        by_person: dict[str, list[ListedPerson]] = {}
        by_name_dob: dict[str, list[ListedPerson]] = {}
        by_name: dict[str, list[ListedPerson]] = {}
        by_staff: dict[str, list[ListedPerson]] = {}
        count = 0
        for line, row in rows:
            person = _person(row)
            if not (person.person_id or person.name_dob_key or person.name_key):
                problems.add(line, "surname", "needs a person id, or a surname and forenames", skipped=True)
                continue
            associate = kind == "associates"
            first = (row.get("declared_on") if associate else row.get("added_on")) or ""
            until_column = "ended_on" if associate else "removed_on"
            until = row.get(until_column) or OPEN_END
            if until <= first:
                start_column = "declared_on" if associate else "added_on"
                problems.add(
                    line,
                    until_column,
                    f"{until_column} ({until}) is not after {start_column} ({first})",
                    skipped=True,
                )
                continue
            listed = ListedPerson(
                person,
                row.get("staff_id") if associate else None,
                row.get("category"),
                row.get("relationship") if associate else row.get("reason"),
                row.get("declared_on"),
                line,
                first,
                until,
            )
            count += 1
            if associate:
                by_staff.setdefault(row["staff_id"], []).append(listed)
                continue
            if person.person_id:
                by_person.setdefault(person.person_id, []).append(listed)
            if person.name_dob_key:
                by_name_dob.setdefault(person.name_dob_key, []).append(listed)
            elif person.name_key and not person.dob:
                by_name.setdefault(person.name_key, []).append(listed)
        return ListTable(
            kind,
            source.path,
            as_of,
            count,
            _tuples(by_person),
            _tuples(by_name_dob),
            _tuples(by_name),
            _tuples(by_staff),
        )

    return build


def _assignments(
    source: SourceConfig, cfg: ReferenceConfig, batches: Batches, as_of: str, problems: RowProblems
) -> Table:
    by_staff: dict[str, dict[str, tuple[Assignment, ...]]] = {}
    by_case: dict[str, tuple[Assignment, ...]] = {}
    intern = sys.intern
    count = 0
    for lines, columns in batches:
        blank = [None] * len(lines)
        rows = zip(
            lines,
            columns["staff_id"],
            columns["case_ref"],
            columns.get("from", blank),
            columns.get("to", blank),
            columns.get("role", blank),
            strict=True,
        )
        for line, staff_id, case_ref, first_day, last_day, role in rows:
            first, last = first_day or "", last_day or OPEN_END
            if last < first:
                problems.add(line, "to", f"ends ({last}) before it starts ({first})", skipped=True)
                continue
            case = intern(case_ref)
            item = Assignment(intern(staff_id), case, first, last, intern(role or ""), line)
            cases = by_staff.get(item.staff_id)
            if cases is None:
                cases = by_staff[item.staff_id] = {}
            _add(cases, case, item)
            _add(by_case, case, item)
            count += 1
    return AssignmentTable("assignments", source.path, as_of, count, by_staff, by_case)


def _roster(
    source: SourceConfig, cfg: ReferenceConfig, batches: Batches, as_of: str, problems: RowProblems
) -> Table:
    zone = source.timezone or cfg.timezone
    parse_ts = compile_timestamp(list(source.timestamp_formats), zone)
    parse_iso = compile_timestamp(["%Y-%m-%dT%H:%M:%S"], zone)  # local wall-clock time
    parse_date = compile_date(list(source.date_formats))
    shifts: dict[str, array[float]] = {}  # staff -> start, end, line, start, end, line, ...
    seen: dict[tuple[str, str], float | None] = {}  # rosters repeat a few dates and shift times

    def time_on(day: str, text: str) -> float | None:
        key = (day, text)
        if key not in seen:
            seen[key] = _time_on(parse_iso, day, text)
        return seen[key]

    count = 0
    for lines, columns in batches:
        days = columns.get("date", [None] * len(lines))
        rows = zip(lines, columns["staff_id"], columns["start"], columns["end"], days, strict=True)
        for line, staff_id, start_text, end_text, day_text in rows:
            if not start_text and not end_text:
                count += 1  # no times: a rest day or leave, i.e. not on duty; a valid row, no shift
                continue
            if day_text:
                day = parse_date(day_text)
                if day is None:
                    formats = " or ".join(source.date_formats)
                    problems.add(line, "date", f"{day_text!r} is not a date in {formats}", skipped=True)
                    continue
                start, end = time_on(day, start_text), time_on(day, end_text)
                if start is not None and end is not None and end <= start:  # crosses midnight
                    end = time_on(_next_day(day), end_text)
            else:
                start, end = parse_ts(start_text), parse_ts(end_text)
            if start is None or end is None:
                bad, text = ("start", start_text) if start is None else ("end", end_text)
                formats = " or ".join(source.timestamp_formats)
                problems.add(line, bad, f"{text!r} is not a time in {formats}", skipped=True)
                continue
            if end <= start:
                message = f"shift ends ({iso_utc(end)}) before it starts ({iso_utc(start)})"
                problems.add(line, "end", message, skipped=True)
                continue
            found = shifts.get(staff_id)
            if found is None:
                found = shifts[sys.intern(staff_id)] = array("d")
            found.extend((start, end, float(line)))
            count += 1
    by_staff: dict[str, Shifts] = {}
    for sid, flat in shifts.items():
        items = sorted(zip(flat[0::3], flat[1::3], flat[2::3], strict=True))
        running, max_end = float("-inf"), []
        for _, end, _ in items:
            running = max(running, end)
            max_end.append(running)
        data = array("d", [i[0] for i in items])
        data.extend(i[1] for i in items)
        data.extend(max_end)
        data.extend(i[2] for i in items)
        by_staff[sid] = Shifts(data, len(items))
    return RosterTable("roster", source.path, as_of, count, by_staff)


def _time_on(parse_iso: Callable[[str], float | None], day: str, text: str) -> float | None:
    match = _TIME.fullmatch(text)
    if match is None:
        return None
    hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    if hour == 24 and minute == 0 and second == 0:  # "24:00" ends the day
        return parse_iso(f"{_next_day(day)}T00:00:00")
    return parse_iso(f"{day}T{hour:02d}:{minute:02d}:{second:02d}")


def _next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def _surnames(
    source: SourceConfig, cfg: ReferenceConfig, rows: Rows, as_of: str, problems: RowProblems
) -> Table:
    counts: dict[str, float] = {}
    for _line, row in rows:
        folded = fold_name(row["surname"])
        if folded:
            counts[folded] = counts.get(folded, 0.0) + float(row["count"])
    top = max(counts.values(), default=0.0)
    return SurnameTable("surnames", source.path, as_of, len(counts), counts, top)


_BUILDERS: Final[dict[str, Builder]] = {
    "staff": _staff,
    "watchlist": _listed("watchlist"),
    "associates": _listed("associates"),
    "surnames": _surnames,
}


_BATCHED: Final[dict[str, BatchBuilder]] = {**BATCH_BUILDERS, "assignments": _assignments, "roster": _roster}


def _add(index: dict[str, tuple[Any, ...]], key: str, *values: Any) -> None:
    """Append to a tuple value. Groups are small; building tuples directly (no lists converted at
    the end) leaves no freed lists behind, which otherwise fragment memory and inflate RSS."""
    found = index.get(key)
    index[key] = values if found is None else found + values


def _tuples(index: Mapping[str, list[Any]]) -> dict[str, tuple[Any, ...]]:
    return {key: tuple(values) for key, values in index.items()}
