"""`auditwatch run`: the daemon in the foreground, stopped by SIGTERM/SIGINT, reloaded by SIGHUP."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

import structlog

from auditwatch.commands import EXIT_OK

log = structlog.get_logger("auditwatch.cli")  # the name the daemon's stop event always had


def cmd_run(args: argparse.Namespace) -> int:
    from auditwatch.config.daemon import load_config
    from auditwatch.daemon import Daemon
    from auditwatch.service.logsetup import configure_logging

    config = load_config(args.config)
    configure_logging(args.log_level or config.log_level, config.log_format)
    stop = threading.Event()
    daemon = Daemon(config, stop=stop)

    def on_signal(signum: int, _frame: object) -> None:
        if signum == signal.SIGHUP:
            daemon.request_reload()
            return
        log.info("stopping", signal=signal.Signals(signum).name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    counters = daemon.run(until_idle=args.until_idle)
    if args.until_idle:
        print(
            f"read {counters.records} records: {counters.events} events, "
            f"{counters.dead_letters} dead letters, {counters.alerts} alerts",
            file=sys.stderr,
        )
    return EXIT_OK
