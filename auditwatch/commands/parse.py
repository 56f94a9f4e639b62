"""`auditwatch parse`: parse files with one parser and print the events as JSON lines."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from auditwatch.commands import DEFAULT_CONFIG, EXIT_CONFIG, EXIT_FINDINGS, EXIT_OK
from auditwatch.errors import UNKNOWN_NAME, ConfigError


def cmd_parse(args: argparse.Namespace) -> int:
    from auditwatch.commands.parsecmd import (
        UnreadableInput,
        check_readable,
        input_for,
        print_events,
        read_inputs,
    )
    from auditwatch.config.daemon import load_config
    from auditwatch.parsing import load_parsers
    from auditwatch.service.logsetup import configure_logging

    if args.log_level is None:  # no file-discovery chatter around the events
        configure_logging("warning", "console" if sys.stderr.isatty() else "json", libraries="error")
    config_path = args.config or os.environ.get("AUDITWATCH_CONFIG")
    if config_path is None and os.access(DEFAULT_CONFIG, os.R_OK):  # only if this user may read it
        config_path = DEFAULT_CONFIG
    config = load_config(config_path) if config_path else None
    spec = input_for(args.parser, args.input, config)
    parsers_dir = Path(args.parsers_dir or (config.parsers_dir if config else "parsers"))
    parsers = load_parsers(parsers_dir)
    if spec.parser not in parsers:
        raise ConfigError.single(
            str(parsers_dir),
            None,
            "--parser",
            f"unknown parser '{spec.parser}' (have: {', '.join(sorted(parsers))})",
            code=UNKNOWN_NAME,
        )
    try:
        check_readable(args.files)
    except UnreadableInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    batches = read_inputs(spec, args.files, sys.stdin.buffer)
    _events, failures = print_events(parsers[spec.parser], batches, sys.stdout.buffer, sys.stderr)
    return EXIT_FINDINGS if failures else EXIT_OK
