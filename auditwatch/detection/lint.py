"""`auditwatch rules lint`: load problems plus what a rule set should have (tests, live allow-lists)."""

from __future__ import annotations

import time
from pathlib import Path

from auditwatch.detection.lists import expired_entries
from auditwatch.detection.loader import collect_ruleset
from auditwatch.errors import Problem


def lint_ruleset(
    rules_dir: Path, lists_dir: Path | None = None, *, now: float | None = None
) -> list[Problem]:
    """Every problem: schema, unknown names, dangling lists, missing test cases, expired allow-list entries
    (the last reported as warnings)."""
    ruleset, problems = collect_ruleset(rules_dir, lists_dir)
    for rule in ruleset:
        if not any(case.should_fire for case in rule.tests):
            problems.append(
                Problem(rule.file, rule.line, "tests.should_fire", "needs at least one should_fire case")
            )
        if not any(not case.should_fire for case in rule.tests):
            problems.append(
                Problem(
                    rule.file, rule.line, "tests.should_not_fire", "needs at least one should_not_fire case"
                )
            )
    problems.extend(expired_entries(ruleset.lists, time.time() if now is None else now))
    return problems
