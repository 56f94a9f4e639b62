"""Date and timestamp formats compiled to regexes with named groups, and the calendar arithmetic
shared by the timestamp parser and ``compile_date``.

A format is strftime-like (``%d/%m/%Y %H:%M:%S.%f``, ``%b %d %H:%M:%S``, ``%Y-%m-%dT%H:%M:%S%z``) or
one of the names ``iso8601``, ``epoch`` (seconds, may be fractional) and ``epoch_ms``. A space in a
format matches one or more blanks. Each format becomes one regex with named groups.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
CACHE_LIMIT: Final = 20_000

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

ISO8601: Final = (
    r"(?P<Y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"
    r"(?:[Tt ](?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d{1,9}))?)?)?"
    r" ?(?P<z>[Zz]|[+-]\d{2}(?::?\d{2})?)?"
)
# the usual ISO-8601 shape, tried first on the hot path: whatever it matches the full iso8601 regex
# matches with the same groups, so the two share one hour cache (the parser's regex path; the
# usual layout itself goes through `iso.iso_fast_path` first)
ISO8601_USUAL: Final = re.compile(
    r"(?P<Y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})[Tt ](?P<H>\d{2}):(?P<M>\d{2}):(?P<S>\d{2})"
    r"(?:[.,](?P<f>\d{1,9}))?(?P<z>[Zz]|[+-]\d{2}(?::?\d{2})?)?"
)
EPOCH_RX: Final = re.compile(r"\s*(-?\d+(?:\.\d+)?)\s*")
HOUR_KEY_GROUPS: Final = ("Y", "y", "m", "b", "d", "H", "I", "p")


def format_to_regex(fmt: str) -> str:
    """The regex (with named groups) for one strftime-like format; ValueError for a bad format."""
    if fmt == "iso8601":
        return ISO8601
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


def year_of(groups: dict[str, str | None]) -> int | None:
    if groups.get("Y"):
        return int(groups["Y"] or 0)
    short = groups.get("y")
    if short:
        value = int(short)
        return value + (1900 if value >= 69 else 2000)  # the POSIX pivot, as strptime
    return None


def month_of(groups: dict[str, str | None]) -> int:
    if groups.get("m"):
        return int(groups["m"] or 0)
    name = groups.get("b")
    if name:
        return _MONTHS.get(name.lower(), 0)
    return 1


def hour_of(groups: dict[str, str | None]) -> int:
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
class Format:
    text: str
    regex: re.Pattern[str]
    yearless: bool
    epoch_scale: float  # 0 for calendar formats, else the divisor for epoch formats
    key_groups: tuple[int, ...]  # groups ending the "date + hour" prefix, last first
    tail_groups: tuple[int, int, int, int]  # M, S, f, z (always present: empty when not in the format)


def compile_format(fmt: str) -> Format:
    if fmt in ("epoch", "epoch_ms"):
        return Format(fmt, EPOCH_RX, False, 1.0 if fmt == "epoch" else 1000.0, (), (0, 0, 0, 0))
    body = format_to_regex(fmt)
    # groups the format lacks match the empty string up front, so the hot path reads all four at once
    missing = "".join(f"(?P<{g}>)" for g in ("M", "S", "f", "z") if f"(?P<{g}>" not in body)
    regex = re.compile(missing + r"\s*" + body + r"\s*")
    names = set(regex.groupindex)
    index = regex.groupindex
    key_groups = tuple(sorted((index[g] for g in HOUR_KEY_GROUPS if g in index), reverse=True))
    tail = (index["M"], index["S"], index["f"], index["z"])
    return Format(fmt, regex, not names & {"Y", "y"}, 0.0, key_groups, tail)


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
                result = date(year_of(groups) or 0, month_of(groups), int(groups.get("d") or 1)).isoformat()
                break
            except ValueError:
                continue
        if len(cache) >= CACHE_LIMIT:
            cache.clear()
        cache[text] = result
        return result

    return parse_date


_MISS: Final = object()
