"""Retention of the monthly event indices: delete whole months older than the configured age.

Dry run by default: the job logs what it would delete until `retention.delete: true` is set, because a
deleted month of audit history cannot be brought back. Only indices named exactly
`<prefix>-events-YYYY.MM` are ever considered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import structlog
from elasticsearch import Elasticsearch

from auditwatch.schema import IndexNames

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    delete: tuple[str, ...]  # whole months older than the cut-off
    keep: tuple[str, ...]


def plan(indices: Iterable[str], names: IndexNames, keep_months: int, today: date) -> RetentionPlan:
    """Indices whose month ended more than `keep_months` whole months before `today`'s month."""
    monthly = re.compile(re.escape(f"{names.prefix}-events-") + r"(\d{4})\.(\d{2})")
    cutoff = today.year * 12 + today.month - 1 - keep_months  # months since year 0, exclusive bound
    delete: list[str] = []
    keep: list[str] = []
    for index in sorted(indices):
        found = monthly.fullmatch(index)
        if found is None:
            continue  # not ours, or not a monthly events index
        month = int(found.group(1)) * 12 + int(found.group(2)) - 1
        (delete if month < cutoff else keep).append(index)
    return RetentionPlan(tuple(delete), tuple(keep))


def apply_retention(
    client: Elasticsearch, names: IndexNames, keep_months: int, today: date, *, delete: bool
) -> RetentionPlan:
    indices = client.indices.get(index=names.events_pattern, expand_wildcards="open,closed")
    decided = plan(indices, names, keep_months, today)
    for index in decided.delete:
        if delete:
            client.indices.delete(index=index)
            log.warning("retention_deleted", index=index, keep_months=keep_months)
        else:
            log.info("retention_would_delete", index=index, keep_months=keep_months, dry_run=True)
    return decided
