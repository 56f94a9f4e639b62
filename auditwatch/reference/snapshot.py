"""Load every configured export into one immutable `ReferenceSnapshot`.

An export is rejected whole when it cannot be read or decoded, lacks a needed column, has fewer
than `min_rows` usable rows, or more than `max_bad_rows_percent` of its rows are bad. Exports are
judged one by one: a rejected export keeps its own last good version (if it had one) while the
others update. Individual bad rows are reported (file:line [column]) and skipped. Exports whose
file and settings did not change since the previous snapshot are reused as they are, so a changed
roster does not re-read a million case links.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Final, TypeVar
from zoneinfo import ZoneInfo

from auditwatch.errors import EXPORT_REJECTED, LOAD_FAILED, ConfigError, Problem
from auditwatch.normalise import Normaliser, build_normaliser
from auditwatch.reference.builders import build_table
from auditwatch.reference.compact import release_free_memory
from auditwatch.reference.config import ReferenceConfig, SourceConfig
from auditwatch.reference.converters import RowProblems
from auditwatch.reference.identity import IdentityIndex
from auditwatch.reference.readers import BrokenExport, open_rows
from auditwatch.reference.surnames import SurnameRarity
from auditwatch.reference.tables import (
    AssignmentTable,
    CaseLinkTable,
    ListTable,
    PersonTable,
    RosterTable,
    StaffTable,
    SurnameTable,
    Table,
)

if TYPE_CHECKING:
    from auditwatch.reference.view import UserFacts

Fingerprint = tuple[int, int, int]  # inode, size, mtime (ns)
T = TypeVar("T", bound=Table)
_DAY_BUCKET: Final = 900
_MIN_AT: Final = -62_135_596_800.0 + 86_400.0  # 0001-01-02 UTC: inside datetime in every zone
_MAX_AT: Final = 253_402_300_799.0 - 86_400.0  # 9999-12-30 UTC
_MISS: Final = object()  # every time zone's offset is a multiple of 15 minutes


@dataclass(frozen=True)
class LoadedSource:
    """One export as loaded: its settings, the file version read, and the table built."""

    config: SourceConfig
    fingerprint: Fingerprint
    table: Table
    skipped_rows: int = 0  # bad rows skipped (all of them, not only the ones reported one by one)
    ignored_values: int = 0  # bad cells ignored in rows that were kept


class ReferenceSnapshot:
    """All reference data at one moment; never changes after it is built (a reload builds a new one)."""

    __slots__ = (
        "_day_cache",
        "_id_cache",
        "_users",
        "_zone",
        "assignments",
        "associates",
        "case_links",
        "config",
        "identity",
        "loaded_at",
        "normalise_case_ref",
        "normalise_person_id",
        "normalise_record_id",
        "normalise_staff_id",
        "persons",
        "rarity",
        "roster_grace",
        "rosters",
        "sources",
        "staff",
        "watchlists",
    )

    config: ReferenceConfig
    sources: tuple[LoadedSource, ...]
    staff: tuple[StaffTable, ...]
    persons: tuple[PersonTable, ...]
    watchlists: tuple[ListTable, ...]
    associates: tuple[ListTable, ...]
    assignments: tuple[AssignmentTable, ...]
    case_links: tuple[CaseLinkTable, ...]
    rosters: tuple[RosterTable, ...]
    rarity: SurnameRarity
    identity: IdentityIndex
    roster_grace: float
    loaded_at: float
    normalise_staff_id: Normaliser
    normalise_person_id: Normaliser
    normalise_record_id: Normaliser
    normalise_case_ref: Normaliser
    _day_cache: dict[int, str]
    _id_cache: dict[str, str | None]
    _users: dict[str, UserFacts]  # facts per raw user id, filled and bounded by view.EventView
    _zone: tzinfo

    def __init__(
        self,
        cfg: ReferenceConfig,
        sources: tuple[LoadedSource, ...],
        loaded_at: float,
        reuse: ReferenceSnapshot | None = None,
    ) -> None:
        """`reuse`: a snapshot whose identity index and surname rarity are taken over when the tables they
        are built from are the very same (a reload that changed only other exports)."""
        tables = [s.table for s in sources]
        put = object.__setattr__
        put(self, "config", cfg)
        put(self, "sources", sources)
        put(self, "loaded_at", loaded_at)
        put(self, "staff", _of(tables, StaffTable, "staff"))
        put(self, "persons", _of(tables, PersonTable, "persons"))
        put(self, "watchlists", _of(tables, ListTable, "watchlist"))
        put(self, "associates", _of(tables, ListTable, "associates"))
        put(self, "assignments", _of(tables, AssignmentTable, "assignments"))
        put(self, "case_links", _of(tables, CaseLinkTable, "case_links"))
        put(self, "rosters", _of(tables, RosterTable, "roster"))
        put(self, "roster_grace", cfg.roster_grace_seconds)
        identity_from = (self.persons, self.staff, self.watchlists, self.associates)
        if reuse is not None and _same_tables(
            identity_from, (reuse.persons, reuse.staff, reuse.watchlists, reuse.associates)
        ):
            put(self, "identity", reuse.identity)
        else:
            put(self, "identity", IdentityIndex(*identity_from))
        for name in ("staff_id", "person_id", "record_id", "case_ref"):
            put(self, f"normalise_{name}", build_normaliser(cfg.identifiers.get(name, "trim")))
        surname_tables = _of(tables, SurnameTable, "surnames")
        put(self, "_zone", ZoneInfo(cfg.timezone) if cfg.timezone.upper() not in ("UTC", "GMT") else UTC)
        put(self, "_day_cache", {})
        put(self, "_id_cache", {})
        put(self, "_users", {})
        reused_surnames = _of([s.table for s in reuse.sources], SurnameTable, "surnames") if reuse else ()
        if reuse is not None and _same_tables((self.staff, surname_tables), (reuse.staff, reused_surnames)):
            put(self, "rarity", reuse.rarity)
            return
        staff_counts: dict[str, int] = {}
        for staff in self.staff:
            for name, count in staff.surname_counts.items():
                staff_counts[name] = staff_counts.get(name, 0) + count
        freq: dict[str, float] | None = None
        if surname_tables:
            freq = {}
            for table in surname_tables:
                freq.update(table.counts)
        put(
            self,
            "rarity",
            SurnameRarity(
                freq,
                max(freq.values(), default=0.0) if freq else 0.0,
                staff_counts,
                sum(len(s.by_id) for s in self.staff),
            ),
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a ReferenceSnapshot is immutable")

    def local_day(self, at: float) -> str:
        """The ISO date, in the configured time zone, of epoch seconds `at` (clamped to the range
        `datetime` represents in every zone, so no event time makes it raise)."""
        if not _MIN_AT <= at <= _MAX_AT:
            at = 0.0 if math.isnan(at) else (_MIN_AT if at < _MIN_AT else _MAX_AT)
        bucket = int(at // _DAY_BUCKET)
        cache: dict[int, str] = self._day_cache
        day = cache.get(bucket)
        if day is None:
            day = datetime.fromtimestamp(bucket * _DAY_BUCKET, self._zone).date().isoformat()
            if len(cache) > 50_000:
                cache.clear()
            cache[bucket] = day
        return day

    def staff_id_of(self, raw: str) -> str | None:
        """`raw` normalised like HR staff numbers (cached: the same users act all day)."""
        return self._cached_id("s", self.normalise_staff_id, raw)

    def case_ref_of(self, raw: str) -> str | None:
        """`raw` normalised like the exports' case references (cached)."""
        return self._cached_id("c", self.normalise_case_ref, raw)

    def _cached_id(self, kind: str, normalise: Callable[[str], str | None], raw: str) -> str | None:
        cache = self._id_cache
        key = kind + raw
        found = cache.get(key, _MISS)
        if found is _MISS:
            if len(cache) > 200_000:
                cache.clear()
            found = cache[key] = normalise(raw)
        return found  # type: ignore[return-value]

    def describe(self, now: float | None = None) -> list[dict[str, object]]:
        """One line per export in force, for status output: rows, as-of date and age of the file version."""
        now = datetime.now(UTC).timestamp() if now is None else now
        return [
            {
                "kind": s.table.kind,
                "source": s.table.source,
                "as_of": s.table.as_of,
                "rows": s.table.rows,
                "age_hours": round(max(0.0, now - s.fingerprint[2] / 1e9) / 3600, 1),
            }
            for s in self.sources
        ]


def _same_tables(a: tuple[tuple[Table, ...], ...], b: tuple[tuple[Table, ...], ...]) -> bool:
    """Whether each group of tables in `a` is the very same tables as in `b`."""
    return all(
        len(x) == len(y) and all(t is u for t, u in zip(x, y, strict=True)) for x, y in zip(a, b, strict=True)
    )


def _of(tables: list[Table], cls: type[T], kind: str) -> tuple[T, ...]:
    return tuple(t for t in tables if isinstance(t, cls) and t.kind == kind)


def empty_reference() -> ReferenceSnapshot:
    """A snapshot with no reference data: every user unknown, nothing matches."""
    return ReferenceSnapshot(ReferenceConfig(), (), 0.0)


@dataclass(frozen=True)
class ReferenceLoad:
    """One (re)load: the snapshot built, warnings about skipped rows, and the exports rejected this time.

    A rejected export that had a good version in the previous snapshot keeps it (it is in force, but
    stale); one without is not in force at all (`missing`).
    """

    snapshot: ReferenceSnapshot
    warnings: list[Problem]
    rejected: tuple[tuple[SourceConfig, tuple[Problem, ...]], ...]

    @property
    def missing(self) -> tuple[SourceConfig, ...]:
        kept = [loaded.config for loaded in self.snapshot.sources]
        return tuple(source for source, _ in self.rejected if source not in kept)


# Exports whose old version is worth freeing as soon as the new one is built (see `load_sources`).
_LARGE: Final = frozenset({"persons", "case_links", "assignments", "roster"})


def load_sources(
    cfg: ReferenceConfig,
    previous: ReferenceSnapshot | None = None,
    *,
    clock: Callable[[], float] | None = None,
    publish: Callable[[ReferenceSnapshot], None] | None = None,
) -> ReferenceLoad:
    """Load every export, judging each on its own; never raises for a broken export.

    Exports unchanged since `previous` (same settings, same file version) are reused; a rejected one
    keeps its version from `previous`. When nothing changed, `previous` itself is returned.

    `publish` (a reload in the daemon): called with a snapshot each time a large export (persons, case
    links, assignments, roster) has been rebuilt, holding it and the other exports as they are so far
    (new where already reloaded, else previous), so that the caller can swap it in and the old version
    of that export is freed at once: a full reload then needs memory for one export more, not for a
    second copy of all of them. The small exports are loaded first and their changes published with the
    first large one (or the result).
    """
    reusable: list[LoadedSource | None] = list(previous.sources) if previous is not None else []
    sources = cfg.sources
    loaded: list[LoadedSource | None] = [None] * len(sources)
    warnings: list[list[Problem]] = [[] for _ in sources]
    rejected: list[tuple[SourceConfig, tuple[Problem, ...]] | None] = [None] * len(sources)
    fresh = False
    stamp: list[float] = []  # when this load's first snapshot was made (the clock is read once)

    def now() -> float:
        if not stamp:
            stamp.append(clock() if clock is not None else datetime.now(UTC).timestamp())
        return stamp[0]

    last = previous
    for i in sorted(range(len(sources)), key=lambda i: sources[i].kind in _LARGE):  # small exports first
        source = sources[i]
        try:
            fingerprint = _fingerprint(source)
            reuse = _find(reusable, source, fingerprint)
            if reuse is not None:
                loaded[i] = reuse
                continue
            table, counted, problems = _load_one(source, cfg, fingerprint)
        except Exception as exc:  # BrokenExport, or a reader bug: either way this export alone fails
            if isinstance(exc, BrokenExport):
                found: tuple[Problem, ...] = (exc.problem, *exc.row_problems)
            else:
                failure = f"could not be loaded: {type(exc).__name__}: {exc}"
                found = (Problem(source.path, None, "", failure, code=LOAD_FAILED),)
            rejected[i] = (source, found)
            loaded[i] = _find(reusable, source, None)
            continue
        loaded[i] = LoadedSource(source, fingerprint, table, counted.skipped, counted.warnings)
        warnings[i] = problems
        fresh = True
        if publish is not None and source.kind in _LARGE:
            # drop every reference to the versions replaced so far, then publish
            for j, done in enumerate(loaded):
                if done is not None:
                    _forget(reusable, sources[j], done)
            previous = None
            partial = [
                done if done is not None else _find(reusable, other, None)
                for done, other in zip(loaded, sources, strict=True)
            ]
            last = ReferenceSnapshot(cfg, tuple(x for x in partial if x is not None), now(), reuse=last)
            publish(last)
            release_free_memory()
    result = [x for x in loaded if x is not None]
    problems_found = [p for found in warnings for p in found]
    rejections = tuple(r for r in rejected if r is not None)
    if not fresh and previous is not None and previous.config == cfg and _same(result, previous.sources):
        return ReferenceLoad(previous, problems_found, rejections)
    snapshot = ReferenceSnapshot(cfg, tuple(result), now(), reuse=last)
    if fresh:
        release_free_memory()
    return ReferenceLoad(snapshot, problems_found, rejections)


def _forget(reusable: list[LoadedSource | None], source: SourceConfig, keep: LoadedSource) -> None:
    """Drop the previous version(s) of `source` other than `keep` from `reusable`."""
    for k, old in enumerate(reusable):
        if old is not None and old is not keep and old.config == source:
            reusable[k] = None


def load_reference(
    cfg: ReferenceConfig,
    previous: ReferenceSnapshot | None = None,
    *,
    clock: Callable[[], float] | None = None,
) -> tuple[ReferenceSnapshot, list[Problem]]:
    """Load every export; (snapshot, warnings about skipped rows). ConfigError if any export is broken.

    Exports unchanged since `previous` (same settings, same file version) are reused.
    """
    result = load_sources(cfg, previous, clock=clock)
    if result.rejected:
        raise ConfigError([problem for _, problems in result.rejected for problem in problems])
    return result.snapshot, result.warnings


def _same(loaded: list[LoadedSource], before: tuple[LoadedSource, ...]) -> bool:
    return len(loaded) == len(before) and all(a is b for a, b in zip(loaded, before, strict=True))


def _find(
    reusable: list[LoadedSource | None], source: SourceConfig, fingerprint: Fingerprint | None
) -> LoadedSource | None:
    """The previous version of `source`: of exactly that file version, or (None) of any version."""
    for loaded in reusable:
        if (
            loaded is not None
            and (fingerprint is None or loaded.fingerprint == fingerprint)
            and loaded.config == source
        ):
            return loaded
    return None


def _fingerprint(source: SourceConfig) -> Fingerprint:
    try:
        st = os.stat(source.path)
    except OSError as exc:
        raise BrokenExport(
            Problem(source.path, None, "", f"cannot read: {exc.strerror or exc}", code=EXPORT_REJECTED)
        ) from exc
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _load_one(
    source: SourceConfig, cfg: ReferenceConfig, fingerprint: Fingerprint
) -> tuple[Table, RowProblems, list[Problem]]:
    as_of = datetime.fromtimestamp(fingerprint[2] / 1e9, UTC).date().isoformat()
    problems = RowProblems(source, cfg.max_reported_rows)
    export = open_rows(source)
    table = build_table(source, cfg, export, as_of, problems)
    total = table.rows + problems.skipped
    limit = source.max_bad_rows_percent
    if limit is None:
        limit = cfg.max_bad_rows_percent
    reason = None
    if total and problems.skipped * 100.0 > limit * total:
        reason = f"{problems.skipped} of {total} rows are bad (more than {limit:g}%)"
    elif table.rows < source.min_rows:
        reason = f"only {table.rows} usable rows (min_rows: {source.min_rows}); a broken extraction?"
    if reason is not None:
        rejection = Problem(source.path, None, "", f"export rejected: {reason}", code=EXPORT_REJECTED)
        raise BrokenExport(rejection, problems.reported)
    summary = []
    flagged = problems.skipped + problems.warnings
    if flagged:
        listed = f" (first {len(problems.reported)} listed)" if len(problems.reported) < flagged else ""
        summary.append(
            Problem(
                source.path,
                None,
                "",
                f"{table.rows} rows loaded, {problems.skipped} bad rows skipped, "
                f"{problems.warnings} values ignored{listed}",
            )
        )
    return table, problems, [*problems.reported, *summary]
