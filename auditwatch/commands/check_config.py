"""`auditwatch check-config`: validate config, parsers, rules and reference data."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from auditwatch.commands import EXIT_CONFIG, EXIT_OK


def cmd_check_config(args: argparse.Namespace) -> int:
    from auditwatch.commands.checks import check_everything

    problems, summary = check_everything(Path(args.config))
    for line in summary:
        print(line)
    for problem in problems:
        print(problem, file=sys.stderr)
    return EXIT_CONFIG if any(p.level == "error" for p in problems) else EXIT_OK
