"""Date and timestamp formats compiled to regexes and integer arithmetic at load time.

A format is strftime-like (``%d/%m/%Y %H:%M:%S.%f``, ``%b %d %H:%M:%S``, ``%Y-%m-%dT%H:%M:%S%z``) or
one of the names ``iso8601``, ``epoch`` (seconds, may be fractional) and ``epoch_ms``. A space in a
format matches one or more blanks. Each format becomes one regex with named groups; the epoch of
the hour a value falls in is cached by the value's text up to its hour, so a typical event costs one
regex match, one dict lookup and a few ``int()`` calls (``datetime.strptime`` costs ~8 µs).

``%Z`` reads a zone abbreviation (``BST``, ``CET``; see ``ZONE_ABBREVIATIONS``, or the configured zone's own)
or a numeric offset, as PostgreSQL prints them; ``%z`` a numeric offset only.

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

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
_FUTURE_TOLERANCE: Final = 2 * 86400.0
_CACHE_LIMIT: Final = 20_000

_MONTHS: Final[dict[str, int]] = {
    name: index
    for index, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}

# directive -> (group name, regex when separated from neighbours, regex when packed against one)
_DIRECTIVES: Final[dict[str, tuple[str, str, str]]] = {
    "Y": ("Y", r"\d{4}", r"\d{4}"),
    "y": ("y", r"\d{2}", r"\d{2}"),
    "m": ("m", r"\d{1,2}", r"\d{2}"),
    "d": ("d", r"\d{1,2}", r"\d{2}"),
    "e": ("d", r"\d{1,2}", r"\d{2}"),
    "H": ("H", r"\d{1,2}", r"\d{2}"),
    "I": ("I", r"\d{1,2}", r"\d{2}"),
    "M": ("M", r"\d{1,2}", r"\d{2}"),
    "S": ("S", r"\d{1,2}", r"\d{2}"),
    "f": ("f", r"\d{1,9}", r"\d{1,9}"),
    "b": ("b", r"[A-Za-z]{3}", r"[A-Za-z]{3}"),
    "h": ("b", r"[A-Za-z]{3}", r"[A-Za-z]{3}"),
    "B": ("b", r"[A-Za-z]{3,9}", r"[A-Za-z]{3,9}"),
    "a": ("", r"[A-Za-z]{3}", r"[A-Za-z]{3}"),
    "A": ("", r"[A-Za-z]{3,9}", r"[A-Za-z]{3,9}"),
    "p": ("p", r"[AaPp][Mm]", r"[AaPp][Mm]"),
    "z": ("z", r"[Zz]|[+-]\d{2}(?::?\d{2})?", r"[Zz]|[+-]\d{2}(?::?\d{2})?"),
    "Z": ("z", r"[A-Za-z]{1,6}|[+-]\d{2}(?::?\d{2})?", r"[A-Za-z]{1,6}|[+-]\d{2}(?::?\d{2})?"),
}

# %Z: zone abbreviations read without a configured `timezone` (UTC offset in minutes). Only those
# with one meaning in common use; with a `timezone`, that zone's own abbreviations (taken from the
# tz database: Europe/Dublin's IST is +01:00, Asia/Kolkata's +05:30) come first.
# fmt: off
ZONE_ABBREVIATIONS: Final[dict[str, int]] = {
    "UTC": 0, "UT": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 60, "BST": 60,
    "CET": 60, "CEST": 120, "MET": 60, "MEST": 120, "EET": 120, "EEST": 180, "MSK": 180,
    "WAT": 60, "CAT": 120, "SAST": 120, "EAT": 180,
    "EST": -300, "EDT": -240, "CDT": -300, "MST": -420, "MDT": -360, "PST": -480, "PDT": -420,
    "AKST": -540, "AKDT": -480, "HST": -600, "NST": -210, "NDT": -150, "ADT": -180,
    "JST": 540, "KST": 540, "HKT": 480, "PKT": 300, "WIB": 420,
    "AWST": 480, "ACST": 570, "ACDT": 630, "AEST": 600, "AEDT": 660, "NZST": 720, "NZDT": 780,
}
# fmt: on
AMBIGUOUS_ABBREVIATIONS: Final[dict[str, str]] = {
    "IST": "Irish +01:00, India +05:30 or Israel +02:00",
    "CST": "US Central -06:00, China +08:00 or Cuba -05:00",
    "AST": "Atlantic -04:00 or Arabia +03:00",
}

_ISO8601: Final = (
    r"(?P<Y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"
    r"(?:[Tt ](?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d{1,9}))?)?)?"
    r" ?(?P<z>[Zz]|[+-]\d{2}(?::?\d{2})?)?"
)
# the usual ISO-8601 shape, tried first on the hot path: whatever it matches the full iso8601 regex
# matches with the same groups, so the two share one hour cache
_ISO8601_USUAL: Final = re.compile(
    r"(?P<Y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})[Tt ](?P<H>\d{2}):(?P<M>\d{2}):(?P<S>\d{2})"
    r"(?:[.,](?P<f>\d{1,9}))?(?P<z>[Zz]|[+-]\d{2}(?::?\d{2})?)?"
)
_EPOCH_RX: Final = re.compile(r"\s*(-?\d+(?:\.\d+)?)\s*")
_HOUR_KEY_GROUPS: Final = ("Y", "y", "m", "b", "d", "H", "I", "p")
_Parse = Callable[[str, float | None], float | None]  # (text, reference) -> epoch seconds or None


def format_to_regex(fmt: str) -> str:
    """The regex (with named groups) for one strftime-like format; ValueError for a bad format."""
    if fmt == "iso8601":
        return _ISO8601
    items: list[str | tuple[str, str, str]] = []
    i = 0
    while i < len(fmt):
        char = fmt[i]
        if char == "%":
            if i + 1 >= len(fmt):
                raise ValueError(f"format {fmt!r} ends with a lone '%'")
            code = fmt[i + 1]
            if code == "%":
                items.append("%")
            elif code in _DIRECTIVES:
                items.append(_DIRECTIVES[code])
            else:
                raise ValueError(
                    f"format {fmt!r}: unsupported directive %{code} "
                    f"(supported: {' '.join('%' + c for c in _DIRECTIVES)} %%)"
                )
            i += 2
        else:
            items.append(char)
            i += 1
    seen: set[str] = set()
    parts: list[str] = []
    for index, item in enumerate(items):
        if isinstance(item, str):
            parts.append(r"\s+" if item == " " else re.escape(item))
            continue
        group, loose, packed = item
        near = [items[j] for j in (index - 1, index + 1) if 0 <= j < len(items)]
        body = packed if any(not isinstance(n, str) for n in near) else loose
        if group and group not in seen:
            seen.add(group)
            parts.append(f"(?P<{group}>{body})")
        elif group:
            raise ValueError(f"format {fmt!r} uses %{group} twice")
        else:
            parts.append(f"(?:{body})")
    if "I" in seen and "p" not in seen:
        raise ValueError(f"format {fmt!r}: %I needs %p")
    if not seen & {"Y", "y", "m", "b", "d", "H", "I"}:
        raise ValueError(f"format {fmt!r} has no date or time directive")
    return "".join(parts)


def _zone(name: str) -> ZoneInfo | None:
    if name.upper() in ("UTC", "Z", "GMT", "ETC/UTC"):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


@functools.lru_cache(maxsize=64)
def zone_abbreviations(name: str) -> dict[str, int]:
    """The abbreviations a tz database zone has used since 1970 -> UTC offset in minutes (the latest
    meaning wins when one was reused)."""
    zone = _zone(name)
    if zone is None:
        return {}
    found: dict[str, int] = {}
    step = 14 * 86400
    for instant in range(0, int(datetime(2040, 1, 1, tzinfo=UTC).timestamp()), step):
        local = datetime.fromtimestamp(instant, zone)
        abbreviation, offset = local.tzname(), local.utcoffset()
        if abbreviation and offset is not None and abbreviation[0] not in "+-":
            found[abbreviation] = int(offset.total_seconds()) // 60
    return found


def _offset_seconds(text: str, abbreviations: dict[str, int] | None = None) -> int:
    """A numeric UTC offset (``+01``, ``-0330``, ``+05:30``, ``Z``) or a zone abbreviation; ValueError."""
    if text in ("Z", "z"):
        return 0
    if text[0] not in "+-":
        table = ZONE_ABBREVIATIONS if abbreviations is None else abbreviations
        minutes = table.get(text, table.get(text.upper()))
        if minutes is None:
            raise ValueError(text)
        return minutes * 60
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours = int(digits[:2])
    minutes = int(digits[2:4]) if len(digits) >= 4 else 0
    if hours > 23 or minutes > 59:
        raise ValueError(text)
    return sign * (hours * 3600 + minutes * 60)


def _year_of(groups: dict[str, str | None]) -> int | None:
    if groups.get("Y"):
        return int(groups["Y"] or 0)
    short = groups.get("y")
    if short:
        value = int(short)
        return value + (1900 if value >= 69 else 2000)  # the POSIX pivot, as strptime
    return None


def _month_of(groups: dict[str, str | None]) -> int:
    if groups.get("m"):
        return int(groups["m"] or 0)
    name = groups.get("b")
    if name:
        return _MONTHS.get(name.lower(), 0)
    return 1


def _hour_of(groups: dict[str, str | None]) -> int:
    if groups.get("H"):
        return int(groups["H"] or 0)
    if groups.get("I"):
        hour12 = int(groups["I"] or 0)
        if not 1 <= hour12 <= 12:
            return 99
        pm = (groups.get("p") or "a").lower().startswith("p")
        return hour12 % 12 + (12 if pm else 0)
    return 0


@dataclass(frozen=True, slots=True)
class _Format:
    text: str
    regex: re.Pattern[str]
    yearless: bool
    epoch_scale: float  # 0 for calendar formats, else the divisor for epoch formats
    key_groups: tuple[int, ...]  # groups ending the "date + hour" prefix, last first
    tail_groups: tuple[int, int, int, int]  # M, S, f, z (always present: empty when not in the format)


def _compile_format(fmt: str) -> _Format:
    if fmt in ("epoch", "epoch_ms"):
        return _Format(fmt, _EPOCH_RX, False, 1.0 if fmt == "epoch" else 1000.0, (), (0, 0, 0, 0))
    body = format_to_regex(fmt)
    # groups the format lacks match the empty string up front, so the hot path reads all four at once
    missing = "".join(f"(?P<{g}>)" for g in ("M", "S", "f", "z") if f"(?P<{g}>" not in body)
    regex = re.compile(missing + r"\s*" + body + r"\s*")
    names = set(regex.groupindex)
    index = regex.groupindex
    key_groups = tuple(sorted((index[g] for g in _HOUR_KEY_GROUPS if g in index), reverse=True))
    tail = (index["M"], index["S"], index["f"], index["z"])
    return _Format(fmt, regex, not names & {"Y", "y"}, 0.0, key_groups, tail)


class TimestampParser:
    """A compiled list of formats: ``parser(text, reference=None) -> epoch seconds UTC or None``.

    Whether a text carries its own UTC offset is decided per match (``iso8601`` makes it optional):
    one with an offset is read with it, one without in the configured time zone."""

    def __init__(self, formats: Sequence[str], timezone: str = "UTC") -> None:
        if isinstance(formats, str) or not formats:
            raise ValueError("formats must be a non-empty list of formats")
        self.formats: tuple[str, ...] = tuple(formats)
        self.timezone = timezone
        self._zone = _zone(timezone)
        self._compiled = tuple(_compile_format(f) for f in formats)
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
            groups = _ISO8601_USUAL.groupindex
            usual = (
                _ISO8601_USUAL.fullmatch,
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
        return self._usual_iso(parse)

    def _usual_iso(self, parse: _Parse) -> _Parse:
        """Wrap `parse` with a regex-free path for the usual ISO-8601 layout: the hour's epoch by the
        text up to the hour, the text after the seconds (fraction and offset) from a small cache, the
        minute and second sliced out; only layouts `_ISO8601_USUAL` matched before take it, and any
        miss goes to `parse`, which then fills both caches."""
        usual = _ISO8601_USUAL.fullmatch
        hours_zoned, hours_local = self._cache_pair()  # filled only from usual-layout texts
        tails: dict[str, tuple[float, int, bool]] = {}  # ".345+01:00" -> (fraction, offset, has offset)
        hour_caches = self._hour_caches[0]
        isnan = math.isnan

        def learn(text: str, value: float) -> None:
            if text[16:17] != ":":
                return
            match = usual(text)
            if match is None:
                return
            minute, second, frac, zone = match.group("M", "S", "f", "z")
            hour_key = text[:13]
            base = hour_caches[0 if zone else 1].get(hour_key)
            if base is None or isnan(base):
                return
            fraction = int(frac) / 10 ** len(frac) if frac else 0.0
            try:
                offset = _offset_seconds(zone) if zone else 0
            except ValueError:
                return
            if base + int(minute) * 60 + int(second) + fraction - offset != value:
                return  # not what `parse` computed: leave this text to it
            hours = hours_zoned if zone else hours_local
            if len(hours) >= _CACHE_LIMIT:
                hours.clear()
            hours[hour_key] = base
            if len(tails) >= _CACHE_LIMIT:
                tails.clear()
            tails[text[19:]] = (fraction, offset, bool(zone))

        def parse_iso(text: str, reference: float | None = None) -> float | None:
            tail = tails.get(text[19:])
            if tail is not None:
                fraction, offset, zoned = tail
                base = (hours_zoned if zoned else hours_local).get(text[:13])
                if base is not None and len(text) >= 19 and text[13] == ":" and text[16] == ":":
                    minute = text[14:16]
                    second = text[17:19]
                    if minute.isdecimal() and second.isdecimal():
                        m = int(minute)
                        s = int(second)
                        if m <= 59 and s <= 60:  # else `parse` says why not
                            return base + m * 60 + s + fraction - offset
            value = parse(text, reference)
            if value is not None:
                learn(text, value)
            return value

        return parse_iso

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
                        return f"{shown!r}: {self._unknown_zone(zone)}"
                return f"{shown!r} is not a valid date/time for {fmt.text}"
        return f"{shown!r} does not match {' or '.join(self.formats)}"

    def _unknown_zone(self, zone: str) -> str:
        meaning = AMBIGUOUS_ABBREVIATIONS.get(zone.upper())
        if meaning is not None:
            return (
                f"time zone abbreviation {zone!r} is ambiguous ({meaning}): give the timestamp "
                "field the server's `timezone:` (an IANA name)"
            )
        return (
            f"unknown time zone abbreviation {zone!r}: give the timestamp field the server's "
            "`timezone:` (an IANA name), or log numeric offsets"
        )

    def _from_match(
        self, index: int, fmt: _Format, match: re.Match[str], reference: float | None
    ) -> float | None:
        groups = match.groupdict()
        if fmt.yearless:
            base = self._yearless_base(groups, reference)
        else:
            key_end = max(match.end(g) for g in _HOUR_KEY_GROUPS if groups.get(g) is not None)
            key = match.string[:key_end]
            hour_cache = self._hour_caches[index][0 if groups.get("z") else 1]
            cached = hour_cache.get(key)
            if cached is None:
                year = _year_of(groups)
                cached = self._hour_base(year or 1970, groups)
                if cached is None:
                    return None
                if len(hour_cache) >= _CACHE_LIMIT:
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
            offset = _offset_seconds(text, self._abbreviations)
            if len(self._zone_offsets) < 4096:  # a few dozen exist
                self._zone_offsets[text] = offset
        return offset

    def _hour_base(self, year: int, groups: dict[str, str | None]) -> float | None:
        month = _month_of(groups)
        day = int(groups.get("d") or 1)
        hour = _hour_of(groups)
        try:
            ordinal = date(year, month, day).toordinal()
        except ValueError:
            return None
        if hour > 23:
            return None
        naive = (ordinal - _EPOCH_ORDINAL) * 86400 + hour * 3600
        if self._zone is None or groups.get("z"):
            return float(naive)
        offset = self._local_offset(year, month, day, hour)
        if offset is None:  # the offset changes inside this hour: the caller goes the exact way
            return math.nan
        return float(naive - offset)

    def _exact_local(self, groups: dict[str, str | None], reference: float | None) -> float | None:
        year = _year_of(groups)
        if year is None:
            ref = reference if reference is not None else datetime.now(UTC).timestamp()
            year = datetime.fromtimestamp(ref, UTC).year
        try:
            local = datetime(
                year,
                _month_of(groups),
                int(groups.get("d") or 1),
                _hour_of(groups),
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
        if len(self._offset_cache) >= _CACHE_LIMIT:
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


def compile_date(formats: Sequence[str]) -> Callable[[str], str | None]:
    """Compile date `formats` into ``text -> "YYYY-MM-DD"`` (None if none fits or the date is invalid)."""
    if isinstance(formats, str) or not formats:
        raise ValueError("formats must be a non-empty list of formats")
    regexes = []
    for fmt in formats:
        regex = re.compile(r"\s*" + format_to_regex(fmt) + r"\s*")
        if not set(regex.groupindex) & {"Y", "y"}:
            raise ValueError(f"date format {fmt!r} has no year (%Y or %y)")
        regexes.append(regex)
    cache: dict[str, str | None] = {}

    def parse_date(text: str) -> str | None:
        hit = cache.get(text, _MISS)
        if hit is not _MISS:
            return hit  # type: ignore[return-value]
        result: str | None = None
        for regex in regexes:
            match = regex.fullmatch(text)
            if match is None:
                continue
            groups = match.groupdict()
            try:
                result = date(_year_of(groups) or 0, _month_of(groups), int(groups.get("d") or 1)).isoformat()
                break
            except ValueError:
                continue
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[text] = result
        return result

    return parse_date


_MISS: Final = object()
_iso_hours: dict[int, str] = {}
_TWO: Final = tuple(f"{i:02d}:" for i in range(60))
_MILLIS: Final = tuple(f".{i:03d}Z" for i in range(1000))
_modf: Final = math.modf


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
    fraction, whole = _modf(epoch)
    millis = (int(whole) * 1_000_000 + round(fraction * 1_000_000)) // 1000  # floor, also below 1970
    hour, rest = divmod(millis, 3_600_000)
    prefix = _iso_hours.get(hour)
    if prefix is None:
        if len(_iso_hours) >= _CACHE_LIMIT:
            _iso_hours.clear()
        prefix = datetime.fromtimestamp(hour * 3600, UTC).isoformat()[:14]  # years < 1000 padded too
        _iso_hours[hour] = prefix
    minute, rest = divmod(rest, 60_000)
    second, milli = divmod(rest, 1000)
    return prefix + _TWO[minute] + _TWO[second][:2] + _MILLIS[milli]
