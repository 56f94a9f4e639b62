"""Reviewer workflow over the alerts index: list, show and triage alerts with an append-only history."""

from auditwatch.triage.store import AlertStore, Filters, Listing, Snapshot, reviewer_name
from auditwatch.triage.workflow import Action, Policy, TriageConflict, TriageError

__all__ = [
    "Action",
    "AlertStore",
    "Filters",
    "Listing",
    "Policy",
    "Snapshot",
    "TriageConflict",
    "TriageError",
    "reviewer_name",
]
