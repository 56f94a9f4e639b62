"""`auditwatch alerts list|show|assign|close|reopen|refer|export|verify`: the reviewer's commands
(logic in auditwatch.triage)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import orjson

from auditwatch.commands import EXIT_FINDINGS, EXIT_OK

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from auditwatch.triage import AlertStore


def _alert_store(args: argparse.Namespace) -> tuple[Elasticsearch, AlertStore]:
    from auditwatch.config.daemon import load_config
    from auditwatch.indexing import make_client
    from auditwatch.schema import IndexNames
    from auditwatch.triage import AlertStore

    config = load_config(args.config)
    client = make_client(config.elasticsearch)
    return client, AlertStore(client, IndexNames(config.elasticsearch.index_prefix), config.triage)


def _split(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def cmd_list(args: argparse.Namespace) -> int:
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


def cmd_show(args: argparse.Namespace) -> int:
    from auditwatch.triage.render import show_json, show_text

    _client, store = _alert_store(args)
    snapshot = store.get(args.alert_id)
    (show_json if args.json else show_text)(snapshot, sys.stdout)
    return EXIT_OK


def cmd_triage(args: argparse.Namespace) -> int:
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


def cmd_export(args: argparse.Namespace) -> int:
    from auditwatch.schema import IndexNames
    from auditwatch.triage import reviewer_name
    from auditwatch.triage.evidence import export_pack

    client, store = _alert_store(args)
    by = reviewer_name(client, args.by)
    out = export_pack(client, IndexNames(store.names.prefix), args.alert_id, args.out, by=by)
    print(f"evidence pack for {args.alert_id} in {out}: report.html, evidence.json, manifest.json")
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from auditwatch.triage.evidence import verify_pack

    result = verify_pack(args.directory)
    for problem in result.problems:
        print(f"MISMATCH {problem}")
    verdict = "intact" if result.ok else "CHANGED"
    counted = f"{result.checked_files} files, {result.checked_lines} source lines checked"
    print(f"{args.directory}: {verdict} ({counted})")
    return EXIT_OK if result.ok else EXIT_FINDINGS
