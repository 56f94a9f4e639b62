"""`auditwatch check-config`: validate everything the daemon would load, collecting every problem."""

from __future__ import annotations

import dataclasses
import glob
from pathlib import Path
from typing import Literal

from auditwatch.config.daemon import load_config
from auditwatch.detection import lint_ruleset
from auditwatch.errors import UNKNOWN_NAME, ConfigError, Problem
from auditwatch.parsing import load_parsers
from auditwatch.reference import ReferenceLoad, ReferenceSnapshot, load_sources
from auditwatch.reference.identity import coverage


def check_everything(config_path: Path) -> tuple[list[Problem], list[str]]:
    """Problems found (file, line, field, message) and a human summary of what was checked."""
    summary: list[str] = []
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        return list(exc.problems), [f"config {config_path}: invalid"]
    summary.append(f"config {config.path}: ok ({len(config.inputs)} inputs)")
    problems: list[Problem] = []

    try:
        parsers = load_parsers(config.parsers_dir)
    except ConfigError as exc:
        problems.extend(exc.problems)
        parsers = {}
    else:
        for parser in parsers.values():
            problems.extend(parser.definition.warnings)
            problems.extend(parser.check_examples())
        summary.append(f"parsers {config.parsers_dir}: {len(parsers)} loaded, examples checked")

    for index, item in enumerate(config.inputs):
        if parsers and item.parser not in parsers:
            problems.append(
                Problem(
                    str(config.path),
                    None,
                    f"inputs[{index}].parser",
                    f"unknown parser '{item.parser}'",
                    code=UNKNOWN_NAME,
                )
            )
        matched = sum(len(glob.glob(pattern)) for pattern in item.paths)
        summary.append(f"input {item.name}: parser {item.parser}, {matched} file(s) match now")

    rule_problems = lint_ruleset(config.rules_dir, config.lists_dir)
    problems.extend(rule_problems)
    summary.append(
        f"rules {config.rules_dir}: {'ok' if not rule_problems else f'{len(rule_problems)} problem(s)'}"
    )

    reference = load_sources(config.reference)
    problems.extend(_rejected_exports(reference))
    snapshot = reference.snapshot
    summary.append(
        f"reference data: {len(snapshot.sources)} of {len(config.reference.sources)} export(s) in force"
    )
    summary.extend(_exports_in_force(reference))
    summary.extend(_reference_summary(snapshot, reference.warnings))
    summary.extend(coverage(snapshot.identity, *_entry_counts(snapshot)))
    return problems, summary


def _reference_summary(snapshot: ReferenceSnapshot, warnings: list[Problem], examples: int = 3) -> list[str]:
    """True counts of skipped rows and ignored values, one line per export, with a few examples each."""
    flagged = [s for s in snapshot.sources if s.skipped_rows or s.ignored_values]
    if not flagged:
        return [f"reference data: loaded ({len(snapshot.sources)} export(s), no bad rows)"]
    skipped = sum(s.skipped_rows for s in flagged)
    ignored = sum(s.ignored_values for s in flagged)
    lines = [
        f"reference data: loaded, {skipped} bad row(s) skipped and {ignored} value(s) ignored "
        f"in {len(flagged)} export(s)"
    ]
    for source in flagged:
        path = source.config.path
        lines.append(
            f"  {path}: {source.config.kind}: {source.table.rows} rows loaded, "
            f"{source.skipped_rows} bad rows skipped, {source.ignored_values} values ignored"
        )
        rows = [w for w in warnings if w.file == path and (w.line is not None or w.field.startswith("["))]
        lines.extend(f"    e.g. {w}" for w in rows[:examples])
    return lines


def _entry_counts(snapshot: ReferenceSnapshot) -> tuple[int, int, int]:
    """Members of staff, watchlist entries and declared associates loaded."""
    return (
        sum(len(t.by_id) for t in snapshot.staff),
        sum(t.rows for t in snapshot.watchlists),
        sum(t.rows for t in snapshot.associates),
    )


def _rejected_exports(reference: ReferenceLoad) -> list[Problem]:
    """A rejected export is an error (the daemon would refuse to start), a warning if it is optional."""
    out: list[Problem] = []
    for source, found in reference.rejected:
        level: Literal["error", "warning"] = "warning" if source.optional else "error"
        out.extend(dataclasses.replace(p, level=level) for p in found)
    return out


def _exports_in_force(reference: ReferenceLoad) -> list[str]:
    lines = [
        f"  {d['kind']} {d['source']}: {d['rows']} rows, as of {d['as_of']} ({d['age_hours']} h old)"
        for d in reference.snapshot.describe()
    ]
    lines += [
        f"  {s.kind} {s.path}: NOT IN FORCE (rejected{', optional' if s.optional else ''})"
        for s in reference.missing
    ]
    return lines
