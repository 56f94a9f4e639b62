"""The `auditwatch` command line: run, setup, check-config, parse, scan, rules, alerts."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import orjson
import structlog

from auditwatch import __version__
from auditwatch.errors import AuditwatchError, ConfigError

DEFAULT_CONFIG = "/etc/auditwatch/auditwatch.yml"
EXIT_OK, EXIT_FINDINGS, EXIT_CONFIG, EXIT_RUNTIME = 0, 1, 2, 3

log = structlog.get_logger("auditwatch.cli")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from auditwatch.logsetup import configure_logging

    configure_logging(
        getattr(args, "log_level", None) or "info",
        "console" if sys.stderr.isatty() else "json",
        libraries="warning" if args.command == "run" else "error",
    )
    from elasticsearch import ApiError, TransportError

    from auditwatch.indexing.verify import ClusterNotReady

    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
    except ClusterNotReady as exc:  # restarting cannot help: an operator has to act
        print(f"Elasticsearch is not set up for auditwatch: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except AuditwatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_RUNTIME
    except (TransportError, ApiError) as exc:
        if args.debug:
            raise
        print(f"error: Elasticsearch: {_es_reason(exc)} (--debug for details)", file=sys.stderr)
        return EXIT_RUNTIME
    except KeyboardInterrupt:
        return 130


def _es_reason(exc: Exception) -> str:
    from elasticsearch import ApiError, TransportError

    if isinstance(exc, ApiError):
        return f"HTTP {exc.meta.status}: {exc.error}"
    if isinstance(exc, TransportError):
        return f"{type(exc).__name__}: {exc.message}"
    return str(exc)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="auditwatch",
        description=__doc__,
        epilog="exit codes: 0 ok, 1 findings (alerts, unparsed lines, failed rule cases), "
        "2 configuration error or cluster not set up, 3 runtime error",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("--log-level", choices=["debug", "info", "warning", "error"], default=None)
    p.add_argument("--debug", action="store_true", help="show tracebacks of runtime errors")
    sub = p.add_subparsers(dest="command", required=True)

    def with_config(sp: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sp.add_argument(
            "-c",
            "--config",
            default=os.environ.get("AUDITWATCH_CONFIG", DEFAULT_CONFIG),
            help="the daemon's YAML config (default: $AUDITWATCH_CONFIG or %(default)s)",
        )
        return sp

    run = with_config(sub.add_parser("run", help="tail, parse, detect and index until stopped"))
    run.add_argument("--until-idle", action="store_true", help="exit once every file is read and delivered")
    run.set_defaults(func=_cmd_run)

    setup = with_config(sub.add_parser("setup", help="install index templates and create indices"))
    setup.add_argument(
        "--print",
        dest="print_only",
        action="store_true",
        help="print the component and index templates as JSON instead of installing them",
    )
    setup.set_defaults(func=_cmd_setup)

    check = with_config(sub.add_parser("check-config", help="validate config, parsers, rules and reference"))
    check.set_defaults(func=_cmd_check_config)

    parse = sub.add_parser(
        "parse", help="parse files (plain, .gz, or - for stdin) with one parser, print events as JSON lines"
    )
    which = parse.add_mutually_exclusive_group(required=True)
    which.add_argument("--parser", help="parser name (multi-line settings from the config inputs using it)")
    which.add_argument("--input", help="a config input: its parser, multi-line and line-length settings")
    parse.add_argument(
        "-c",
        "--config",
        default=None,
        help="config for parsers_dir and input settings (default: $AUDITWATCH_CONFIG, else "
        f"{DEFAULT_CONFIG} if readable, else none)",
    )
    parse.add_argument(
        "--parsers-dir",
        default=None,
        help="directory of parser files (default: the config's parsers_dir, else ./parsers)",
    )
    parse.add_argument("files", nargs="+", help="files to read; - reads stdin")
    parse.set_defaults(func=_cmd_parse)

    scan = with_config(sub.add_parser("scan", help="parse and detect without Elasticsearch"))
    scan.add_argument("--parser", help="parser for every file (default: the config input whose glob matches)")
    scan.add_argument("--format", choices=["jsonl", "table"], default="table")
    scan.add_argument("files", nargs="+", type=Path)
    scan.set_defaults(func=_cmd_scan)

    rules = sub.add_parser("rules", help="lint, test and backtest detection rules")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True)
    lint = rules_sub.add_parser("lint", help="validate every rule and list file")
    lint.add_argument("--rules-dir", type=Path, default=Path("rules"))
    lint.add_argument("--lists-dir", type=Path, default=None)
    lint.set_defaults(func=_cmd_rules_lint)
    rtest = rules_sub.add_parser("test", help="run every rule's should_fire / should_not_fire cases")
    rtest.add_argument("--rules-dir", type=Path, default=None, help="default: config rules_dir, else ./rules")
    rtest.add_argument("--lists-dir", type=Path, default=None)
    rtest.add_argument(
        "-c",
        "--config",
        default=os.environ.get("AUDITWATCH_CONFIG"),
        help="use this config's reference settings (timezone, roster grace, identifiers) and rules_dir "
        "(default: $AUDITWATCH_CONFIG, else built-in defaults)",
    )
    rtest.add_argument("rule_ids", nargs="*", help="only these rules")
    rtest.set_defaults(func=_cmd_rules_test)
    names = rules_sub.add_parser("names", help="list every signal, explanation and reference value")
    names.set_defaults(func=_cmd_rules_names)
    backtest = with_config(
        rules_sub.add_parser("backtest", help="alerts a rule would have raised on history")
    )
    backtest.add_argument("rule", help="rule id, or path of a rule file (e.g. a new rule not yet deployed)")
    backtest.add_argument("--since", default="30d", help="how far back, e.g. 30d, 12h (%(default)s)")
    backtest.add_argument("--samples", type=int, default=5)
    backtest.set_defaults(func=_cmd_rules_backtest)

    status = with_config(
        sub.add_parser(
            "status",
            help="per-file delivery lag (checkpoint) and the daemon's last heartbeat (Elasticsearch)",
            description="Example: auditwatch status --config /etc/auditwatch/auditwatch.yml. "
            "Exit 0, or 3 when Elasticsearch could not be asked (the local part is still printed).",
        )
    )
    status.set_defaults(func=_cmd_status)

    test = sub.add_parser("test", help="check connectivity (like `filebeat test output`)")
    test_sub = test.add_subparsers(dest="test_command", required=True)
    output = with_config(
        test_sub.add_parser(
            "output",
            help="connection, TLS, authentication, the daemon's privileges and the templates, step by step",
            description="Example: auditwatch test output. Exit 0 when every step is ok, else 3.",
        )
    )
    output.set_defaults(func=_cmd_test_output)

    alerts = with_config(sub.add_parser("alerts", help="list recent alerts from Elasticsearch"))
    alerts.add_argument("--limit", type=int, default=50)
    alerts.add_argument("--format", choices=["jsonl", "table"], default="table")
    alerts.set_defaults(func=_cmd_alerts)
    return p


# -- commands ---------------------------------------------------------------------------------


def _cmd_run(args: argparse.Namespace) -> int:
    from auditwatch.config import load_config
    from auditwatch.daemon import Daemon
    from auditwatch.logsetup import configure_logging

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


def _cmd_setup(args: argparse.Namespace) -> int:
    from auditwatch.config import load_config
    from auditwatch.indexing import make_client, setup_cluster
    from auditwatch.indexing.templates import component_templates, index_templates
    from auditwatch.schema import IndexNames

    config = load_config(args.config)
    names = IndexNames(config.elasticsearch.index_prefix)
    if args.print_only:
        bodies = {
            "component_templates": component_templates(names),
            "index_templates": index_templates(names),
        }
        print(orjson.dumps(bodies, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())
        return EXIT_OK
    client = make_client(config.elasticsearch)
    for line in setup_cluster(client, names):
        print(line)
    return EXIT_OK


def _cmd_status(args: argparse.Namespace) -> int:
    from auditwatch.commands.status import print_status
    from auditwatch.config import load_config
    from auditwatch.indexing import make_client

    config = load_config(args.config)
    client = make_client(config.elasticsearch).options(max_retries=0)
    try:
        return EXIT_OK if print_status(config, client, sys.stdout) else EXIT_RUNTIME
    finally:
        client.close()


def _cmd_test_output(args: argparse.Namespace) -> int:
    from auditwatch.commands.test_output import check_output, print_steps
    from auditwatch.config import load_config

    config = load_config(args.config)
    steps = check_output(config.elasticsearch)
    print_steps(steps, config.elasticsearch.hosts, sys.stdout)
    return EXIT_OK if all(step.ok for step in steps) else EXIT_RUNTIME


def _cmd_check_config(args: argparse.Namespace) -> int:
    from auditwatch.checks import check_everything

    problems, summary = check_everything(Path(args.config))
    for line in summary:
        print(line)
    for problem in problems:
        print(problem, file=sys.stderr)
    return EXIT_CONFIG if any(p.level == "error" for p in problems) else EXIT_OK


def _cmd_parse(args: argparse.Namespace) -> int:
    from auditwatch.config import load_config
    from auditwatch.logsetup import configure_logging
    from auditwatch.parsecmd import UnreadableInput, check_readable, input_for, print_events, read_inputs
    from auditwatch.parsing import load_parsers

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
        )
    try:
        check_readable(args.files)
    except UnreadableInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    batches = read_inputs(spec, args.files, sys.stdin.buffer)
    _events, failures = print_events(parsers[spec.parser], batches, sys.stdout.buffer, sys.stderr)
    return EXIT_FINDINGS if failures else EXIT_OK


def _cmd_scan(args: argparse.Namespace) -> int:
    from auditwatch.scanning import print_alerts, scan_files

    result = scan_files(Path(args.config), args.files, parser_name=args.parser)
    print_alerts(result.alerts, args.format, sys.stdout)
    print(
        f"{result.records} records, {result.events} events, {len(result.dead)} unparsed, "
        f"{len(result.alerts)} alerts",
        file=sys.stderr,
    )
    for letter in result.dead[:20]:
        print(f"  unparsed {letter.raw.path}@{letter.raw.offset}: {letter.reason}", file=sys.stderr)
    return EXIT_FINDINGS if result.alerts else EXIT_OK


def _cmd_rules_lint(args: argparse.Namespace) -> int:
    from auditwatch.detection import lint_ruleset

    problems = lint_ruleset(args.rules_dir, args.lists_dir)
    for problem in problems:
        print(problem)
    errors = [p for p in problems if p.level == "error"]
    print(f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s)", file=sys.stderr)
    return EXIT_CONFIG if errors else EXIT_OK


def _cmd_rules_test(args: argparse.Namespace) -> int:
    import functools

    from auditwatch.config import load_config
    from auditwatch.detection import load_ruleset, run_rule_tests
    from auditwatch.detection.casetest import reference_from_rows

    config = load_config(args.config) if args.config else None
    rules_dir = args.rules_dir or (config.rules_dir if config else Path("rules"))
    lists_dir = args.lists_dir or (config.lists_dir if config and not args.rules_dir else None)
    rules = load_ruleset(rules_dir, lists_dir)
    factory = functools.partial(reference_from_rows, settings=config.reference) if config else None
    results = run_rule_tests(rules, factory, only=tuple(args.rule_ids))
    failed = [r for r in results if not r.passed]
    for result in results:
        print(("PASS " if result.passed else "FAIL ") + str(result))
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return EXIT_FINDINGS if failed else EXIT_OK


def _cmd_rules_names(_args: argparse.Namespace) -> int:
    from auditwatch.docs import names_markdown

    print(names_markdown(), end="")
    return EXIT_OK


def _cmd_rules_backtest(args: argparse.Namespace) -> int:
    from auditwatch.backtest import backtest_rule

    report = backtest_rule(Path(args.config), args.rule, since=args.since, samples=args.samples)
    print(report.render())
    return EXIT_OK


def _cmd_alerts(args: argparse.Namespace) -> int:
    from auditwatch.config import load_config
    from auditwatch.indexing import make_client
    from auditwatch.scanning import print_alert_documents
    from auditwatch.schema import IndexNames

    config = load_config(args.config)
    client = make_client(config.elasticsearch)
    names = IndexNames(config.elasticsearch.index_prefix)
    client.indices.refresh(index=names.alerts)
    resp = client.search(
        index=names.alerts,
        size=args.limit,
        sort=[{"@timestamp": "asc"}, {"rule.id": "asc"}],
        track_total_hits=True,
    )
    docs = [{"_id": hit["_id"], **hit["_source"]} for hit in resp["hits"]["hits"]]
    print_alert_documents(docs, args.format, sys.stdout)
    print(f"{resp['hits']['total']['value']} alert(s) in {names.alerts}", file=sys.stderr)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
