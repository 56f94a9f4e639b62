"""`auditwatch rules lint`: load problems plus what a rule set should have (tests, live allow-lists)."""

from __future__ import annotations

import time
from pathlib import Path

from auditwatch.detection.lists import expired_entries
from auditwatch.detection.loader import collect_ruleset
from auditwatch.errors import BAD_FOLD, MISSING_TEST, Problem


def lint_ruleset(
    rules_dir: Path, lists_dir: Path | None = None, *, now: float | None = None
) -> list[Problem]:
    """Every problem: schema, unknown names, dangling lists, missing test cases, expired allow-list entries
    (the last reported as warnings)."""
    ruleset, problems = collect_ruleset(rules_dir, lists_dir)
    ids = {rule.id for rule in ruleset}
    for rule in ruleset:
        for target in rule.folds_into:  # a missing target only disables folding: an error here
            if target not in ids or target == rule.id:
                what = "itself" if target == rule.id else f"no rule '{target}' in this rule set"
                problems.append(
                    Problem(rule.file, rule.line, "folds_into", f"folds into {what}", code=BAD_FOLD)
                )
        if not any(case.should_fire for case in rule.tests):
            problems.append(
                Problem(
                    rule.file,
                    rule.line,
                    "tests.should_fire",
                    "needs at least one should_fire case",
                    code=MISSING_TEST,
                )
            )
        if not any(not case.should_fire for case in rule.tests):
            problems.append(
                Problem(
                    rule.file,
                    rule.line,
                    "tests.should_not_fire",
                    "needs at least one should_not_fire case",
                    code=MISSING_TEST,
                )
            )
    problems.extend(expired_entries(ruleset.lists, time.time() if now is None else now))
    return problems
