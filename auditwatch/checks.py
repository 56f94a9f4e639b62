"""`auditwatch check-config`: validate everything the daemon would load, collecting every problem."""

from __future__ import annotations

import glob
from pathlib import Path

from auditwatch.config import load_config
from auditwatch.detection import lint_ruleset
from auditwatch.errors import ConfigError, Problem
from auditwatch.parsing import load_parsers
from auditwatch.reference import ReferenceSnapshot, load_reference
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
            problems.extend(parser.check_examples())
        summary.append(f"parsers {config.parsers_dir}: {len(parsers)} loaded, examples checked")

    for index, item in enumerate(config.inputs):
        if parsers and item.parser not in parsers:
            problems.append(
                Problem(str(config.path), None, f"inputs[{index}].parser", f"unknown parser '{item.parser}'")
            )
        matched = sum(len(glob.glob(pattern)) for pattern in item.paths)
        summary.append(f"input {item.name}: parser {item.parser}, {matched} file(s) match now")

    rule_problems = lint_ruleset(config.rules_dir, config.lists_dir)
    problems.extend(rule_problems)
    summary.append(
        f"rules {config.rules_dir}: {'ok' if not rule_problems else f'{len(rule_problems)} problem(s)'}"
    )

    try:
        snapshot, warnings = load_reference(config.reference)
    except ConfigError as exc:
        problems.extend(exc.problems)
        summary.append("reference data: invalid")
    else:
        summary.append(f"reference data: loaded ({len(warnings)} row warning(s))")
        summary.extend(f"  warning: {w}" for w in warnings[:20])
        summary.extend(coverage(snapshot.identity, *_entry_counts(snapshot)))
    return problems, summary


def _entry_counts(snapshot: ReferenceSnapshot) -> tuple[int, int, int]:
    """Members of staff, watchlist entries and declared associates loaded."""
    return (
        sum(len(t.by_id) for t in snapshot.staff),
        sum(t.rows for t in snapshot.watchlists),
        sum(t.rows for t in snapshot.associates),
    )
