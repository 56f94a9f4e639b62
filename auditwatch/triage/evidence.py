"""Evidence packs: one alert, exported for a misconduct hearing, and checked again later.

`export_pack` writes into a directory:
- `evidence.json`: the alert, reasons, explanations tried (and why each failed), the raw source lines
  with file/offset, the SHA-1 recorded at ingest and a SHA-256, the user's activity timeline around
  the alert, the record's other viewers, and the triage history;
- `report.html`: the same, self-contained (inline CSS and an inline SVG chart, nothing fetched);
- `manifest.json`: the SHA-256 of both files and of every raw line.

`verify_pack` recomputes every hash; a changed byte in a file or a line is reported by name.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from elasticsearch import Elasticsearch

from auditwatch.errors import AuditwatchError
from auditwatch.schema import IndexNames
from auditwatch.triage.store import AlertStore, iso_now
from auditwatch.triage.workflow import describe

FORMAT: Final = "auditwatch-evidence-pack/1"
FILES: Final = ("evidence.json", "report.html")
TIMELINE_HOURS: Final = 24  # either side of the alert
_MAX_TIMELINE_EVENTS: Final = 10_000
BAR_COLOUR: Final = "#2458a6"
ALERT_COLOUR: Final = "#c0392b"


@dataclass(frozen=True, slots=True)
class VerifyResult:
    problems: tuple[str, ...]
    checked_files: int
    checked_lines: int

    @property
    def ok(self) -> bool:
        return not self.problems


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def sha1_text(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogateescape"), usedforsecurity=False).hexdigest()


def export_pack(client: Elasticsearch, names: IndexNames, alert_id: str, out: Path, *, by: str) -> Path:
    """Write the evidence pack of `alert_id` into `out` (created; must be empty) and return it."""
    snapshot = AlertStore(client, names).get(alert_id)
    doc, summary = snapshot.doc, snapshot.summary
    alert = doc.get("auditwatch", {}).get("alert", {})
    when = datetime.fromisoformat(summary.timestamp.replace("Z", "+00:00"))
    lines = [_line(item) for item in alert.get("evidence", [])]
    pack: dict[str, Any] = {
        "format": FORMAT,
        "exported_at": iso_now(),
        "exported_by": by,
        "alert_id": alert_id,
        "summary": {
            "rule": f"{summary.rule_id}: {summary.rule_name}",
            "severity": summary.severity,
            "risk_score": summary.risk_score,
            "when": summary.timestamp,
            "user": f"{summary.user_id} {summary.user_name}".strip(),
            "subject": summary.subject,
            "record": summary.record_id,
            "case": summary.case_id,
            "status": snapshot.triage["status"],
        },
        "reasons": list(summary.reasons),
        "explanations_tried": alert.get("explanations_tried", []),
        "also": alert.get("also", []),
        "matches": alert.get("matches", []),
        "context": alert.get("context", {}),
        "lines": lines,
        "timeline": _timeline(client, names, summary.user_id, when),
        "other_viewers": _other_viewers(client, names, summary.user_id, summary.record_id, doc),
        "triage_history": snapshot.triage["history"],
        "alert": doc,
    }
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise AuditwatchError(f"{out} is not empty: an evidence pack goes into a new directory")
    evidence = json.dumps(pack, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    (out / "evidence.json").write_text(evidence, encoding="utf-8")
    (out / "report.html").write_text(render_html(pack), encoding="utf-8")
    manifest = {
        "format": FORMAT,
        "alert_id": alert_id,
        "files": {name: _sha256_file(out / name) for name in FILES},
        "lines": [{"event_id": ln["event_id"], "sha256": ln["sha256"]} for ln in lines],
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return out


def verify_pack(directory: Path) -> VerifyResult:
    """Recompute the hashes of an evidence pack; every mismatch is a problem naming what changed."""
    problems: list[str] = []
    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return VerifyResult((f"manifest.json unreadable: {exc}",), 0, 0)
    for name, digest in sorted(manifest.get("files", {}).items()):
        path = directory / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif _sha256_file(path) != digest:
            problems.append(f"{name}: SHA-256 differs from the manifest (the file was changed)")
    checked = 0
    try:
        pack = json.loads((directory / "evidence.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problems.append(f"evidence.json unreadable: {exc}")
        return VerifyResult(tuple(problems), len(manifest.get("files", {})), 0)
    recorded = {item["event_id"]: item["sha256"] for item in manifest.get("lines", [])}
    for n, line in enumerate(pack.get("lines", []), 1):
        checked += 1
        text = line.get("original")
        if text is None:
            continue
        if sha256_text(text) != recorded.get(line.get("event_id")):
            problems.append(
                f"line {n} ({line.get('file')}@{line.get('offset')}): SHA-256 differs from the manifest"
            )
        if line.get("sha1_at_ingest") and sha1_text(text) != line["sha1_at_ingest"]:
            problems.append(
                f"line {n} ({line.get('file')}@{line.get('offset')}): differs from the line indexed"
            )
    return VerifyResult(tuple(problems), len(manifest.get("files", {})), checked)


def _line(item: Mapping[str, Any]) -> dict[str, Any]:
    text = item.get("original")
    return {
        "event_id": item.get("event_id"),
        "timestamp": item.get("@timestamp"),
        "file": item.get("file"),
        "offset": item.get("offset"),
        "action": item.get("action"),
        "original": text,
        "sha1_at_ingest": item.get("hash"),
        "sha256": sha256_text(text) if isinstance(text, str) else None,
        "matches_ingest_hash": (sha1_text(text) == item.get("hash")) if isinstance(text, str) else None,
    }


def _timeline(client: Elasticsearch, names: IndexNames, user: str, when: datetime) -> dict[str, Any]:
    start, end = when - timedelta(hours=TIMELINE_HOURS), when + timedelta(hours=TIMELINE_HOURS)
    resp = client.search(
        index=names.events_pattern,
        query={
            "bool": {
                "filter": [
                    {"term": {"user.id": user}},
                    {"range": {"@timestamp": {"gte": start.isoformat(), "lt": end.isoformat()}}},
                ]
            }
        },
        size=200,
        sort=[{"@timestamp": "asc"}],
        source_includes=[
            "@timestamp",
            "event.action",
            "auditwatch.record.id",
            "auditwatch.subject.person_id",
        ],
        aggs={
            "per_hour": {
                "date_histogram": {
                    "field": "@timestamp",
                    "fixed_interval": "1h",
                    "min_doc_count": 0,
                    "extended_bounds": {"min": start.isoformat(), "max": end.isoformat()},
                }
            }
        },
        track_total_hits=_MAX_TIMELINE_EVENTS,
        ignore_unavailable=True,
        allow_no_indices=True,
    )
    buckets = resp.get("aggregations", {}).get("per_hour", {}).get("buckets", [])
    return {
        "start": start.isoformat().replace("+00:00", "Z"),
        "end": end.isoformat().replace("+00:00", "Z"),
        "alert_at": when.isoformat().replace("+00:00", "Z"),
        "per_hour": [{"hour": b["key_as_string"], "events": b["doc_count"]} for b in buckets],
        "total": resp["hits"]["total"]["value"],
        "events": [
            {
                "timestamp": h["_source"].get("@timestamp"),
                "action": h["_source"].get("event.action"),
                "record": h["_source"].get("auditwatch.record.id"),
                "subject": h["_source"].get("auditwatch.subject.person_id"),
            }
            for h in resp["hits"]["hits"]
        ],
    }


def _other_viewers(
    client: Elasticsearch, names: IndexNames, user: str, record: str, doc: Mapping[str, Any]
) -> list[dict[str, Any]]:
    person = doc.get("auditwatch", {}).get("subject", {}).get("person_id")
    should = []
    if record:
        should.append({"term": {"auditwatch.record.id": record}})
    if person:
        should.append({"term": {"auditwatch.subject.person_id": person}})
    if not should:
        return []
    resp = client.search(
        index=names.events_pattern,
        query={
            "bool": {"should": should, "minimum_should_match": 1, "must_not": [{"term": {"user.id": user}}]}
        },
        size=0,
        aggs={
            "users": {
                "terms": {"field": "user.id", "size": 100},
                "aggs": {"first": {"min": {"field": "@timestamp"}}, "last": {"max": {"field": "@timestamp"}}},
            }
        },
        ignore_unavailable=True,
        allow_no_indices=True,
    )
    return [
        {
            "user": b["key"],
            "accesses": b["doc_count"],
            "first": b["first"].get("value_as_string"),
            "last": b["last"].get("value_as_string"),
        }
        for b in resp.get("aggregations", {}).get("users", {}).get("buckets", [])
    ]


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- HTML -------------------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1b1b1b;background:#fff}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:24px 0 8px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%} td,th{border:1px solid #ddd;padding:4px 6px;text-align:left;
vertical-align:top} th{background:#f3f3f3} code,pre{font:12px/1.4 ui-monospace,monospace}
pre{white-space:pre-wrap;word-break:break-all;background:#f7f7f7;padding:6px;margin:4px 0}
.muted{color:#666} .bad{color:#a00} .ok{color:#060}
"""


def render_html(pack: Mapping[str, Any]) -> str:
    e = html.escape
    s = pack["summary"]
    rows = "".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in s.items())
    reasons = "".join(f"<li>{e(r)}</li>" for r in pack["reasons"])
    tried = "".join(
        f"<tr><td>{e(str(t.get('label')))}</td><td>{e(str(t.get('result')))}</td></tr>"
        for t in pack["explanations_tried"]
    )
    also = "".join(f"<li>{e(str(a.get('rule_id')))}: {e(str(a.get('reason')))}</li>" for a in pack["also"])
    matches = "".join(
        f"<li>{e(str(m.get('summary')))} <span class='muted'>[{e(str(m.get('source')))}, as of "
        f"{e(str(m.get('as_of')))}]</span></li>"
        for m in pack["matches"]
    )
    lines = "".join(
        f"<tr><td>{e(str(ln['timestamp']))}<br><code>{e(str(ln['file']))}@{e(str(ln['offset']))}</code></td>"
        f"<td><pre>{e(str(ln['original']))}</pre><code>SHA-256 {e(str(ln['sha256']))}</code><br>"
        f"<code>SHA-1 at ingest {e(str(ln['sha1_at_ingest']))}</code> "
        f"<span class='{'ok' if ln['matches_ingest_hash'] else 'bad'}'>"
        f"{'matches the line indexed' if ln['matches_ingest_hash'] else 'DOES NOT match the line indexed'}"
        f"</span></td></tr>"
        for ln in pack["lines"]
    )
    viewers = (
        "".join(
            f"<tr><td>{e(str(v['user']))}</td><td>{v['accesses']}</td><td>{e(str(v['first']))}</td>"
            f"<td>{e(str(v['last']))}</td></tr>"
            for v in pack["other_viewers"]
        )
        or "<tr><td colspan='4' class='muted'>nobody else</td></tr>"
    )
    history = "".join(f"<li><code>{e(line)}</code></li>" for line in describe(pack["triage_history"]))
    timeline = pack["timeline"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Evidence pack {e(pack["alert_id"])}</title>
<style>{_CSS}</style></head><body>
<h1>Evidence pack: {e(s["rule"])}</h1>
<p class="muted">alert {e(pack["alert_id"])} · exported {e(pack["exported_at"])} by {e(pack["exported_by"])} ·
format {e(pack["format"])} · hashes in manifest.json (<code>auditwatch alerts verify DIR</code>)</p>
<h2>User activity around the alert</h2>
<div id="timeline">{timeline_svg(timeline)}</div>
<p class="muted">{timeline["total"]} event(s) by this user from {e(timeline["start"])}
to {e(timeline["end"])}, per hour; the red line is the alert.</p>
<h2>Alert</h2><table>{rows}</table>
<h2>Why it fired</h2><ul>{reasons}</ul>
{f"<h2>Also unexplained</h2><ul>{also}</ul>" if also else ""}
<h2>Explanations tried</h2><table><tr><th>explanation</th><th>result</th></tr>{tried}</table>
{f"<h2>Reference matches</h2><ul>{matches}</ul>" if matches else ""}
<h2>Source lines</h2><table><tr><th>when / where</th><th>line, exactly as logged</th></tr>{lines}</table>
<h2>Other viewers of the record</h2>
<table><tr><th>user</th><th>accesses</th><th>first</th><th>last</th></tr>{viewers}</table>
<h2>Triage history</h2><ul>{history or "<li class='muted'>no triage yet</li>"}</ul>
</body></html>
"""


def timeline_svg(timeline: Mapping[str, Any], width: int = 960, height: int = 220) -> str:
    """Events per hour as bars, the alert as a red line; inline SVG, no script."""
    hours: Sequence[Mapping[str, Any]] = timeline["per_hour"]
    top, bottom, left = 16, 28, 40
    plot_w, plot_h = width - left - 8, height - top - bottom
    peak = max([h["events"] for h in hours] + [1])
    n = max(len(hours), 1)
    bar_w = plot_w / n
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="events per hour">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 8}" y2="{top + plot_h}" stroke="#888"/>',
        f'<text x="4" y="{top + 10}" font-size="11" fill="#444">{peak}</text>',
        f'<text x="4" y="{top + plot_h}" font-size="11" fill="#444">0</text>',
    ]
    for i, bucket in enumerate(hours):
        h = plot_h * bucket["events"] / peak
        if h > 0:
            x = left + i * bar_w
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{top + plot_h - h:.1f}" width="{max(bar_w - 2, 1):.1f}" '
                f'height="{h:.1f}" fill="{BAR_COLOUR}"><title>{html.escape(str(bucket["hour"]))}: '
                f"{bucket['events']}</title></rect>"
            )
        if i % 6 == 0:
            label = html.escape(str(bucket["hour"])[5:16].replace("T", " "))
            parts.append(
                f'<text x="{left + i * bar_w:.1f}" y="{height - 8}" font-size="10" fill="#444">{label}</text>'
            )
    start = _parse(timeline["start"])
    end = _parse(timeline["end"])
    at = _parse(timeline["alert_at"])
    if start and end and at and end > start:
        ax = left + plot_w * (at - start).total_seconds() / (end - start).total_seconds()
        parts.append(
            f'<line x1="{ax:.1f}" y1="{top}" x2="{ax:.1f}" y2="{top + plot_h}" stroke="{ALERT_COLOUR}" '
            'stroke-width="3"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _parse(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except (TypeError, ValueError):
        return None
