"""The time kernel: timestamp and date formats, time zones, and the one ISO-8601 formatter.

- `formats`: strftime-like formats (``%d/%m/%Y %H:%M:%S.%f``, ``iso8601``, ``epoch``, ``epoch_ms``)
  compiled to regexes with named groups; ``compile_date``.
- `zones`: tz database zones, numeric offsets, zone abbreviations (``%Z``).
- `parser`: `TimestampParser` (``text, reference -> epoch seconds UTC``): per-hour caches, local
  zones (ambiguous and skipped hours), years for yearless formats.
- `iso`: `iso_utc`, the one epoch -> ISO-8601 formatter and its one rounding rule (to the
  microsecond, then truncated to the millisecond); the ``fromisoformat`` reader of the usual ISO
  layout.

Import the public names from here (``from auditwatch.timefmt import iso_utc``).
"""

from __future__ import annotations

from auditwatch.timefmt.formats import compile_date, format_to_regex
from auditwatch.timefmt.iso import iso_utc
from auditwatch.timefmt.parser import TimestampParser, compile_timestamp
from auditwatch.timefmt.zones import AMBIGUOUS_ABBREVIATIONS, ZONE_ABBREVIATIONS, zone_abbreviations

__all__ = [
    "AMBIGUOUS_ABBREVIATIONS",
    "ZONE_ABBREVIATIONS",
    "TimestampParser",
    "compile_date",
    "compile_timestamp",
    "format_to_regex",
    "iso_utc",
    "zone_abbreviations",
]
