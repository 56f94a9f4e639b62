"""`auditwatch rules lint|test|names|backtest`: the rule author's commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from auditwatch.commands import EXIT_CONFIG, EXIT_FINDINGS, EXIT_OK


def cmd_lint(args: argparse.Namespace) -> int:
    from auditwatch.detection import lint_ruleset

    config = None
    if args.config and not args.rules_dir:
        from auditwatch.config.daemon import load_config  # loads the Elasticsearch client's package too

        config = load_config(args.config)
    rules_dir = args.rules_dir or (config.rules_dir if config else Path("rules"))
    lists_dir = args.lists_dir or (config.lists_dir if config else None)
    problems = lint_ruleset(rules_dir, lists_dir)
    for problem in problems:
        print(problem)
    errors = [p for p in problems if p.level == "error"]
    print(f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s)", file=sys.stderr)
    return EXIT_CONFIG if errors else EXIT_OK


def cmd_test(args: argparse.Namespace) -> int:
    import functools

    from auditwatch.config.daemon import load_config
    from auditwatch.detection import load_ruleset, run_rule_tests
    from auditwatch.detection.casetest import reference_from_rows

    config = load_config(args.config) if args.config else None
    rules_dir = args.rules_dir or (config.rules_dir if config else Path("rules"))
    lists_dir = args.lists_dir or (config.lists_dir if config and not args.rules_dir else None)
    rules = load_ruleset(rules_dir, lists_dir)
    unknown = sorted(set(args.rule_ids) - {rule.id for rule in rules})
    if unknown:
        print(f"error: no rule {', '.join(unknown)} in {rules_dir}", file=sys.stderr)
        return EXIT_CONFIG
    factory = functools.partial(reference_from_rows, settings=config.reference) if config else None
    results = run_rule_tests(rules, factory, only=tuple(args.rule_ids))
    failed = [r for r in results if not r.passed]
    for result in results:
        print(("PASS " if result.passed else "FAIL ") + str(result))
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return EXIT_FINDINGS if failed else EXIT_OK


def cmd_names(_args: argparse.Namespace) -> int:
    from auditwatch.commands.docs import names_markdown

    print(names_markdown(), end="")
    return EXIT_OK


def cmd_backtest(args: argparse.Namespace) -> int:
    from auditwatch.commands.backtest import backtest_rule

    report = backtest_rule(Path(args.config), args.rule, since=args.since, samples=args.samples)
    print(report.render())
    return EXIT_OK
