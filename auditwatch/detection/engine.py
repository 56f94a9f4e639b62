"""The detection engine: runs compiled rules over events in event-time order and returns alerts.

Per event, one dict lookup on the values of the rules' prefilter fields (usually `event.action`)
gives the rules that can possibly match; rules whose condition requires a reference match the
event's user can never have (no declared associates, never restricted...) are dropped next, per set
of matches possible for the user; each remaining rule runs its compiled condition, then its kind
(windows, repeats, first sightings), then suppression; only then is an alert document built.

Arrival order. With a `lateness` bound L > 0, events wait in a reorder buffer (`reorder.py`) and
are detected in event-time order once the watermark has passed them. An event later than the
watermark is detected at once, out of order (counted in `stats["late"]`); windows and suppression
tolerate it as before. The buffer is part of the snapshot, so a restart from a checkpoint stays
exact. `flush()` detects everything still held (end of a scan or backfill). Each rule's state lives
in its `RuleRuntime` (`runtime.py`).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import structlog

from auditwatch.detection.alerts import build_alert
from auditwatch.detection.context import EvalContext
from auditwatch.detection.fold import fold_alerts
from auditwatch.detection.kinds import KindState
from auditwatch.detection.reorder import MAX_HELD, ReorderBuffer
from auditwatch.detection.rule import RuleSet
from auditwatch.detection.runtime import RuleRuntime, spec_json, suppress_json
from auditwatch.detection.state_codec import key_from_json
from auditwatch.detection.suppress import Suppressor
from auditwatch.errors import AuditwatchError
from auditwatch.model import AccessEvent, Alert, StateDelta, StoredState
from auditwatch.reference import ReferenceSnapshot

log = structlog.get_logger(__name__)

SNAPSHOT_VERSION = 1  # the whole-state JSON of `snapshot`
ROWS_VERSION = 1  # the per-key rows of `state_delta`
ENGINE_META = ""  # the meta row of the engine itself (no rule id is empty)
SWEEP_EVERY = 60.0  # seconds of event time between sweeps of idle groups and lapsed suppressions
_CACHE_LIMIT = 4096
# Event times detection can evaluate: one day inside what `datetime` represents in every time zone
# (0001-01-02 .. 9999-12-30 UTC). Outside it local days and hours cannot be computed.
_MIN_TS = -62_135_596_800.0 + 86_400.0
_MAX_TS = 253_402_300_799.0 - 86_400.0


class EventTimeOutOfRange(AuditwatchError, ValueError):
    """The event's time is outside the range detection can evaluate (or not a number)."""

    def __init__(self, ts: float) -> None:
        super().__init__(
            f"event time {ts!r} is outside the range detection can evaluate (0001-01-02 to 9999-12-30 UTC)"
        )


@dataclass(frozen=True, slots=True)
class DetectionFailure:
    """An event detection could not evaluate: dead-letter it (stage "detect") with `reason`.

    `index` says whether the event itself is still fit for the events index: True after an
    unexpected error in a rule (the audit record is valid, only its evaluation failed), False when
    the event's time is unusable (it would land in a nonsense monthly index)."""

    event: AccessEvent
    reason: str
    index: bool


def _failure(event: AccessEvent, exc: Exception) -> DetectionFailure:
    if isinstance(exc, EventTimeOutOfRange):
        return DetectionFailure(event, f"detection: {exc}", index=False)
    frames = traceback.extract_tb(exc.__traceback__)[-3:]
    where = " <- ".join(f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in reversed(frames))
    reason = f"detection failed: {type(exc).__name__}: {exc} (at {where})"
    return DetectionFailure(event, reason, index=True)


_Chosen = tuple[tuple[RuleRuntime, ...], dict[frozenset[str], tuple[RuleRuntime, ...]] | None]


class DetectionEngine:
    """Stateful detection over a stream of events; state can be snapshotted with the offsets."""

    def __init__(
        self,
        rules: RuleSet,
        reference: ReferenceSnapshot,
        *,
        lateness: float = 0.0,
        clock: Callable[[], float] | None = None,
        max_held: int = MAX_HELD,
    ) -> None:
        """`lateness`: the reorder bound in seconds of event time (0: detect each batch as given).
        `clock`: wall-clock epoch seconds, for releasing held events on a quiet system (daemon).
        `max_held`: the most events the reorder buffer holds (past it the oldest are released)."""
        self._reference = reference
        self._runtimes: tuple[RuleRuntime, ...] = ()
        self._watermark = float("-inf")  # newest event time detected
        self._next_sweep = float("-inf")
        self._stored: set[str] = set()  # rule ids the checkpoint has rows or meta for
        self.stats: dict[str, int] = {
            "events": 0,
            "alerts": 0,
            "suppressed": 0,
            "failed": 0,
            "late": 0,
            "forced": 0,
        }
        self._buffer = ReorderBuffer(lateness, clock, max_held)
        self._forced_logged = float("-inf")
        self._install(rules, {})

    # -- wiring -------------------------------------------------------------------------------

    def _install(self, rules: RuleSet, previous: dict[str, RuleRuntime]) -> None:
        runtimes = []
        for rule in rules:
            if rule.status == "deprecated":
                continue
            runtime = RuleRuntime(rule)
            old = previous.get(rule.id)
            if old is not None and old.rule.spec == rule.spec:
                state = orjson.loads(orjson.dumps(old.dump()))
                runtime.load(state, suppress_json(old.rule) == suppress_json(rule))
            runtimes.append(runtime)
        self._runtimes = tuple(runtimes)
        self._folds = {r.rule.id: frozenset(r.rule.folds_into) for r in runtimes if r.rule.folds_into}
        sweepers: list[KindState | Suppressor] = []
        for runtime in runtimes:
            sweepers.append(runtime.kind)
            if runtime.suppressor is not None:
                sweepers.append(runtime.suppressor)
        self._sweepers = tuple(sweepers)
        self._sweep_due = float("-inf")  # the earliest `next_sweep` of any sweeper
        fields: list[str] = []
        for runtime in runtimes:
            pf = runtime.rule.prefilter
            if pf is not None and pf[0] not in fields:
                fields.append(pf[0])
        self._key_fields = tuple(fields)
        self._candidates: dict[object, _Chosen] = {}

    def replace_rules(self, rules: RuleSet) -> None:
        """Swap in a new rule set; rules with the same id and window definition keep their state."""
        self._install(rules, {r.rule.id: r for r in self._runtimes})

    def set_reference(self, reference: ReferenceSnapshot) -> None:
        self._reference = reference

    # -- the per-event path -------------------------------------------------------------------

    def _key(self, fields: Any) -> object:
        key_fields = self._key_fields
        if len(key_fields) == 1:
            value = fields.get(key_fields[0])
            return tuple(value) if isinstance(value, list) else value
        return tuple(tuple(v) if isinstance(v := fields.get(k), list) else v for k in key_fields)

    def _select(self, key: object) -> _Chosen:
        """The runtimes whose prefilter admits `key`, and (when some of them require matches) a memo
        of their subsets per set of matches possible for the event's user."""
        runtimes = self._admitted(key)
        return runtimes, ({} if any(r.requires for r in runtimes) else None)

    def _admitted(self, key: object) -> tuple[RuleRuntime, ...]:
        values = (key,) if len(self._key_fields) == 1 else key
        assert isinstance(values, tuple)
        position = {name: i for i, name in enumerate(self._key_fields)}
        chosen = []
        for runtime in self._runtimes:
            pf = runtime.rule.prefilter
            if pf is not None:
                value = values[position[pf[0]]]
                present = value if isinstance(value, tuple) else (value,)
                if not any(v in pf[1] for v in present if isinstance(v, str)):
                    continue
            chosen.append(runtime)
        return tuple(chosen)

    def process(
        self,
        events: Sequence[AccessEvent],
        failures: list[DetectionFailure] | None = None,
        read_to: float = float("inf"),
    ) -> list[Alert]:
        """Alerts raised by the events this call releases from the reorder buffer (all of `events`
        when lateness is 0: then they are detected in the order given).

        `read_to`: the event time up to which every source with unread data has been read (the
        tailer's `backlog_time`); nothing later than it minus the lateness is released, so a
        source that is behind (a backlog) is waited for, however old its events are.

        Detection never raises on an event: an event it cannot evaluate (time outside the range it
        can compute local days and hours for, or any unexpected error in a rule) is skipped, logged,
        and reported in `failures` (when given) for the caller to dead-letter. Rules that ran on the
        event before the error keep what they observed."""
        buffer = self._buffer
        if buffer.lateness <= 0 and not buffer.events and read_to == float("inf"):
            return self._process(events, failures)
        self.stats["late"] += buffer.hold(events)
        forced = buffer.forced
        released = buffer.due(buffer.bound(), read_to - buffer.lateness)
        if buffer.forced != forced:
            self._forced(buffer.forced - forced)
        return self._process(released, failures)

    def _forced(self, count: int) -> None:
        self.stats["forced"] += count
        now = time.monotonic()
        if now < self._forced_logged + 60.0:  # at most once a minute: a stuck clock repeats per batch
            return
        self._forced_logged = now
        log.warning(
            "reorder_buffer_full",
            max_held=self._buffer.max_held,
            forced_total=self.stats["forced"],
            reason="held events released before the watermark passed them (many share one time?); "
            "an earlier event read after them is detected out of order",
        )

    def tick(
        self, read_to: float = float("inf"), failures: list[DetectionFailure] | None = None
    ) -> list[Alert]:
        """Alerts from held events the wall clock releases now (call when no new events came)."""
        if not self._buffer.events:
            return []
        return self.process((), failures, read_to)

    def flush(self, failures: list[DetectionFailure] | None = None) -> list[Alert]:
        """Detect every held event: the input is complete (end of a scan, backfill or test)."""
        if not self._buffer.events:
            return []
        return self._process(self._buffer.due(float("inf")), failures)

    @property
    def lateness(self) -> float:
        """The reorder bound in seconds of event time."""
        return self._buffer.lateness

    @property
    def held(self) -> int:
        """Events waiting in the reorder buffer."""
        return len(self._buffer.events)

    def next_release(self) -> float | None:
        """Seconds until the wall clock releases a held event; None when nothing is held (or the
        engine has no clock: then only newer events or `flush` release them)."""
        return self._buffer.next_release()

    def _process(self, events: Sequence[AccessEvent], failures: list[DetectionFailure] | None) -> list[Alert]:
        alerts: list[Alert] = []
        failed = 0
        for event in events:
            try:  # zero-cost in CPython 3.11 until something raises
                self._one(event, alerts)
            except Exception as exc:  # one event must never stop detection for every other event
                failed += 1
                failure = _failure(event, exc)
                if failures is not None:
                    failures.append(failure)
                log.error(
                    "detection_failed",
                    event_id=event.id,
                    file=event.raw.path,
                    offset=event.raw.offset,
                    reason=failure.reason,
                    indexed=failure.index,
                )
        if self._folds:
            alerts = fold_alerts(alerts, self._folds)
        self.stats["events"] += len(events) - failed
        self.stats["alerts"] += len(alerts)
        self.stats["failed"] += failed
        return alerts

    def _one(self, event: AccessEvent, alerts: list[Alert]) -> None:
        ts = event.timestamp
        if not _MIN_TS <= ts <= _MAX_TS:  # also false for NaN
            raise EventTimeOutOfRange(ts)
        if ts > self._watermark:
            self._watermark = ts
            if ts >= self._next_sweep:
                self._sweep(ts)
        key = self._key(event.fields)
        cache = self._candidates
        try:
            chosen = cache.get(key)
        except TypeError:  # an unhashable value: decide without the cache
            chosen = self._select(key)
        if chosen is None:
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            chosen = cache[key] = self._select(key)
        runtimes, by_user = chosen
        if not runtimes:
            return
        c = EvalContext(event, self._reference)
        if by_user is not None:  # some rules need a match only some users can have
            possible = c.possible_matches()
            mine = by_user.get(possible)
            if mine is None:
                mine = by_user[possible] = tuple(r for r in runtimes if r.requires <= possible)
            runtimes = mine
        for runtime in runtimes:
            if not runtime.condition(c):
                continue
            trigger = runtime.observe(c, runtime.explained)
            if trigger is None:
                continue
            suppressor = runtime.suppressor
            if suppressor is not None:
                if suppressor.suppressed(c):
                    self.stats["suppressed"] += 1
                    continue
                suppressor.record(c)
            alerts.append(build_alert(runtime.rule, trigger, c))

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + SWEEP_EVERY
        if now < self._sweep_due:  # every kind and suppressor would return at once
            return
        due = float("inf")
        for part in self._sweepers:
            if now >= part.next_sweep:
                part.sweep(now)
            due = min(due, part.next_sweep)
        self._sweep_due = due

    # -- state --------------------------------------------------------------------------------

    def snapshot(self) -> bytes:
        """Window, suppression, repeat and first-seen state as deterministic JSON bytes.

        Only rules whose state changed since the last snapshot are serialised again."""
        body = {
            "version": SNAPSHOT_VERSION,
            "watermark": self._watermark if self._watermark != float("-inf") else None,
            "rules": {r.rule.id: r.dump() for r in self._runtimes},
            "held": self._buffer.dump(),
        }
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)

    def state_delta(self) -> StateDelta:
        """The rows that changed since the previous delta (or since `restore_rows`): per rule and
        group key, the key's state, or a deletion. A rule that is new, reloaded with another
        window, or whose stored state was dropped, is rewritten whole."""
        dumps = orjson.dumps
        current = {r.rule.id for r in self._runtimes}
        cleared = sorted(self._stored - current)
        meta: list[tuple[str, bytes]] = []
        rows: list[tuple[str, str, bytes, bytes | None]] = []
        for runtime in self._runtimes:
            rule_id, kind, suppressor = runtime.rule.id, runtime.kind, runtime.suppressor
            if runtime.full:
                cleared.append(rule_id)
                runtime.meta_written = None
                kind_keys: Iterable[tuple[object, ...]] = list(kind.keys())
                kept_keys: Iterable[tuple[object, ...]] = list(suppressor.keys()) if suppressor else ()
                runtime.full = False
            else:
                kind_keys, kept_keys = kind.changed, suppressor.changed if suppressor else ()
            kind.changed = set()
            for key in kind_keys:
                value = kind.row(key)
                rows.append((rule_id, "k", dumps(key), None if value is None else dumps(value)))
            if suppressor is not None:
                suppressor.changed = set()
                for key in kept_keys:
                    until = suppressor.row(key)
                    rows.append((rule_id, "s", dumps(key), None if until is None else dumps(until)))
            body = dumps(
                {
                    "spec": spec_json(runtime.rule.spec),
                    "suppress": suppress_json(runtime.rule),
                    "kind": kind.meta(),
                },
                option=orjson.OPT_SORT_KEYS,
            )
            if body != runtime.meta_written:
                meta.append((rule_id, body))
                runtime.meta_written = body
        watermark = self._watermark if self._watermark != float("-inf") else None
        held = self._buffer.dump()
        meta.append((ENGINE_META, dumps({"version": ROWS_VERSION, "watermark": watermark, "held": held})))
        self._stored = current
        return StateDelta(tuple(cleared), tuple(meta), tuple(rows))

    def restore_rows(self, stored: StoredState) -> bool:
        """Load state checkpointed as rows; rules whose window or suppression definition changed
        start empty (and are rewritten whole by the next delta). False when there is none."""
        engine_meta = stored.meta.get(ENGINE_META)
        if engine_meta is None or orjson.loads(engine_meta).get("version") != ROWS_VERSION:
            return False
        self._stored = set(stored.meta) - {ENGINE_META}
        for runtime in self._runtimes:
            rule_id, rule = runtime.rule.id, runtime.rule
            raw = stored.meta.get(rule_id)
            if raw is None:
                continue
            meta = orjson.loads(raw)
            if meta["spec"] != spec_json(rule.spec):
                continue
            runtime.kind.load_rows(meta["kind"], _decoded(stored.rows.get((rule_id, "k"), ())))
            kept = stored.rows.get((rule_id, "s"), [])
            if runtime.suppressor is not None and meta["suppress"] == suppress_json(rule):
                runtime.suppressor.load_rows(_decoded(kept))
                runtime.full = False
            else:
                runtime.full = bool(kept)  # stored suppressions no longer apply: rewrite
            runtime.meta_written = None if runtime.full else raw
            runtime.cache = None
        self._sweep_due = float("-inf")
        engine_state = orjson.loads(engine_meta)
        watermark = engine_state.get("watermark")
        if watermark is not None:
            self._watermark = float(watermark)
            self._next_sweep = self._watermark + SWEEP_EVERY
        self._buffer.load(engine_state.get("held"))
        return True

    def restore(self, data: bytes) -> None:
        """Load a snapshot; state of rules whose window or suppression definition changed is dropped."""
        body = orjson.loads(data)
        if body.get("version") != SNAPSHOT_VERSION:
            return
        saved = body.get("rules", {})
        for runtime in self._runtimes:
            state = saved.get(runtime.rule.id)
            if state is None or state["spec"] != spec_json(runtime.rule.spec):
                continue
            runtime.load(state, state["suppress"] == suppress_json(runtime.rule))
            runtime.cache = None
        self._sweep_due = float("-inf")
        if body.get("watermark") is not None:
            self._watermark = float(body["watermark"])
            self._next_sweep = self._watermark + SWEEP_EVERY
        self._buffer.load(body.get("held"))


def _decoded(rows: Iterable[tuple[bytes, bytes]]) -> Iterator[tuple[tuple[object, ...], Any]]:
    for key, value in rows:
        yield key_from_json(orjson.loads(key)), orjson.loads(value)
