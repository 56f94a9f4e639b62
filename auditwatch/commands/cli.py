"""The `auditwatch` command line: run, setup, check-config, parse, scan, rules, alerts."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from auditwatch import __version__
from auditwatch.commands import DEFAULT_CONFIG, EXIT_CONFIG, EXIT_FINDINGS, EXIT_OK, EXIT_RUNTIME
from auditwatch.errors import AuditwatchError, ConfigError

__all__ = ["DEFAULT_CONFIG", "EXIT_CONFIG", "EXIT_FINDINGS", "EXIT_OK", "EXIT_RUNTIME", "main"]

Command = Callable[[argparse.Namespace], int]


def _verb(module: str, function: str) -> Command:
    """The command `function` of `auditwatch.commands.<module>`, imported only when it runs: each verb
    loads what it needs and nothing else (`rules lint` loads no Elasticsearch client)."""

    def run(args: argparse.Namespace) -> int:
        command: Command = getattr(importlib.import_module(f"auditwatch.commands.{module}"), function)
        return command(args)

    return run


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(_default_alerts_verb(sys.argv[1:] if argv is None else list(argv)))
    from auditwatch.service.logsetup import configure_logging

    configure_logging(
        getattr(args, "log_level", None) or "info",
        "console" if sys.stderr.isatty() else "json",
        libraries="warning" if args.command == "run" else "error",
    )
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
    except AuditwatchError as exc:
        if _is_cluster_not_ready(exc):  # restarting cannot help: an operator has to act
            print(f"Elasticsearch is not set up for auditwatch: {exc}", file=sys.stderr)
            return EXIT_CONFIG
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_RUNTIME
    except Exception as exc:
        if args.debug or not _is_elasticsearch_error(exc):
            raise
        print(f"error: Elasticsearch: {_es_reason(exc)} (--debug for details)", file=sys.stderr)
        return EXIT_RUNTIME
    except KeyboardInterrupt:
        return 130


# The exception classes are looked up, not imported: a verb that never loaded the Elasticsearch
# client (`rules lint`, `parse` without a config, ...) cannot have raised one, and stays light.


def _is_cluster_not_ready(exc: Exception) -> bool:
    verify = sys.modules.get("auditwatch.indexing.verify")
    return verify is not None and isinstance(exc, verify.ClusterNotReady)


def _is_elasticsearch_error(exc: Exception) -> bool:
    es = sys.modules.get("elasticsearch")
    return es is not None and isinstance(exc, (es.TransportError, es.ApiError))


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
    run.set_defaults(func=_verb("run", "cmd_run"))

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
    setup.set_defaults(func=_verb("setup", "cmd_setup"))

    check = with_config(sub.add_parser("check-config", help="validate config, parsers, rules and reference"))
    check.set_defaults(func=_verb("check_config", "cmd_check_config"))

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
    parse.set_defaults(func=_verb("parse", "cmd_parse"))

    scan = with_config(sub.add_parser("scan", help="parse and detect without Elasticsearch"))
    scan.add_argument("--parser", help="parser for every file (default: the config input whose glob matches)")
    scan.add_argument("--format", choices=["jsonl", "table"], default="table")
    scan.add_argument("files", nargs="+", type=Path)
    scan.set_defaults(func=_verb("scan", "cmd_scan"))

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
    lint.set_defaults(func=_verb("rules", "cmd_lint"))
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
    rtest.set_defaults(func=_verb("rules", "cmd_test"))
    names = rules_sub.add_parser("names", help="list every signal, explanation and reference value")
    names.set_defaults(func=_verb("rules", "cmd_names"))
    backtest = with_config(
        rules_sub.add_parser("backtest", help="alerts a rule would have raised on history")
    )
    backtest.add_argument("rule", help="rule id, or path of a rule file (e.g. a new rule not yet deployed)")
    backtest.add_argument("--since", default="30d", help="how far back, e.g. 30d, 12h (%(default)s)")
    backtest.add_argument("--samples", type=int, default=5)
    backtest.set_defaults(func=_verb("rules", "cmd_backtest"))

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
    backfill.set_defaults(func=_verb("backfill", "cmd_backfill"))

    status = with_config(
        sub.add_parser(
            "status",
            help="per-file delivery lag (checkpoint) and the daemon's last heartbeat (Elasticsearch)",
            description="Example: auditwatch status --config /etc/auditwatch/auditwatch.yml. "
            "Exit 0, or 3 when Elasticsearch could not be asked (the local part is still printed).",
        )
    )
    status.set_defaults(func=_verb("status", "cmd_status"))

    test = sub.add_parser("test", help="check connectivity (like `filebeat test output`)")
    test_sub = test.add_subparsers(dest="test_command", required=True)
    output = with_config(
        test_sub.add_parser(
            "output",
            help="connection, TLS, authentication, the daemon's privileges and the templates, step by step",
            description="Example: auditwatch test output. Exit 0 when every step is ok, else 3.",
        )
    )
    output.set_defaults(func=_verb("test_output", "cmd_test_output"))

    _add_alerts_commands(sub, with_config)
    _add_kibana_commands(sub)
    risk = sub.add_parser("risk", help="early intervention: per-user rolling risk from recent alerts")
    risk_verbs = risk.add_subparsers(dest="risk_command", required=True)
    update = with_config(risk_verbs.add_parser("update", help="recompute <prefix>-risk (cron / timer)"))
    update.set_defaults(func=_verb("risk", "cmd_update"))
    return p


# -- alerts: the reviewer's commands (in auditwatch.commands.alerts) ------------------------------------


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
    ls.set_defaults(func=_verb("alerts", "cmd_list"))

    show = verb("show", "one alert in full: reasons, explanations tried, evidence, history")
    show.add_argument("alert_id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_verb("alerts", "cmd_show"))

    def triage_verb(name: str, help_text: str) -> argparse.ArgumentParser:
        sp = verb(name, help_text)
        sp.add_argument("alert_id")
        sp.add_argument(
            "--by",
            help="your name when Elasticsearch security is off "
            "(default $AUDITWATCH_REVIEWER or your login); with security on, your ES user",
        )
        sp.set_defaults(func=_verb("alerts", "cmd_triage"), verb=name)
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
    export.set_defaults(func=_verb("alerts", "cmd_export"))
    check = verbs.add_parser("verify", help="re-check an evidence pack's hashes")
    check.add_argument("directory", type=Path)
    check.set_defaults(func=_verb("alerts", "cmd_verify"))


# -- kibana: install the reviewers' saved objects (in auditwatch.commands.kibana) -----------------------


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
    install.set_defaults(func=_verb("kibana", "cmd_install"))


if __name__ == "__main__":
    sys.exit(main())
