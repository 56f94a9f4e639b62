"""Triage states and transitions: pure functions from (current triage, action) to the next triage.

States: `new` -> `under_review` (assign) -> `closed` (with an outcome) or `referred`; `reopen` brings
a closed or referred alert back under review. Closing an alert whose severity requires a second
reviewer first records the proposal (`awaiting_second_review`); a different reviewer confirms it.
Every change appends one entry to the history; nothing in the history is ever rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from auditwatch.errors import AuditwatchError

NEW: Final = "new"
UNDER_REVIEW: Final = "under_review"
AWAITING_SECOND: Final = "awaiting_second_review"
CLOSED: Final = "closed"
REFERRED: Final = "referred"
STATUSES: Final = (NEW, UNDER_REVIEW, AWAITING_SECOND, CLOSED, REFERRED)
OPEN_STATUSES: Final = (NEW, UNDER_REVIEW, AWAITING_SECOND, REFERRED)
OUTCOMES: Final = ("upheld", "explained", "false-positive")

APPLIED: Final = "applied"
REJECTED_CONFLICT: Final = "rejected: changed concurrently"


class TriageError(AuditwatchError):
    """A triage action that is not allowed from the alert's current state."""


class TriageConflict(AuditwatchError):
    """Someone else changed the alert between our read and our write."""


@dataclass(frozen=True, slots=True)
class Action:
    """One reviewer's request: `verb` plus what it needs."""

    verb: str  # assign / close / reopen / refer
    by: str
    reason: str = ""
    assignee: str | None = None  # assign
    outcome: str | None = None  # close
    referred_to: str | None = None  # refer


@dataclass(frozen=True, slots=True)
class Policy:
    """Configurable rules of the workflow."""

    second_review: frozenset[str] = field(default_factory=frozenset)  # severities needing two reviewers


def current(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The alert's triage object, with defaults for alerts written before triage existed."""
    triage = doc.get("auditwatch", {}).get("triage") or {}
    out: dict[str, Any] = {
        "status": NEW,
        "assignee": None,
        "outcome": None,
        "reason": None,
        "referred_to": None,
        "proposal": None,
        "updated_at": None,
        "updated_by": None,
        "history": [],
    }
    out.update({k: v for k, v in triage.items() if k != "notes"})
    out["history"] = list(out.get("history") or [])
    return out


def apply(
    triage: Mapping[str, Any], action: Action, severity: str, policy: Policy, now: str
) -> dict[str, Any]:
    """The triage after `action`, with its history entry appended; raises TriageError if not allowed."""
    status = str(triage["status"])
    nxt = dict(triage)
    nxt["history"] = list(triage["history"])
    to = status
    if not action.by:
        raise TriageError("the reviewer's name is empty")
    if action.verb == "assign":
        if status == CLOSED:
            raise TriageError(
                "the alert is closed: reopen it first (auditwatch alerts reopen ID --reason ...)"
            )
        if not action.assignee:
            raise TriageError("assign needs a reviewer to assign to")
        to = UNDER_REVIEW if status in (NEW, UNDER_REVIEW) else status
        nxt["assignee"] = action.assignee
    elif action.verb == "close":
        _need_reason(action)
        if action.outcome not in OUTCOMES:
            raise TriageError(f"close needs --as one of {', '.join(OUTCOMES)}")
        if status == CLOSED:
            raise TriageError(f"the alert is already closed as {triage.get('outcome')}")
        proposal = triage.get("proposal")
        if status == AWAITING_SECOND and isinstance(proposal, Mapping):
            if proposal.get("by") == action.by:
                raise TriageError(
                    f"{action.by} proposed this closure; a second, different reviewer must confirm it"
                )
            if proposal.get("outcome") != action.outcome:
                raise TriageError(
                    f"{proposal.get('by')} proposed closing as {proposal.get('outcome')}, not "
                    f"{action.outcome}: to disagree, reopen the alert with a reason"
                )
            to, nxt["outcome"], nxt["proposal"] = CLOSED, action.outcome, None
        elif severity in policy.second_review:
            to = AWAITING_SECOND
            nxt["proposal"] = {"by": action.by, "outcome": action.outcome, "reason": action.reason, "at": now}
        else:
            to, nxt["outcome"] = CLOSED, action.outcome
    elif action.verb == "reopen":
        _need_reason(action)
        if status not in (CLOSED, REFERRED, AWAITING_SECOND):
            raise TriageError(f"only a closed, referred or awaiting alert can be reopened (it is {status})")
        to, nxt["outcome"], nxt["proposal"] = UNDER_REVIEW, None, None
    elif action.verb == "refer":
        _need_reason(action)
        if status == CLOSED:
            raise TriageError("the alert is closed: reopen it first")
        if not action.referred_to:
            raise TriageError("refer needs --to (who the alert is referred to)")
        to, nxt["referred_to"] = REFERRED, action.referred_to
    else:
        raise TriageError(f"unknown triage action '{action.verb}'")
    nxt["status"] = to
    nxt["reason"] = action.reason or triage.get("reason")
    nxt["updated_at"], nxt["updated_by"] = now, action.by
    nxt["history"].append(history_entry(action, status, to, now, APPLIED))
    return nxt


def history_entry(action: Action, frm: str, to: str, now: str, result: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "at": now,
        "by": action.by,
        "action": action.verb,
        "from": frm,
        "to": to,
        "reason": action.reason,
        "result": result,
    }
    for key in ("assignee", "outcome", "referred_to"):
        value = getattr(action, key)
        if value is not None:
            entry[key] = value
    return entry


def with_rejected(
    triage: Mapping[str, Any], action: Action, seen: str, wanted: str, now: str
) -> dict[str, Any]:
    """`triage` unchanged except for a history entry recording an attempt that lost a race."""
    out = dict(triage)
    out["history"] = [*triage["history"], history_entry(action, seen, wanted, now, REJECTED_CONFLICT)]
    return out


def describe(entries: Sequence[Mapping[str, Any]]) -> list[str]:
    """History entries as lines for people."""
    lines = []
    for e in entries:
        extra = "".join(
            f" {k}={e[k]}" for k in ("assignee", "outcome", "referred_to") if e.get(k) is not None
        )
        reason = f' "{e["reason"]}"' if e.get("reason") else ""
        result = "" if e.get("result") == APPLIED else f" [{e.get('result')}]"
        change = f"{e.get('from')} -> {e.get('to')}"
        lines.append(f"{e.get('at')}  {e.get('by')}  {e.get('action')}{extra}: {change}{reason}{result}")
    return lines


def _need_reason(action: Action) -> None:
    if not action.reason.strip():
        raise TriageError(f"{action.verb} needs --reason (it goes into the alert's history)")
