"""The timestamp parser: a list of formats compiled once, read with integer arithmetic per hour.

The epoch of the hour a value falls in is cached by the value's text up to its hour, so a typical
event costs one regex match, one dict lookup and a few ``int()`` calls (``datetime.strptime`` costs
~8 µs); a parser whose first format is ``iso8601`` reads the usual layout with
``datetime.fromisoformat`` first (`iso.iso_fast_path`).

Local time zones (``Europe/London``) go through ``zoneinfo`` once per local date and hour:
- an ambiguous local time (the repeated hour when clocks go back) is read as its FIRST occurrence
  (PEP 495 ``fold=0``, i.e. still summer time);
- a non-existent local time (the skipped hour when clocks go forward) is shifted forward by the
  length of the gap: it is read with the offset in force before the change (01:30 on the spring
  day in London is 01:30 UTC, i.e. 02:30 BST), which is what a clock that had not yet changed meant.

Formats without a year (syslog's ``%b %d %H:%M:%S``) take the year from a reference time (when
the line was received): the latest year that does not put the event more than two days after the
reference, so ``Dec 31 23:59:59`` received on 1 January belongs to the previous year and
``Jan  1 00:00:01`` from a fast clock received on 31 December to the next.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Final

from auditwatch.timefmt.formats import (
    CACHE_LIMIT,
    EPOCH_ORDINAL,
    HOUR_KEY_GROUPS,
    ISO8601_USUAL,
    Format,
    compile_format,
    hour_of,
    month_of,
    year_of,
)
from auditwatch.timefmt.iso import iso_fast_path
from auditwatch.timefmt.zones import (
    ZONE_ABBREVIATIONS,
    offset_seconds,
    unknown_zone,
    zone_abbreviations,
    zone_info,
)

_FUTURE_TOLERANCE: Final = 2 * 86400.0


class TimestampParser:
    """A compiled list of formats: ``parser(text, reference=None) -> epoch seconds UTC or None``.

    Whether a text carries its own UTC offset is decided per match (``iso8601`` makes it optional):
    one with an offset is read with it, one without in the configured time zone."""

    def __init__(self, formats: Sequence[str], timezone: str = "UTC") -> None:
        if isinstance(formats, str) or not formats:
            raise ValueError("formats must be a non-empty list of formats")
        self.formats: tuple[str, ...] = tuple(formats)
        self.timezone = timezone
        self._zone = zone_info(timezone)
        self._compiled = tuple(compile_format(f) for f in formats)
        # per format: the text up to the hour -> epoch of that hour (NaN: the offset changes in it);
        # [0] for texts with their own offset, [1] for local texts (the same dict without a zone)
        self._hour_caches: tuple[tuple[dict[str, float], dict[str, float]], ...] = tuple(
            self._cache_pair() for _ in self._compiled
        )
        self._offset_cache: dict[tuple[int, int, int, int], int | None] = {}
        self._abbreviations = {**ZONE_ABBREVIATIONS, **zone_abbreviations(timezone)}
        self._zone_offsets: dict[str, int] = {}  # zone text as written -> offset seconds
        #: ``(text, reference) -> epoch | None``: the same as calling the parser, one layer less
        self.fast: Callable[[str, float | None], float | None] = self._build_fast()

    def _cache_pair(self) -> tuple[dict[str, float], dict[str, float]]:
        naive: dict[str, float] = {}
        return (naive, {} if self._zone is not None else naive)

    def __call__(self, text: str, reference: float | None = None) -> float | None:
        return self.fast(text, reference)

    def _build_fast(self) -> Callable[[str, float | None], float | None]:
        # the leading run of calendar formats with a year goes fast; anything else falls to _slow,
        # which tries every format again in order
        entries = []
        for index, f in enumerate(self._compiled):
            if f.yearless or f.epoch_scale:
                break
            entries.append((f.regex.fullmatch, f.key_groups, f.tail_groups, *self._hour_caches[index]))
        fast = tuple(entries)
        slow = self._slow
        if not fast:
            return slow
        if self.formats[0] == "iso8601":
            groups = ISO8601_USUAL.groupindex
            usual = (
                ISO8601_USUAL.fullmatch,
                (groups["H"],),
                (groups["M"], groups["S"], groups["f"], groups["z"]),
                *self._hour_caches[0],
            )
            fast = (usual, *fast)
        offsets = self._zone_offsets
        zone_offset = self._zone_offset
        isnan = math.isnan

        def parse(text: str, reference: float | None = None) -> float | None:
            # the hot path: the hour's epoch is cached by the text up to the hour
            for fullmatch, key_groups, tail, with_offset, local in fast:
                match = fullmatch(text)
                if match is None:
                    continue
                minute, second, frac, zone = match.group(*tail)
                end = -1
                for group in key_groups:
                    end = match.end(group)
                    if end >= 0:
                        break
                base = (with_offset if zone else local).get(text[:end])
                if base is None or isnan(base):
                    break  # not cached yet, an invalid date, or an hour with a zone change: slow path
                if minute:
                    m = int(minute)
                    if m > 59:
                        return None
                    base += m * 60
                if second:
                    s = int(second)
                    if s > 60:
                        return None
                    base += s
                if frac:
                    base += int(frac) / 10 ** len(frac)
                if zone:
                    offset = offsets.get(zone)
                    if offset is None:
                        try:
                            offset = zone_offset(zone)
                        except ValueError:
                            return None
                    base -= offset
                return base
            return slow(text, reference)

        if self.formats[0] != "iso8601":
            return parse
        return iso_fast_path(parse, None if self._zone is None else self._local_offset)

    def _slow(self, text: str, reference: float | None = None) -> float | None:
        for index, fmt in enumerate(self._compiled):
            match = fmt.regex.fullmatch(text)
            if match is None:
                continue
            if fmt.epoch_scale:
                return float(match.group(1)) / fmt.epoch_scale
            value = self._from_match(index, fmt, match, reference)
            if value is not None:
                return value
        return None

    def explain(self, text: str, reference: float | None = None) -> str:
        """Why `text` gave no timestamp (slow path, used only to word a dead letter)."""
        shown = text if len(text) <= 60 else text[:57] + "..."
        for fmt in self._compiled:
            match = fmt.regex.fullmatch(text)
            if match is not None:
                zone = match.groupdict().get("z")
                if zone:
                    try:
                        self._zone_offset(zone)
                    except ValueError:
                        return f"{shown!r}: {unknown_zone(zone)}"
                return f"{shown!r} is not a valid date/time for {fmt.text}"
        return f"{shown!r} does not match {' or '.join(self.formats)}"

    def _from_match(
        self, index: int, fmt: Format, match: re.Match[str], reference: float | None
    ) -> float | None:
        groups = match.groupdict()
        if fmt.yearless:
            base = self._yearless_base(groups, reference)
        else:
            key_end = max(match.end(g) for g in HOUR_KEY_GROUPS if groups.get(g) is not None)
            key = match.string[:key_end]
            hour_cache = self._hour_caches[index][0 if groups.get("z") else 1]
            cached = hour_cache.get(key)
            if cached is None:
                year = year_of(groups)
                cached = self._hour_base(year or 1970, groups)
                if cached is None:
                    return None
                if len(hour_cache) >= CACHE_LIMIT:
                    hour_cache.clear()
                hour_cache[key] = cached
            base = cached
        if base is None:
            return None
        if math.isnan(base):  # the zone's offset changes inside this hour
            return self._exact_local(groups, reference)
        minute = groups.get("M")
        second = groups.get("S")
        frac = groups.get("f")
        value = base
        if minute:
            m = int(minute)
            if m > 59:
                return None
            value += m * 60
        if second:
            s = int(second)
            if s > 60:
                return None
            value += s
        if frac:
            value += int(frac) / 10 ** len(frac)
        zone = groups.get("z")
        if zone:
            try:
                value -= self._zone_offset(zone)
            except ValueError:
                return None
        return value

    def _zone_offset(self, text: str) -> int:
        """Seconds east of UTC for a zone text as written; ValueError if it is not one."""
        offset = self._zone_offsets.get(text)
        if offset is None:
            offset = offset_seconds(text, self._abbreviations)
            if len(self._zone_offsets) < 4096:  # a few dozen exist
                self._zone_offsets[text] = offset
        return offset

    def _hour_base(self, year: int, groups: dict[str, str | None]) -> float | None:
        month = month_of(groups)
        day = int(groups.get("d") or 1)
        hour = hour_of(groups)
        try:
            ordinal = date(year, month, day).toordinal()
        except ValueError:
            return None
        if hour > 23:
            return None
        naive = (ordinal - EPOCH_ORDINAL) * 86400 + hour * 3600
        if self._zone is None or groups.get("z"):
            return float(naive)
        offset = self._local_offset(year, month, day, hour)
        if offset is None:  # the offset changes inside this hour: the caller goes the exact way
            return math.nan
        return float(naive - offset)

    def _exact_local(self, groups: dict[str, str | None], reference: float | None) -> float | None:
        year = year_of(groups)
        if year is None:
            ref = reference if reference is not None else datetime.now(UTC).timestamp()
            year = datetime.fromtimestamp(ref, UTC).year
        try:
            local = datetime(
                year,
                month_of(groups),
                int(groups.get("d") or 1),
                hour_of(groups),
                int(groups.get("M") or 0),
                min(int(groups.get("S") or 0), 59),
                tzinfo=self._zone,
            )
        except ValueError:
            return None
        frac = groups.get("f")
        return local.timestamp() + (int(frac) / 10 ** len(frac) if frac else 0.0)

    def _local_offset(self, year: int, month: int, day: int, hour: int) -> int | None:
        key = (year, month, day, hour)
        if key in self._offset_cache:
            return self._offset_cache[key]
        assert self._zone is not None
        start = datetime(year, month, day, hour, tzinfo=self._zone).utcoffset() or timedelta(0)
        end = datetime(year, month, day, hour, 59, 59, tzinfo=self._zone).utcoffset() or timedelta(0)
        offset = int(start.total_seconds()) if start == end else None
        if len(self._offset_cache) >= CACHE_LIMIT:
            self._offset_cache.clear()
        self._offset_cache[key] = offset
        return offset

    def _yearless_base(self, groups: dict[str, str | None], reference: float | None) -> float | None:
        if reference is None:
            reference = datetime.now(UTC).timestamp()
        ref_year = datetime.fromtimestamp(reference, UTC).year
        best: float | None = None
        for year in (ref_year + 1, ref_year, ref_year - 1):
            base = self._hour_base(year, groups)
            if base is not None and (math.isnan(base) or base <= reference + _FUTURE_TOLERANCE):
                best = base
                break
        return best


def compile_timestamp(formats: Sequence[str], timezone: str = "UTC") -> Callable[[str], float | None]:
    """Compile `formats` (tried in order) into ``text -> epoch seconds UTC`` (None if none fits)."""
    return TimestampParser(formats, timezone)
