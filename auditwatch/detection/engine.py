"""The detection engine: runs compiled rules over events in event-time order and returns alerts.

Per event, one dict lookup on the values of the rules' prefilter fields (usually `event.action`)
gives the rules that can possibly match; rules whose condition requires a reference match the
event's user can never have (no declared associates, never restricted...) are dropped next, per set
of matches possible for the user; each remaining rule runs its compiled condition, then its kind
(windows, repeats, first sightings), then suppression; only then is an alert document built.

Arrival order. With a `lateness` bound L > 0, events wait in a reorder buffer (kept sorted by event time,
then event id) and are detected only once the watermark has passed them, so rules see them in
exactly that order whatever order they arrived in, as long as each event is at most L older than
the newest event that arrived before it. The watermark is the newest event time seen minus L; given
a wall clock (the daemon) it also moves to now minus L, and past every event that has waited L
seconds, so a quiet system (or a source whose clock runs ahead) never holds an event longer than L.
An event later than the watermark is detected at once, out of order (counted in `stats["late"]`);
windows and suppression tolerate it as before. The buffer is part of the snapshot, so a restart
from a checkpoint stays exact. `flush()` detects everything still held (end of a scan or backfill).
"""

from __future__ import annotations

import gc
import traceback
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Any

import orjson
import structlog

from auditwatch.detection.alerts import build_alert
from auditwatch.detection.compile import any_of
from auditwatch.detection.context import EvalContext
from auditwatch.detection.fold import fold_alerts
from auditwatch.detection.kinds import KIND_STATES, KindState
from auditwatch.detection.rule import Rule, RuleSet, WindowSpec
from auditwatch.detection.state_codec import key_from_json
from auditwatch.detection.suppress import Suppressor
from auditwatch.errors import AuditwatchError
from auditwatch.model import AccessEvent, Alert, RawLine, StateDelta, StoredState
from auditwatch.reference.snapshot import ReferenceSnapshot

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


_TIME = attrgetter("timestamp")
_ORDER = attrgetter("timestamp", "id")  # the order detection sees events in (`pipeline.event_order`)


class _Runtime:
    """A rule plus its mutable state."""

    __slots__ = (
        "cache",
        "condition",
        "explained",
        "full",
        "kind",
        "meta_written",
        "observe",
        "requires",
        "rule",
        "suppressor",
    )

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.requires = rule.requires
        # the engine runs a rule with a prefilter only on events the prefilter admits
        self.condition = rule.residual if rule.prefilter is not None else rule.condition
        self.kind: KindState = KIND_STATES[rule.spec.kind](rule)
        self.suppressor = Suppressor(rule.suppress, rule.suppress_getters) if rule.suppress else None
        self.explained = _explainer(rule)
        self.observe = self.kind.observe
        self.cache: orjson.Fragment | None = None  # serialised state, valid while nothing changed
        self.full = True  # the next delta rewrites this rule's rows whole (new, reloaded, or dropped)
        self.meta_written: bytes | None = None  # the meta row as last put in a delta

    def dump(self) -> orjson.Fragment:
        suppressor = self.suppressor
        if self.cache is None or self.kind.dirty or (suppressor is not None and suppressor.dirty):
            body = {
                "spec": _spec_json(self.rule.spec),
                "kind": self.kind.dump(),
                "suppress": _suppress_json(self.rule) if suppressor else None,
                "until": suppressor.dump() if suppressor else [],
            }
            self.cache = orjson.Fragment(orjson.dumps(body, option=orjson.OPT_SORT_KEYS))
            self.kind.dirty = False
            if suppressor is not None:
                suppressor.dirty = False
        return self.cache

    def load(self, data: dict[str, Any], same_suppression: bool) -> None:
        self.kind.load(data["kind"])
        if self.suppressor is not None and same_suppression:
            self.suppressor.load(data["until"])


_Chosen = tuple[tuple[_Runtime, ...], dict[frozenset[str], tuple[_Runtime, ...]] | None]


def _explainer(rule: Rule) -> Callable[[EvalContext], bool]:
    return any_of(tuple(e.test for e in rule.unless if e.downgrade_severity is None))


def _spec_json(spec: WindowSpec) -> list[Any]:
    return [
        spec.kind,
        list(spec.group_by),
        spec.window,
        spec.threshold,
        spec.distinct,
        spec.days,
        spec.learning,
        spec.timezone,
    ]


def _suppress_json(rule: Rule) -> list[Any] | None:
    return None if rule.suppress is None else [list(rule.suppress.by), rule.suppress.duration]


class DetectionEngine:
    """Stateful detection over a stream of events; state can be snapshotted with the offsets."""

    def __init__(
        self,
        rules: RuleSet,
        reference: ReferenceSnapshot,
        *,
        lateness: float = 0.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """`lateness`: the reorder bound in seconds of event time (0: detect each batch as given).
        `clock`: wall-clock epoch seconds, for releasing held events on a quiet system (daemon)."""
        self._reference = reference
        self._runtimes: tuple[_Runtime, ...] = ()
        self._watermark = float("-inf")  # newest event time detected
        self._next_sweep = float("-inf")
        self._stored: set[str] = set()  # rule ids the checkpoint has rows or meta for
        self.stats: dict[str, int] = {"events": 0, "alerts": 0, "suppressed": 0, "failed": 0, "late": 0}
        self.lateness = lateness
        self._clock = clock
        self._held: list[AccessEvent] = []  # sorted by (time, id)
        self._seen = float("-inf")  # newest event time that arrived
        self._released = float("-inf")  # newest event time detected from the buffer
        self._waiting: deque[tuple[float, float]] = deque()  # (wall arrival, newest time then)
        self._waited = float("-inf")  # newest time among arrivals that have waited `lateness`
        self._install(rules, {})

    # -- wiring -------------------------------------------------------------------------------

    def _install(self, rules: RuleSet, previous: dict[str, _Runtime]) -> None:
        runtimes = []
        for rule in rules:
            if rule.status == "deprecated":
                continue
            runtime = _Runtime(rule)
            old = previous.get(rule.id)
            if old is not None and old.rule.spec == rule.spec:
                state = orjson.loads(orjson.dumps(old.dump()))
                runtime.load(state, _suppress_json(old.rule) == _suppress_json(rule))
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

    def _admitted(self, key: object) -> tuple[_Runtime, ...]:
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
        enabled = gc.isenabled()
        gc.disable()  # the batch makes no reference cycles; collections mid-batch would cost half the time
        try:
            if self.lateness <= 0 and not self._held and read_to == float("inf"):
                return self._process(events, failures)
            self._hold(events)
            return self._process(self._due(self._bound(), read_to - self.lateness), failures)
        finally:
            if enabled:
                gc.enable()

    def tick(
        self, read_to: float = float("inf"), failures: list[DetectionFailure] | None = None
    ) -> list[Alert]:
        """Alerts from held events the wall clock releases now (call when no new events came)."""
        if not self._held:
            return []
        return self.process((), failures, read_to)

    def flush(self, failures: list[DetectionFailure] | None = None) -> list[Alert]:
        """Detect every held event: the input is complete (end of a scan, backfill or test)."""
        if not self._held:
            return []
        return self._process(self._due(float("inf")), failures)

    @property
    def held(self) -> int:
        """Events waiting in the reorder buffer."""
        return len(self._held)

    def next_release(self) -> float | None:
        """Seconds until the wall clock releases a held event; None when nothing is held (or the
        engine has no clock: then only newer events or `flush` release them)."""
        if not self._held or self._clock is None:
            return None
        now = self._clock()
        due = self._held[0].timestamp + self.lateness
        if self._waiting:
            due = min(due, self._waiting[0][0] + self.lateness)
        return max(0.0, due - now)

    # -- the reorder buffer -------------------------------------------------------------------

    def _hold(self, events: Sequence[AccessEvent]) -> None:
        """Add `events` to the held list, kept sorted by (time, id): each batch is one sorted run
        (the pipeline sorts it), so the sort is a linear merge at C speed."""
        if not events:
            return
        newest = max(map(_TIME, events))
        released = self._released
        if min(map(_TIME, events)) <= released:
            self.stats["late"] += sum(1 for e in events if e.timestamp <= released)
        self._seen = max(self._seen, newest)
        held = self._held
        held.extend(events)
        held.sort(key=_ORDER)
        if self._clock is not None:
            self._waiting.append((self._clock(), self._seen))

    def _bound(self) -> float:
        """The watermark now: held events at or before it are released."""
        bound = self._seen - self.lateness
        if self._clock is not None:
            now = self._clock()
            bound = max(bound, now - self.lateness)
            waiting = self._waiting
            cutoff = now - self.lateness
            while waiting and waiting[0][0] <= cutoff:
                self._waited = max(self._waited, waiting.popleft()[1])
            bound = max(bound, self._waited)
        return bound

    def _due(self, bound: float, cap: float = float("inf")) -> list[AccessEvent]:
        """Release held events at or before `bound` and strictly before `cap` (a source with unread
        data has reached `cap`: its next events may share that time)."""
        held = self._held
        cut = bisect_right(held, bound, key=_TIME)
        if cap != float("inf"):
            cut = min(cut, bisect_left(held, cap, key=_TIME))
        out = held[:cut]
        del held[:cut]
        if out:  # an event arriving later than this one now comes too late to be put in order
            self._released = max(self._released, out[-1].timestamp)
        if not held:
            self._waiting.clear()
        return out

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
        enabled = gc.isenabled()
        gc.disable()  # serialising large state allocates a lot; full collections would dominate
        try:
            body = {
                "version": SNAPSHOT_VERSION,
                "watermark": self._watermark if self._watermark != float("-inf") else None,
                "rules": {r.rule.id: r.dump() for r in self._runtimes},
                "held": self._dump_held(),
            }
            return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
        finally:
            if enabled:
                gc.enable()

    def state_delta(self) -> StateDelta:
        """The rows that changed since the previous delta (or since `restore_rows`): per rule and
        group key, the key's state, or a deletion. A rule that is new, reloaded with another
        window, or whose stored state was dropped, is rewritten whole."""
        enabled = gc.isenabled()
        gc.disable()  # many small allocations; nothing here makes cycles
        try:
            return self._delta()
        finally:
            if enabled:
                gc.enable()

    def _delta(self) -> StateDelta:
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
                    "spec": _spec_json(runtime.rule.spec),
                    "suppress": _suppress_json(runtime.rule),
                    "kind": kind.meta(),
                },
                option=orjson.OPT_SORT_KEYS,
            )
            if body != runtime.meta_written:
                meta.append((rule_id, body))
                runtime.meta_written = body
        watermark = self._watermark if self._watermark != float("-inf") else None
        meta.append(
            (ENGINE_META, dumps({"version": ROWS_VERSION, "watermark": watermark, "held": self._dump_held()}))
        )
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
            if meta["spec"] != _spec_json(rule.spec):
                continue
            runtime.kind.load_rows(meta["kind"], _decoded(stored.rows.get((rule_id, "k"), ())))
            kept = stored.rows.get((rule_id, "s"), [])
            if runtime.suppressor is not None and meta["suppress"] == _suppress_json(rule):
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
        self._load_held(engine_state.get("held"))
        return True

    def restore(self, data: bytes) -> None:
        """Load a snapshot; state of rules whose window or suppression definition changed is dropped."""
        body = orjson.loads(data)
        if body.get("version") != SNAPSHOT_VERSION:
            return
        saved = body.get("rules", {})
        for runtime in self._runtimes:
            state = saved.get(runtime.rule.id)
            if state is None or state["spec"] != _spec_json(runtime.rule.spec):
                continue
            runtime.load(state, state["suppress"] == _suppress_json(runtime.rule))
            runtime.cache = None
        self._sweep_due = float("-inf")
        if body.get("watermark") is not None:
            self._watermark = float(body["watermark"])
            self._next_sweep = self._watermark + SWEEP_EVERY
        self._load_held(body.get("held"))

    def _dump_held(self) -> dict[str, Any] | None:
        """The reorder buffer: events read (their offsets may be checkpointed) but not yet detected."""
        if not self._held and self._seen == float("-inf"):
            return None
        return {
            "seen": self._seen if self._seen != float("-inf") else None,
            "released": self._released if self._released != float("-inf") else None,
            "events": [_event_json(e) for e in self._held],
        }

    def _load_held(self, data: dict[str, Any] | None) -> None:
        self._held, self._waiting = [], deque()
        self._seen = self._released = self._waited = float("-inf")
        if not data:
            return
        if data.get("seen") is not None:
            self._seen = float(data["seen"])
        if data.get("released") is not None:
            self._released = float(data["released"])
        self._held = [_event_from_json(item) for item in data.get("events", ())]  # already sorted
        if self._held and self._clock is not None:  # restored events wait at most `lateness` more
            self._waiting.append((self._clock(), self._seen))


def _event_json(event: AccessEvent) -> list[Any]:
    """A held event for the snapshot: its document and where it was read from. The raw bytes are
    left out (the document holds `event.original`; detection and evidence use only path and offset)."""
    raw, fields = event.raw, event.fields
    return [
        event.id,
        event.timestamp,
        fields if fields.__class__ is dict else dict(fields),  # no copy to serialise a dict
        [raw.source, raw.path, raw.file_key, raw.offset, raw.end],
    ]


def _event_from_json(item: list[Any]) -> AccessEvent:
    event_id, ts, fields, raw = item
    source, path, file_key, offset, end = raw
    return AccessEvent(event_id, float(ts), fields, RawLine(source, path, file_key, offset, end, b"", 0))


def _decoded(rows: Iterable[tuple[bytes, bytes]]) -> Iterator[tuple[tuple[object, ...], Any]]:
    for key, value in rows:
        yield key_from_json(orjson.loads(key)), orjson.loads(value)
