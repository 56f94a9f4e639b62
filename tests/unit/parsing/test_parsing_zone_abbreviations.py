"""`%Z` in timestamp formats: zone abbreviations and numeric offsets, as PostgreSQL's %m/%t print them."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditwatch.parsing import load_parser
from auditwatch.timefmt import TimestampParser, iso_utc

FORMATS = ["%Y-%m-%d %H:%M:%S.%f %Z", "%Y-%m-%d %H:%M:%S %Z"]
PARSER_FILE = Path(__file__).resolve().parents[3] / "parsers" / "pgaudit.yml"


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-07-01 10:00:00.123 BST", "2026-07-01T09:00:00.123Z"),
        ("2026-12-01 10:00:00 GMT", "2026-12-01T10:00:00.000Z"),
        ("2026-12-01 10:00:00 CET", "2026-12-01T09:00:00.000Z"),
        ("2026-07-01 10:00:00 CEST", "2026-07-01T08:00:00.000Z"),
        ("2026-12-01 10:00:00 EST", "2026-12-01T15:00:00.000Z"),
        ("2026-12-01 10:00:00 +0545", "2026-12-01T04:15:00.000Z"),
        ("2026-12-01 10:00:00 -03", "2026-12-01T13:00:00.000Z"),
        ("2026-12-01 10:00:00 +05:30", "2026-12-01T04:30:00.000Z"),
    ],
)
def test_abbreviations_and_numeric_offsets_are_read_as_written(text: str, utc: str) -> None:
    """Each zone text gives the instant it stands for, whatever the parser's own time zone."""
    for zone in ("UTC", "Europe/London"):
        value = TimestampParser(FORMATS, zone)(text)
        assert value is not None
        assert iso_utc(value) == utc


def test_ambiguous_and_unknown_abbreviations_are_refused_with_a_reason() -> None:
    """IST (Irish, Indian, Israeli) is never guessed: no time, and the reason says what to do."""
    parse = TimestampParser(FORMATS)
    assert parse("2026-12-01 10:00:00 IST") is None
    assert "ambiguous" in parse.explain("2026-12-01 10:00:00 IST")
    assert parse("2026-12-01 10:00:00 XYZ") is None
    assert "unknown time zone abbreviation 'XYZ'" in parse.explain("2026-12-01 10:00:00 XYZ")


def test_a_configured_zone_resolves_its_own_abbreviations_exactly() -> None:
    """With `timezone:`, the zone's own abbreviations apply: Dublin's IST is +01:00, Kolkata's +05:30,
    and in the repeated autumn hour GMT and IST tell the two occurrences apart."""
    dublin = TimestampParser(FORMATS, "Europe/Dublin")
    assert iso_utc(dublin("2026-07-01 10:00:00 IST") or 0) == "2026-07-01T09:00:00.000Z"
    assert iso_utc(dublin("2026-10-25 01:30:00 IST") or 0) == "2026-10-25T00:30:00.000Z"
    assert iso_utc(dublin("2026-10-25 01:30:00 GMT") or 0) == "2026-10-25T01:30:00.000Z"
    kolkata = TimestampParser(FORMATS, "Asia/Kolkata")
    assert iso_utc(kolkata("2026-12-01 10:00:00 IST") or 0) == "2026-12-01T04:30:00.000Z"


def test_the_shipped_pgaudit_examples_cover_every_prefix_form() -> None:
    """The shipped parser's examples (default, %a, pgBadger, RDS, verbose, %n, numeric and named zones)
    all pass."""
    assert load_parser(PARSER_FILE).check_examples() == []
