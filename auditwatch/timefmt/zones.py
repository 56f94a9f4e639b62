"""Time zones: tz database names, numeric UTC offsets and zone abbreviations.

``%Z`` reads a zone abbreviation (``BST``, ``CET``; see ``ZONE_ABBREVIATIONS``, or the configured
zone's own) or a numeric offset, as PostgreSQL prints them; ``%z`` a numeric offset only.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


def zone_info(name: str) -> ZoneInfo | None:
    """The tz database zone `name`; None for UTC (no zone arithmetic); ValueError if unknown."""
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
    zone = zone_info(name)
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


def offset_seconds(text: str, abbreviations: dict[str, int] | None = None) -> int:
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


def unknown_zone(zone: str) -> str:
    """Why a zone abbreviation read from a timestamp was refused (worded for a dead letter)."""
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
