"""Alerts for people (a table, one alert in full) and for programs (JSON)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any, TextIO

import orjson

from auditwatch.model import AlertSummary, field_value
from auditwatch.triage.store import Listing, Snapshot
from auditwatch.triage.workflow import describe

_WHY_WIDTH = 90


def listing_table(listing: Listing, out: TextIO) -> None:
    rows = [
        (s.id, s.timestamp[:19], s.severity, f"{s.risk_score:g}", s.status, s.rule_id, s.user_id, s.case_id)
        for s in listing.alerts
    ]
    headers = ("alert id", "time (UTC)", "severity", "risk", "status", "rule", "user", "case")
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    out.write("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + "  why\n")
    for row, summary in zip(rows, listing.alerts, strict=True):
        why = summary.why if len(summary.why) <= _WHY_WIDTH else summary.why[: _WHY_WIDTH - 1] + "…"
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + "  " + why + "\n")


def listing_json(listing: Listing, out: TextIO) -> None:
    body = {
        "total": listing.total,
        "total_is_exact": listing.total_is_exact,
        "alerts": [_summary_json(s) for s in listing.alerts],
    }
    out.write(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n")


def _summary_json(summary: AlertSummary) -> dict[str, Any]:
    out = asdict(summary)
    out["reasons"] = list(summary.reasons)
    return out


def show_json(snapshot: Snapshot, out: TextIO) -> None:
    body = {"id": snapshot.id, "summary": _summary_json(snapshot.summary), "alert": snapshot.doc}
    out.write(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n")


def show_text(snapshot: Snapshot, out: TextIO) -> None:
    """One alert in full: who, what, why, the explanations tried, the evidence, the triage history."""
    s, doc = snapshot.summary, snapshot.doc
    triage = snapshot.triage
    w = out.write
    w(f"alert {s.id}\n")
    w(f"  rule      {s.rule_id}: {s.rule_name}\n")
    w(f"  severity  {s.severity} (risk {s.risk_score:g})\n")
    w(f"  when      {s.timestamp}\n")
    w(f"  user      {s.user_id} {s.user_name}".rstrip() + "\n")
    w(f"  subject   {s.subject or '-'}\n")
    w(f"  case      {s.case_id}\n")
    w(f"  status    {triage['status']}")
    for key in ("outcome", "assignee", "referred_to"):
        if triage.get(key):
            w(f", {key.replace('_', ' ')} {triage[key]}")
    w("\n\nwhy\n")
    for reason in s.reasons:
        w(f"  - {reason}\n")
    tried = field_value(doc, "auditwatch.alert.explanations_tried")
    if isinstance(tried, list) and tried:
        w("\nexplanations tried\n")
        for item in tried:
            if isinstance(item, Mapping):
                w(f"  - {item.get('label')}: {item.get('result')}\n")
    also = field_value(doc, "auditwatch.alert.also")
    if isinstance(also, list) and also:
        w("\nalso\n")
        for item in also:
            if isinstance(item, Mapping):
                w(f"  - {item.get('rule_id')}: {item.get('reason')}\n")
    matches = field_value(doc, "auditwatch.alert.matches")
    if isinstance(matches, list) and matches:
        w("\nreference matches\n")
        for item in matches:
            if isinstance(item, Mapping):
                w(f"  - {item.get('summary')} [{item.get('source')}, as of {item.get('as_of')}]\n")
    evidence = field_value(doc, "auditwatch.alert.evidence")
    if isinstance(evidence, list) and evidence:
        total = field_value(doc, "auditwatch.alert.evidence_total")
        w(f"\nevidence ({len(evidence)} of {total} event(s))\n")
        for item in evidence:
            if isinstance(item, Mapping):
                _evidence(item, out)
    guide = field_value(doc, "auditwatch.alert.triage_guide")
    if isinstance(guide, str) and guide.strip():
        w("\ntriage guide\n")
        for line in guide.strip().splitlines():
            w(f"  {line}\n")
    w("\nhistory\n")
    lines = describe(triage["history"]) or ["(no triage yet)"]
    for line in lines:
        w(f"  {line}\n")


def _evidence(item: Mapping[str, Any], out: TextIO) -> None:
    out.write(
        f"  - {item.get('@timestamp')}  {item.get('action') or ''}  {item.get('file')}@{item.get('offset')}\n"
    )
    if item.get("hash"):
        out.write(f"    event.hash {item['hash']}\n")
    if item.get("original"):
        out.write(f"    | {item['original']}\n")


def print_lines(lines: Sequence[str], out: TextIO) -> None:
    for line in lines:
        out.write(line + "\n")
