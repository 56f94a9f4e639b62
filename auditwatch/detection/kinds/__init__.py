"""Rule kinds: a small registry from the `kind:` name to the class that keeps that kind's state."""

from __future__ import annotations

from collections.abc import Callable

from auditwatch.detection.kinds.base import KindState, Trigger
from auditwatch.detection.kinds.event import EventKind
from auditwatch.detection.kinds.first_seen import FirstSeenKind
from auditwatch.detection.kinds.repeat import RepeatKind
from auditwatch.detection.kinds.threshold import ThresholdKind
from auditwatch.detection.rule import Rule

KIND_STATES: dict[str, Callable[[Rule], KindState]] = {
    "event": EventKind,
    "threshold": ThresholdKind,
    "repeat": RepeatKind,
    "first_seen": FirstSeenKind,
}

__all__ = ["KIND_STATES", "KindState", "Trigger"]
