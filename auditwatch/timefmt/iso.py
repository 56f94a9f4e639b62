"""ISO-8601 both ways: the one formatter (epoch -> ``…T02:45:38.123Z``) and the hot path that reads
the usual ISO-8601 layout with ``datetime.fromisoformat``.

The formatter's rounding rule is documented on `iso_utc`. The reader takes only what the
``iso8601`` format's regex accepts with exactly the same result: a pre-check lets through
``YYYY-MM-DD[Tt ]HH:MM:SS`` followed by an optional fraction (``.`` or ``,``, 1 to 9 digits) and an
optional ``Z``/``z`` or numeric offset (``+01``, ``+0100``, ``+01:00``; hours 0-23, minutes 0-59),
which ``fromisoformat`` would otherwise read more leniently (any separator, week dates, ``+01:60``,
fractions cut at 6 digits). Whatever fails the pre-check or ``fromisoformat`` (a leap second, an
invalid date, non-ASCII digits) and any local hour in which the zone's offset changes go to the
regex path, which decides.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from auditwatch.timefmt.formats import CACHE_LIMIT
from auditwatch.timefmt.zones import offset_seconds

#: (text, reference) -> epoch seconds or None
Parse = Callable[[str, float | None], float | None]
#: (year, month, day, hour) -> the zone's UTC offset in seconds in that local hour, None if it changes
LocalOffset = Callable[[int, int, int, int], int | None]

_iso_hours: dict[int, str] = {}
_TWO: Final = tuple(f"{i:02d}:" for i in range(60))
_MILLIS: Final = tuple(f".{i:03d}Z" for i in range(1000))
_SECONDS: Final = tuple(f"{i:02d}" for i in range(60))

# what may follow the seconds: the same fraction and offset groups as the iso8601 format's regex
_TAIL: Final = re.compile(r"(?:[.,](\d{1,9}))?([Zz]|[+-]\d{2}(?::?\d{2})?)?")
# the characters at 4, 7, 10, 13 and 16 (``text[4:17:3]``) of the layouts the reader takes
_SHAPES: Final = frozenset({"--T::", "--t::", "-- ::"})
_UNREAD: Final[tuple[float, int | None]] = (math.nan, None)  # a tail not read yet
_UNKNOWN: Final = 1 << 40  # an hour whose offset is not looked up yet


def iso_utc(epoch: float) -> str:
    """``2026-11-25T02:45:38.123Z`` for `epoch` seconds: THE ISO-8601 formatter (parsing, reference,
    detection and indexing all use this one).

    The rounding rule: the epoch is first rounded to the microsecond, half to even, as
    ``datetime.fromtimestamp`` does, then TRUNCATED to the millisecond, as
    ``datetime.isoformat(timespec="milliseconds")`` does: ``…40.9996`` is ``…40.999Z``, and only
    ``…40.9999995`` and up is ``…41.000Z``. The output is exactly
    ``datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")`` with ``Z`` for
    ``+00:00`` (what alert and dead-letter documents always used, so their ids and bodies keep), at
    a fraction of its cost: Elasticsearch's ``date`` keeps milliseconds."""
    whole = int(epoch)  # toward zero; `epoch - whole` is then exact, as C's modf()
    micros = round((epoch - whole) * 1e6)  # half to even, as datetime.fromtimestamp
    if not 0 <= micros < 1_000_000:  # before 1970, or rounded up into the next second
        whole += micros // 1_000_000
        micros %= 1_000_000
    hour, rest = divmod(whole, 3600)
    prefix = _iso_hours.get(hour)
    if prefix is None:
        if len(_iso_hours) >= CACHE_LIMIT:
            _iso_hours.clear()
        prefix = datetime.fromtimestamp(hour * 3600, UTC).isoformat()[:14]  # years < 1000 padded too
        _iso_hours[hour] = prefix
    minute, second = divmod(rest, 60)
    return prefix + _TWO[minute] + _SECONDS[second] + _MILLIS[micros // 1000]


def iso_fast_path(parse: Parse, local_offset: LocalOffset | None) -> Parse:
    """Wrap `parse` (the regex path of a parser whose first format is ``iso8601``) with the
    ``fromisoformat`` reader. `local_offset` is the configured zone's offset per local hour (None:
    UTC): a text without its own offset is read in that zone."""
    tails: dict[str, tuple[float, int | None] | None] = {}  # ".345+01:00" -> (fraction, offset or None)
    hour_offsets: dict[str, int | None] = {}  # "2026-11-25T02" -> local offset (None: it changes)
    fromisoformat = datetime.fromisoformat
    tail_match = _TAIL.fullmatch
    shapes = _SHAPES
    epoch = datetime(1970, 1, 1)  # naive: fromisoformat of the 19 characters gives naive times
    unread = _UNREAD

    def read_tail(tail: str) -> tuple[float, int | None] | None:
        match = tail_match(tail)
        found: tuple[float, int | None] | None = None
        if match is not None:
            frac, zone = match.group(1, 2)
            try:
                found = (int(frac) / 10 ** len(frac) if frac else 0.0, offset_seconds(zone) if zone else None)
            except ValueError:  # an offset beyond 23:59: the regex path says None
                found = None
        if len(tails) >= CACHE_LIMIT:
            tails.clear()
        tails[tail] = found
        return found

    def parse_iso(text: str, reference: float | None = None) -> float | None:
        known = tails.get(text[19:], unread)
        if known is unread:
            known = read_tail(text[19:])
        if known is None or text[4:17:3] not in shapes:
            return parse(text, reference)
        try:
            moment = fromisoformat(text[:19])
        except ValueError:
            return parse(text, reference)
        # the same whole seconds (a float holding an integer: exact), then the same float additions in
        # the same order as the regex path
        seconds = (moment - epoch).total_seconds()
        fraction, offset = known
        if offset is not None:
            return seconds + fraction - offset
        if local_offset is None:
            return seconds + fraction
        hour_key = text[:13]
        local = hour_offsets.get(hour_key, _UNKNOWN)
        if local == _UNKNOWN:
            local = local_offset(moment.year, moment.month, moment.day, moment.hour)
            if len(hour_offsets) >= CACHE_LIMIT:
                hour_offsets.clear()
            hour_offsets[hour_key] = local
        if local is None:  # the offset changes inside this hour: the exact way
            return parse(text, reference)
        return seconds - local + fraction

    return parse_iso
