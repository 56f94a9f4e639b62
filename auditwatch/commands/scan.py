"""`auditwatch scan`: parse and detect without Elasticsearch."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from auditwatch.commands import EXIT_CONFIG, EXIT_FINDINGS, EXIT_OK


def cmd_scan(args: argparse.Namespace) -> int:
    from auditwatch.commands.scanning import print_alerts, scan_files

    missing = [f for f in args.files if not f.is_file()]
    if missing:
        print(f"error: not a readable file: {missing[0]}", file=sys.stderr)
        return EXIT_CONFIG
    result = scan_files(Path(args.config), args.files, parser_name=args.parser, progress=sys.stderr.isatty())
    print_alerts(result.alerts, args.format, sys.stdout)
    print(
        f"{result.records} records, {result.events} events, {len(result.dead)} unparsed, "
        f"{len(result.alerts)} alerts",
        file=sys.stderr,
    )
    for letter in result.dead[:20]:
        print(f"  unparsed {letter.raw.path}@{letter.raw.offset}: {letter.reason}", file=sys.stderr)
    return EXIT_FINDINGS if result.alerts or result.dead else EXIT_OK
