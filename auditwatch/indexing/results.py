"""What a bulk response says about each item: done, duplicate, retry later, or refused for good."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any


class Outcome(enum.Enum):
    CREATED = "created"
    DUPLICATE = "duplicate"  # 409 on create: the document is already there, which is success
    RETRY = "retry"  # the cluster could not take it now; the same bytes are sent again later
    REJECT = "reject"  # the document itself is wrong (mapping, parsing): retrying cannot help


# 401/403 are retried, not dead-lettered: an expired credential, a missing privilege or a
# read-only block (disk flood stage) is fixed by an operator, and the data must not be lost meanwhile.
_RETRY_4XX = frozenset({401, 403, 408, 429})


def classify(status: int) -> Outcome:
    if 200 <= status < 300:
        return Outcome.CREATED
    if status == 409:
        return Outcome.DUPLICATE
    if status >= 500 or status in _RETRY_4XX:
        return Outcome.RETRY
    return Outcome.REJECT


def item_results(response: Mapping[str, Any], expected: int) -> list[tuple[Outcome, int, str]]:
    """(outcome, status, reason) for each item, in request order."""
    items: Sequence[Mapping[str, Any]] = response.get("items") or ()
    if len(items) != expected:
        raise ValueError(f"bulk response has {len(items)} items for {expected} operations")
    out: list[tuple[Outcome, int, str]] = []
    for item in items:
        result = next(iter(item.values()))
        status = int(result.get("status", 0))
        out.append((classify(status), status, error_reason(result.get("error"))))
    return out


def error_reason(error: object) -> str:
    """`type: reason (caused by: ...)` from an Elasticsearch error object, or '' for none."""
    if not isinstance(error, Mapping):
        return "" if error is None else str(error)
    text = f"{error.get('type', 'error')}: {error.get('reason', '')}".rstrip(": ")
    cause = error.get("caused_by")
    if isinstance(cause, Mapping):
        text += f" (caused by {cause.get('type', 'error')}: {cause.get('reason', '')})"
    return text
