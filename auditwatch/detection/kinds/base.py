"""The rule-kind contract: observe a matching event, maybe trigger; keep state that can be snapshotted."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from auditwatch.detection.context import EvalContext, Getter
from auditwatch.detection.evidence import Item

Explained = Callable[[EvalContext], bool]


@dataclass(frozen=True, slots=True)
class Trigger:
    """What a kind reports when its rule should alert for the current event."""

    group: tuple[object, ...]
    anchor: str  # id of the event that anchors the alert id (first in window / the trigger)
    evidence: tuple[Item, ...]  # oldest first, capped
    total: int  # how many events contributed (evidence may be capped)
    start: float
    end: float
    distinct: int | None = None
    days: int | None = None


class KindState(Protocol):
    """State per group key, checkpointed whole (`dump`/`load`) or one row per key (`row`/`load_rows`).

    Every key whose state changed (added, updated or removed) since the last checkpoint is in
    `changed`; the engine takes and empties it when it builds a checkpoint delta."""

    dirty: bool  # set when state changed since the last snapshot
    next_sweep: float  # `sweep` does nothing before this event time (it sets the next one itself)
    changed: set[tuple[object, ...]]

    def observe(self, c: EvalContext, explained: Explained) -> Trigger | None: ...

    def sweep(self, now: float) -> None: ...

    def dump(self) -> Any: ...

    def load(self, data: Any) -> None: ...

    def keys(self) -> Iterable[tuple[object, ...]]: ...

    def row(self, key: tuple[object, ...]) -> Any:
        """The JSON-ready state of `key`, or None when it has none (any more)."""
        ...

    def meta(self) -> Any:
        """State that belongs to no key (JSON-ready)."""
        ...

    def load_rows(self, meta: Any, rows: Iterable[tuple[tuple[object, ...], Any]]) -> None: ...


EVIDENCE_CAP = 50


def group_key(getters: tuple[Getter, ...], c: EvalContext) -> tuple[object, ...] | None:
    """The group's key; None when a group field is missing (the event cannot be attributed)."""
    if len(getters) == 1:
        v = getters[0](c)
        return None if v is None else (tuple(v) if isinstance(v, list) else v,)
    if len(getters) == 2:
        v, w = getters[0](c), getters[1](c)
        if v is None or w is None:
            return None
        return (tuple(v) if isinstance(v, list) else v, tuple(w) if isinstance(w, list) else w)
    key = []
    for get in getters:
        value = get(c)
        if value is None:
            return None
        key.append(tuple(value) if isinstance(value, list) else value)
    return tuple(key)
