"""The `auditwatch` command line: run, setup, check-config, parse, scan, rules, alerts."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import structlog

from auditwatch import __version__
from auditwatch.errors import AuditwatchError, ConfigError

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from auditwatch.triage import AlertStore

DEFAULT_CONFIG = "/etc/auditwatch/auditwatch.yml"
EXIT_OK, EXIT_FINDINGS, EXIT_CONFIG, EXIT_RUNTIME = 0, 1, 2, 3

log = structlog.get_logger("auditwatch.cli")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(_default_alerts_verb(sys.argv[1:] if argv is None else list(argv)))
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


_ID_VERBS = frozenset({"show", "assign", "close", "reopen", "refer", "export"})
_ALERT_ID_LENGTH = 27  # base64url SHA-1: may begin with '-', which argparse would take for an option


def _default_alerts_verb(argv: list[str]) -> list[str]:
    """`auditwatch alerts [options]` (no verb) means `auditwatch alerts list [options]`; an alert id
    that begins with '-' right after its verb is moved behind `--` so it is read as the id."""
    for i, arg in enumerate(argv):
        if arg == "alerts":
            following = argv[i + 1] if i + 1 < len(argv) else None
            if following is None or (following.startswith("-") and following not in ("-h", "--help")):
                return [*argv[: i + 1], "list", *argv[i + 1 :]]
            ident = argv[i + 2] if i + 2 < len(argv) else ""
            if following in _ID_VERBS and ident.startswith("-") and len(ident) == _ALERT_ID_LENGTH:
                return [*argv[: i + 2], *argv[i + 3 :], "--", ident]
            return argv
        if not arg.startswith("-") and (i == 0 or argv[i - 1] != "--log-level"):
            return argv  # another command
    return argv


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
    setup.add_argument(
        "--security",
        action="store_true",
        help="also create the setup, daemon and reviewer roles through the role API "
        "(with --print: show the role and API-key request bodies)",
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
    lint.add_argument("--rules-dir", type=Path, default=None, help="default: config rules_dir, else ./rules")
    lint.add_argument("--lists-dir", type=Path, default=None)
    lint.add_argument(
        "-c",
        "--config",
        default=os.environ.get("AUDITWATCH_CONFIG"),
        help="take rules_dir and lists_dir from this config (default: $AUDITWATCH_CONFIG)",
    )
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

    backfill = with_config(
        sub.add_parser(
            "backfill",
            help="index old or archived audit files through the daemon's pipeline (idempotent)",
            description="Example: auditwatch backfill /archive/rms/audit.log.2025-*.gz. Files are matched "
            "to the config's inputs by their globs (or all read with --parser). Running it twice adds "
            "nothing. Exit 0, 1 if lines were dead-lettered, 2 on a config or setup problem, 3 on a "
            "runtime error.",
        )
    )
    backfill.add_argument("--parser", help="parser for every file (default: the input whose glob matches)")
    backfill.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    backfill.add_argument("files", nargs="+", type=Path)
    backfill.set_defaults(func=_cmd_backfill)

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

    _add_alerts_commands(sub, with_config)
    _add_kibana_commands(sub)
    risk = sub.add_parser("risk", help="early intervention: per-user rolling risk from recent alerts")
    risk_verbs = risk.add_subparsers(dest="risk_command", required=True)
    update = with_config(risk_verbs.add_parser("update", help="recompute <prefix>-risk (cron / timer)"))
    update.set_defaults(func=_cmd_risk_update)
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
        if args.security:
            from auditwatch.indexing.security import api_key_requests, role_descriptors

            bodies["roles"] = role_descriptors(names)
            bodies["api_keys"] = api_key_requests(names)
        print(orjson.dumps(bodies, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())
        return EXIT_OK
    client = make_client(config.elasticsearch)
    for line in setup_cluster(client, names):
        print(line)
    if args.security:
        from auditwatch.indexing.security import apply_roles

        lines = apply_roles(client, names)
        for line in lines:
            print(line)
        if any("NOT applied" in line for line in lines):
            return EXIT_RUNTIME
    return EXIT_OK


def _cmd_backfill(args: argparse.Namespace) -> int:
    from auditwatch.commands.backfill import backfill

    missing = [f for f in args.files if not f.is_file()]
    if missing:
        print(f"error: not a readable file: {missing[0]}", file=sys.stderr)
        return EXIT_CONFIG
    report = backfill(
        Path(args.config),
        args.files,
        parser_name=args.parser,
        progress=not args.no_progress and sys.stderr.isatty(),
    )
    print(
        f"backfill: {report.records} records, {report.created} documents new, "
        f"{report.duplicates} already indexed, {report.dead_letters} dead letters, {report.alerts} alerts"
    )
    return EXIT_FINDINGS if report.dead_letters else EXIT_OK


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

    missing = [f for f in args.files if not f.is_file()]
    if missing:
        print(f"error: not a readable file: {missing[0]}", file=sys.stderr)
        return EXIT_CONFIG
    result = scan_files(
        Path(args.config), args.files, parser_name=args.parser, progress=sys.stderr.isatty()
    )
    print_alerts(result.alerts, args.format, sys.stdout)
    print(
        f"{result.records} records, {result.events} events, {len(result.dead)} unparsed, "
        f"{len(result.alerts)} alerts",
        file=sys.stderr,
    )
    for letter in result.dead[:20]:
        print(f"  unparsed {letter.raw.path}@{letter.raw.offset}: {letter.reason}", file=sys.stderr)
    return EXIT_FINDINGS if result.alerts or result.dead else EXIT_OK


def _cmd_rules_lint(args: argparse.Namespace) -> int:
    from auditwatch.config import load_config
    from auditwatch.detection import lint_ruleset

    config = load_config(args.config) if args.config and not args.rules_dir else None
    rules_dir = args.rules_dir or (config.rules_dir if config else Path("rules"))
    lists_dir = args.lists_dir or (config.lists_dir if config else None)
    problems = lint_ruleset(rules_dir, lists_dir)
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


def _cmd_rules_names(_args: argparse.Namespace) -> int:
    from auditwatch.docs import names_markdown

    print(names_markdown(), end="")
    return EXIT_OK


def _cmd_rules_backtest(args: argparse.Namespace) -> int:
    from auditwatch.backtest import backtest_rule

    report = backtest_rule(Path(args.config), args.rule, since=args.since, samples=args.samples)
    print(report.render())
    return EXIT_OK


# -- alerts: the reviewer's commands (logic in auditwatch.triage) ------------------------------------


def _add_alerts_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    with_config: Callable[[argparse.ArgumentParser], argparse.ArgumentParser],
) -> None:
    alerts = sub.add_parser("alerts", help="list, show, triage and export alerts (reviewers)")
    verbs = alerts.add_subparsers(dest="alerts_command", required=True)

    def verb(name: str, help_text: str) -> argparse.ArgumentParser:
        return with_config(verbs.add_parser(name, help=help_text))

    ls = verb("list", "alerts newest first, with filters")
    ls.add_argument(
        "--status",
        action="append",
        default=[],
        help="open, new, under_review, awaiting_second_review, closed, referred (repeat or comma-separate)",
    )
    ls.add_argument("--severity", action="append", default=[], help="low, medium, high, critical")
    ls.add_argument("--rule", action="append", default=[], help="rule id")
    ls.add_argument("--user", action="append", default=[], help="user id (staff number)")
    ls.add_argument("--case", action="append", default=[], help="case id (one user and day)")
    ls.add_argument("--since", help="a duration (30d, 12h) or a date (2026-11-25)")
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--json", action="store_true", help="JSON (summaries and totals) instead of a table")
    ls.add_argument(
        "--format", choices=["table", "jsonl"], default="table", help="jsonl: each alert document, with _id"
    )
    ls.set_defaults(func=_cmd_alerts_list)

    show = verb("show", "one alert in full: reasons, explanations tried, evidence, history")
    show.add_argument("alert_id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_cmd_alerts_show)

    def triage_verb(name: str, help_text: str) -> argparse.ArgumentParser:
        sp = verb(name, help_text)
        sp.add_argument("alert_id")
        sp.add_argument(
            "--by",
            help="your name when Elasticsearch security is off "
            "(default $AUDITWATCH_REVIEWER or your login); with security on, your ES user",
        )
        sp.set_defaults(func=_cmd_alerts_triage, verb=name)
        return sp

    assign = triage_verb("assign", "take an alert under review (or give it to someone)")
    assign.add_argument("--to", dest="assignee", help="reviewer to assign to (default: you)")
    assign.add_argument("--reason", default="")
    close = triage_verb("close", "close an alert with an outcome")
    close.add_argument(
        "--as", dest="outcome", required=True, choices=["upheld", "explained", "false-positive"]
    )
    close.add_argument("--reason", required=True)
    reopen = triage_verb("reopen", "reopen a closed or referred alert")
    reopen.add_argument("--reason", required=True)
    refer = triage_verb("refer", "refer an alert (e.g. to the ACU case officer)")
    refer.add_argument("--to", dest="referred_to", required=True)
    refer.add_argument("--reason", required=True)

    export = verb("export", "write an evidence pack (HTML report, JSON twin, manifest of hashes)")
    export.add_argument("alert_id")
    export.add_argument("--out", required=True, type=Path, help="a new (or empty) directory")
    export.add_argument("--by", help="your name when Elasticsearch security is off")
    export.set_defaults(func=_cmd_alerts_export)
    check = verbs.add_parser("verify", help="re-check an evidence pack's hashes")
    check.add_argument("directory", type=Path)
    check.set_defaults(func=_cmd_alerts_verify)


def _alert_store(args: argparse.Namespace) -> tuple[Elasticsearch, AlertStore]:
    from auditwatch.config import load_config
    from auditwatch.indexing import make_client
    from auditwatch.schema import IndexNames
    from auditwatch.triage import AlertStore

    config = load_config(args.config)
    client = make_client(config.elasticsearch)
    return client, AlertStore(client, IndexNames(config.elasticsearch.index_prefix), config.triage)


def _split(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def _cmd_alerts_list(args: argparse.Namespace) -> int:
    from auditwatch.triage import Filters
    from auditwatch.triage.render import listing_json, listing_table

    _client, store = _alert_store(args)
    filters = Filters(
        status=_split(args.status),
        severity=_split(args.severity),
        rule=_split(args.rule),
        user=_split(args.user),
        case=_split(args.case),
        since=args.since,
        limit=args.limit,
    )
    listing = store.list(filters)
    if args.format == "jsonl":
        for doc in listing.documents:
            sys.stdout.write(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS).decode() + "\n")
    elif args.json:
        listing_json(listing, sys.stdout)
    else:
        listing_table(listing, sys.stdout)
        more = "" if listing.total_is_exact else " or more"
        print(f"{len(listing.alerts)} shown of {listing.total}{more} matching alert(s)", file=sys.stderr)
    return EXIT_OK


def _cmd_alerts_show(args: argparse.Namespace) -> int:
    from auditwatch.triage.render import show_json, show_text

    _client, store = _alert_store(args)
    snapshot = store.get(args.alert_id)
    (show_json if args.json else show_text)(snapshot, sys.stdout)
    return EXIT_OK


def _cmd_alerts_triage(args: argparse.Namespace) -> int:
    from auditwatch.triage import Action, TriageConflict, reviewer_name

    client, store = _alert_store(args)
    by = reviewer_name(client, args.by)
    action = Action(
        verb=args.verb,
        by=by,
        reason=args.reason or "",
        assignee=(args.assignee or by) if args.verb == "assign" else None,
        outcome=getattr(args, "outcome", None),
        referred_to=getattr(args, "referred_to", None),
    )
    try:
        done = store.act(args.alert_id, action)
    except TriageConflict as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FINDINGS
    triage = done.triage
    print(f"{args.alert_id}: {triage['history'][-1]['from']} -> {triage['status']} (by {by})")
    if triage["status"] == "awaiting_second_review":
        print("closing this alert needs a second reviewer: another reviewer runs the same close command")
    return EXIT_OK


def _cmd_alerts_export(args: argparse.Namespace) -> int:
    from auditwatch.schema import IndexNames
    from auditwatch.triage import reviewer_name
    from auditwatch.triage.evidence import export_pack

    client, store = _alert_store(args)
    by = reviewer_name(client, args.by)
    out = export_pack(client, IndexNames(store.names.prefix), args.alert_id, args.out, by=by)
    print(f"evidence pack for {args.alert_id} in {out}: report.html, evidence.json, manifest.json")
    return EXIT_OK


def _cmd_alerts_verify(args: argparse.Namespace) -> int:
    from auditwatch.triage.evidence import verify_pack

    result = verify_pack(args.directory)
    for problem in result.problems:
        print(f"MISMATCH {problem}")
    verdict = "intact" if result.ok else "CHANGED"
    counted = f"{result.checked_files} files, {result.checked_lines} source lines checked"
    print(f"{args.directory}: {verdict} ({counted})")
    return EXIT_OK if result.ok else EXIT_FINDINGS


def _cmd_risk_update(args: argparse.Namespace) -> int:
    from auditwatch.config import load_config
    from auditwatch.indexing import make_client
    from auditwatch.schema import IndexNames
    from auditwatch.triage.risk import update_risk

    config = load_config(args.config)
    names = IndexNames(config.elasticsearch.index_prefix)
    above = update_risk(make_client(config.elasticsearch), names, config.risk)
    print(f"{len(above)} member(s) of staff at or above risk {config.risk.threshold}:")
    for risk in above:
        top = ", ".join(sorted(risk.rules, key=lambda r: -risk.rules[r])[:3])
        print(f"  {risk.user_id:<12} {risk.score:7.0f}  {risk.alerts} alert(s), {risk.open} open  ({top})")
    return EXIT_OK


# -- kibana: install the reviewers' saved objects (logic in auditwatch.kibana) -----------------------


def _add_kibana_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    kibana = sub.add_parser("kibana", help="Kibana assets for reviewers")
    verbs = kibana.add_subparsers(dest="kibana_command", required=True)
    install = verbs.add_parser("install", help="import the data views, searches, dashboard and rule")
    install.add_argument("--url", required=True, help="Kibana base URL, e.g. https://kibana.example:5601")
    install.add_argument("--space", help="Kibana space id (default: the default space)")
    install.add_argument("--api-key-file", help="file holding a Kibana/Elasticsearch API key (encoded)")
    install.add_argument("--api-key-env", help="environment variable holding the API key")
    install.add_argument("--username")
    install.add_argument("--password-file")
    install.add_argument("--password-env")
    install.add_argument("--ca-certs", help="CA bundle to verify Kibana's certificate")
    install.add_argument("--insecure", action="store_true", help="do not verify Kibana's certificate")
    install.add_argument(
        "--no-detection-rule", action="store_true", help="skip the Security-app rule (no Security app)"
    )
    install.set_defaults(func=_cmd_kibana_install)


def _cmd_kibana_install(args: argparse.Namespace) -> int:
    from auditwatch.kibana import assets
    from auditwatch.kibana.install import KibanaTarget, install, secret_from

    password = secret_from(args.password_file, args.password_env)
    target = KibanaTarget(
        url=args.url,
        space=args.space,
        api_key=secret_from(args.api_key_file, args.api_key_env),
        basic_auth=(args.username, password) if args.username and password is not None else None,
        ca_certs=args.ca_certs,
        verify=not args.insecure,
    )
    rules = None if args.no_detection_rule else assets.RULES_NDJSON.read_bytes()
    failed = False
    for result in install(target, assets.NDJSON.read_bytes(), rules):
        print(f"{result.what}: {result.imported} imported, {len(result.failures)} failed")
        for failure in result.failures:
            print(f"  FAILED {failure}")
        failed = failed or not result.ok
    return EXIT_FINDINGS if failed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
