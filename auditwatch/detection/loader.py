"""Load a whole rule set: every list file and every rule file, all validated, every problem reported."""

from __future__ import annotations

from pathlib import Path

import structlog

from auditwatch.detection.lists import Lists, load_lists
from auditwatch.detection.rule import Rule, RuleSet
from auditwatch.detection.rulefile import load_rule_file
from auditwatch.errors import DUPLICATE_NAME, LOAD_FAILED, NOT_FOUND, ConfigError, Problem

_log = structlog.get_logger(__name__)


def rule_files(rules_dir: Path) -> list[Path]:
    return sorted([*Path(rules_dir).glob("*.yml"), *Path(rules_dir).glob("*.yaml")])


def default_lists_dir(rules_dir: Path, lists_dir: Path | None) -> Path:
    return Path(lists_dir) if lists_dir is not None else Path(rules_dir) / "lists"


def collect_ruleset(rules_dir: Path, lists_dir: Path | None = None) -> tuple[RuleSet, list[Problem]]:
    """The rules that loaded, and every problem found (the rule set is only usable with none)."""
    problems: list[Problem] = []
    rules_dir = Path(rules_dir)
    if not rules_dir.is_dir():
        problems.append(Problem(str(rules_dir), None, "", "rules directory not found", code=NOT_FOUND))
        return RuleSet((), Lists({}, {})), problems
    lists = load_lists(default_lists_dir(rules_dir, lists_dir), problems)
    rules: list[Rule] = []
    seen: dict[str, Rule] = {}
    for path in rule_files(rules_dir):
        try:
            rule = load_rule_file(path, lists, problems)
        except Exception as exc:  # a loader bug or an exhausted resource: this file fails, not the caller
            _log.exception("rule_file_failed", file=str(path))
            problems.append(
                Problem(
                    str(path), None, "", f"could not be loaded: {type(exc).__name__}: {exc}", code=LOAD_FAILED
                )
            )
            continue
        if rule is None:
            continue
        if rule.id in seen:
            other = seen[rule.id]
            problems.append(
                Problem(
                    rule.file,
                    rule.line,
                    "id",
                    f"rule id '{rule.id}' also used by {other.file}",
                    code=DUPLICATE_NAME,
                )
            )
            continue
        seen[rule.id] = rule
        rules.append(rule)
    return RuleSet(tuple(rules), lists), problems


def load_ruleset(rules_dir: Path, lists_dir: Path | None = None) -> RuleSet:
    """Every rule in `rules_dir` (lists from `lists_dir`, default `rules_dir/lists`); ConfigError lists
    every problem in every file if anything is wrong."""
    ruleset, problems = collect_ruleset(rules_dir, lists_dir)
    if problems:
        raise ConfigError(problems)
    return ruleset
