"""Alerts in Elasticsearch as a reviewer sees them: list with filters, read one, change its triage.

Only what the reviewer role grants is used: search and get on the alerts index, and `update` with
`if_seq_no`/`if_primary_term` (no refresh of indices, no scripts, no index administration). A change
made by someone else between our read and our write loses nothing: ours is not applied, it is
recorded in the history as a rejected attempt, and the caller gets `TriageConflict`.
"""

from __future__ import annotations

import getpass
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from elasticsearch import ApiError, ConflictError, Elasticsearch, NotFoundError, TransportError

from auditwatch.config.spec import parse_duration
from auditwatch.errors import AuditwatchError
from auditwatch.model import SEVERITY_LABELS, AlertSummary
from auditwatch.schema import IndexNames
from auditwatch.timefmt import iso_utc
from auditwatch.triage import workflow
from auditwatch.triage.workflow import Action, Policy, TriageConflict

_CONFLICT_RETRIES = 5


@dataclass(frozen=True, slots=True)
class Filters:
    status: tuple[str, ...] = ()  # "open" stands for every status but closed
    severity: tuple[str, ...] = ()
    rule: tuple[str, ...] = ()
    user: tuple[str, ...] = ()
    case: tuple[str, ...] = ()
    since: str | None = None  # a duration (30d, 12h) or an ISO date/time
    limit: int = 50


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One alert as read, with the version the next write is conditional on."""

    id: str
    doc: Mapping[str, Any]
    seq_no: int
    primary_term: int

    @property
    def summary(self) -> AlertSummary:
        return AlertSummary.from_document(self.id, self.doc)

    @property
    def triage(self) -> dict[str, Any]:
        return workflow.current(self.doc)


@dataclass(frozen=True, slots=True)
class Listing:
    alerts: tuple[AlertSummary, ...]
    total: int
    total_is_exact: bool
    documents: tuple[Mapping[str, Any], ...] = ()  # each alert's document (without evidence), with `_id`


def iso_now(clock: Callable[[], float] = time.time) -> str:
    return iso_utc(clock())


def reviewer_name(client: Elasticsearch, given: str | None) -> str:
    """Who is acting: the authenticated Elasticsearch user when security is on (and `given` must agree),
    else `given`, $AUDITWATCH_REVIEWER or the login name."""
    try:
        authenticated = str(client.security.authenticate()["username"])
    except (ApiError, TransportError):  # security disabled on this cluster
        authenticated = ""
    if authenticated:
        if given and given != authenticated:
            raise AuditwatchError(
                f"--by {given} does not match the Elasticsearch user {authenticated} this change is made as"
            )
        return authenticated
    return given or os.environ.get("AUDITWATCH_REVIEWER") or getpass.getuser()


def since_epoch_ms(since: str, now: float) -> int:
    """`30d` / `12h` before `now`, or an ISO date or date-time, as epoch milliseconds."""
    try:
        return int((now - parse_duration(since)) * 1000)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        raise AuditwatchError(
            f"--since {since!r}: give a duration (30d, 12h) or a date (2026-11-25, 2026-11-25T10:00Z)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def query_for(filters: Filters, now: float) -> dict[str, Any]:
    """The bool query for `filters` (only filter clauses: no scoring)."""
    clauses: list[dict[str, Any]] = [{"term": {"event.kind": "alert"}}]
    statuses: list[str] = []
    for status in filters.status:
        if status == "open":
            statuses.extend(workflow.OPEN_STATUSES)
        elif status in workflow.STATUSES:
            statuses.append(status)
        else:
            raise AuditwatchError(f"--status {status}: one of open, {', '.join(workflow.STATUSES)}")
    if statuses:
        clauses.append({"terms": {"auditwatch.triage.status": sorted(set(statuses))}})
    levels = []
    for severity in filters.severity:
        if severity not in SEVERITY_LABELS:
            raise AuditwatchError(f"--severity {severity}: one of {', '.join(SEVERITY_LABELS)}")
        levels.append(SEVERITY_LABELS.index(severity) + 1)
    if levels:
        clauses.append({"terms": {"event.severity": levels}})
    for field, values in (
        ("rule.id", filters.rule),
        ("user.id", filters.user),
        ("auditwatch.alert.case.id", filters.case),
    ):
        if values:
            clauses.append({"terms": {field: list(values)}})
    if filters.since:
        gte = since_epoch_ms(filters.since, now)
        clauses.append({"range": {"@timestamp": {"gte": gte, "format": "epoch_millis"}}})
    return {"bool": {"filter": clauses}}


class AlertStore:
    """The alerts index of one deployment, for reviewers."""

    def __init__(
        self,
        client: Elasticsearch,
        names: IndexNames,
        policy: Policy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self.names = names
        self._index = names.alerts
        self._policy = policy or Policy()
        self._clock = clock

    def list(self, filters: Filters) -> Listing:
        """Alerts matching `filters`, newest first (no refresh: what is searchable now)."""
        resp = self._client.search(
            index=self._index,
            query=query_for(filters, self._clock()),
            size=filters.limit,
            sort=[{"@timestamp": {"order": "desc"}}, {"rule.id": {"order": "asc"}}],
            track_total_hits=10_000,
            source_excludes=["auditwatch.alert.evidence", "auditwatch.alert.matches"],
        )
        hits = resp["hits"]
        alerts = tuple(AlertSummary.from_document(h["_id"], h["_source"]) for h in hits["hits"])
        documents = tuple({"_id": h["_id"], **h["_source"]} for h in hits["hits"])
        total = hits["total"]
        return Listing(alerts, int(total["value"]), total["relation"] == "eq", documents)

    def get(self, alert_id: str) -> Snapshot:
        try:
            resp = self._client.get(index=self._index, id=alert_id)
        except NotFoundError:
            raise AuditwatchError(f"no alert with id {alert_id} in {self._index}") from None
        return Snapshot(alert_id, resp["_source"], int(resp["_seq_no"]), int(resp["_primary_term"]))

    def act(self, alert_id: str, action: Action) -> Snapshot:
        """Read the alert and apply `action` to it; returns the alert as written."""
        return self.apply(self.get(alert_id), action)

    def apply(self, seen: Snapshot, action: Action) -> Snapshot:
        """Apply `action` to the alert as it was in `seen`; TriageConflict if it changed since."""
        now = iso_now(self._clock)
        before = seen.triage
        after = workflow.apply(before, action, seen.summary.severity, self._policy, now)
        try:
            resp = self._write(seen, after)
        except ConflictError:
            self._record_rejected(seen, action, before["status"], after["status"])
            latest = self.get(seen.id)
            raise TriageConflict(_conflict_message(seen.id, action, latest)) from None
        return Snapshot(
            seen.id, _with_triage(seen.doc, after), int(resp["_seq_no"]), int(resp["_primary_term"])
        )

    def _write(self, seen: Snapshot, triage: Mapping[str, Any]) -> Mapping[str, Any]:
        resp = self._client.update(
            index=self._index,
            id=seen.id,
            doc={"auditwatch": {"triage": triage}},
            if_seq_no=seen.seq_no,
            if_primary_term=seen.primary_term,
            refresh="wait_for",
        )
        body: Mapping[str, Any] = resp.body
        return body

    def _record_rejected(self, seen: Snapshot, action: Action, frm: str, to: str) -> None:
        """Append the losing attempt to the latest history (retrying if that, too, races)."""
        for _ in range(_CONFLICT_RETRIES):
            latest = self.get(seen.id)
            triage = workflow.with_rejected(latest.triage, action, frm, to, iso_now(self._clock))
            try:
                self._write(latest, triage)
                return
            except ConflictError:
                continue
        raise AuditwatchError(f"alert {seen.id} keeps changing: could not record the rejected attempt")


def _with_triage(doc: Mapping[str, Any], triage: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(doc)
    aw = dict(out.get("auditwatch") or {})
    aw["triage"] = dict(triage)
    out["auditwatch"] = aw
    return out


def _conflict_message(alert_id: str, action: Action, latest: Snapshot) -> str:
    applied = [e for e in latest.triage["history"] if e.get("result") == workflow.APPLIED]
    last = applied[-1] if applied else {}
    who = f"{last.get('by')} ({last.get('action')} at {last.get('at')})" if last else "someone else"
    return (
        f"conflict: alert {alert_id} was changed by {who} after you read it; it is now "
        f"{latest.triage['status']}. Your {action.verb} was NOT applied (it is recorded in the history "
        f"as rejected). Look at `auditwatch alerts show {alert_id}` and try again if still needed."
    )
