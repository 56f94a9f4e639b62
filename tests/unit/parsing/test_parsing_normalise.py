"""Normalisers and compiled date/timestamp formats, including daylight-saving edges and syslog years."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from auditwatch.normalise import (
    NORMALISERS,
    build_normaliser,
    compile_date,
    compile_timestamp,
    fold_name,
    iso_utc,
    staff_id,
    uk_postcode,
)
from auditwatch.timefmt import TimestampParser


def _epoch(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:  # noqa: PLR0917
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()


@pytest.mark.parametrize("spelling", ["mp012345", "MP 12345", "12345", "MP-012345", " mp12345 ", "012345"])
def test_staff_id_spellings_become_one(spelling: str) -> None:
    """Staff numbers written in different ways normalise to the same identifier."""
    assert staff_id(spelling, prefix="MP", digits=6) == "MP012345"


def test_staff_id_edge_cases() -> None:
    """Too many digits is unusable, other prefixes are kept, empty is None, no padding without digits."""
    assert staff_id("1234567", prefix="MP", digits=6) is None
    assert staff_id("cs 00123", prefix="MP", digits=6) == "CS00123"
    assert staff_id("   ", prefix="MP", digits=6) is None
    assert staff_id("12345", prefix="MP") == "MP12345"


@pytest.mark.parametrize(
    ("name", "folded"),
    [
        ("O'Brien-Smith  José", "obrien smith jose"),
        ("O’BRIEN", "obrien"),
        ("Zoë  Ní Dhomhnaill", "zoe ni dhomhnaill"),
        ("Søren Łukasz", "soren lukasz"),
        ("  ", ""),
        ("STRAßE", "strasse"),
    ],
)
def test_fold_name(name: str, folded: str) -> None:
    """Names are case- and accent-folded, apostrophes dropped and other punctuation collapsed."""
    assert fold_name(name) == folded


@pytest.mark.parametrize(
    ("raw", "postcode"),
    [
        (" sw1a1aa ", "SW1A 1AA"),
        ("m1 1ae", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("SW1A", None),
        ("12345", None),
    ],
)
def test_uk_postcode(raw: str, postcode: str | None) -> None:
    """Postcodes are upper-cased with one space before the inward code; partial ones are unusable."""
    assert uk_postcode(raw) == postcode


def test_build_normaliser_specs_and_chains() -> None:
    """Names, one-key mappings with options and lists (applied in order) all build."""
    assert build_normaliser("upper")(" view ") == "VIEW"
    assert build_normaliser({"staff_id": {"prefix": "MP", "digits": 6}})("mp 7") == "MP000007"
    lookup = build_normaliser({"map": {"values": {"V": "view"}, "default": "other"}})
    assert (lookup("V"), lookup("Q")) == ("view", "other")
    assert build_normaliser({"map": {"values": {"V": "view"}}})("Q") == "Q"
    chain = build_normaliser([{"null_if": {"values": ["N/K"]}}, {"date": {"formats": ["%d/%m/%Y"]}}])
    assert (chain("n/k"), chain("01/02/1980")) == (None, "1980-02-01")
    assert build_normaliser("unquote")('"a ""b"""') == 'a "b"'
    assert build_normaliser({"replace": {"pattern": "(?s),.*$", "with": ""}})("SMITH, John") == "SMITH"
    assert set(NORMALISERS) >= {
        "trim",
        "upper",
        "lower",
        "fold_name",
        "staff_id",
        "uk_postcode",
        "date",
        "map",
    }


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("nope", "unknown normaliser 'nope'"),
        ({"staff_id": {"digits": "six"}}, "digits must be an integer"),
        ({"staff_id": {"width": 6}}, "unknown option 'width'"),
        ({"date": {}}, "formats must be a non-empty list"),
        ({"date": {"formats": ["%Q"]}}, "unsupported directive %Q"),
        ({"upper": None, "lower": None}, "exactly one key"),
        ({"replace": {"pattern": "("}}, "bad pattern"),
        (42, "must be a name, a mapping or a list"),
    ],
)
def test_bad_specs_raise_value_error_with_a_clear_message(spec: Any, words: str) -> None:
    """A wrong spec raises ValueError saying what is wrong."""
    with pytest.raises(ValueError, match=words):
        build_normaliser(spec)


def test_compile_date_formats_and_invalid_dates() -> None:
    """Dates in several formats become ISO; impossible dates are unusable."""
    parse = compile_date(["%d/%m/%Y", "%Y%m%d", "%d-%b-%Y", "%d/%m/%y"])
    assert parse("01/02/1980") == "1980-02-01"
    assert parse("19800201") == "1980-02-01"
    assert parse("01-FEB-1980") == "1980-02-01"
    assert parse("01/02/80") == "1980-02-01"
    assert parse("31/02/1980") is None
    assert parse("yesterday") is None


def test_timestamp_formats_to_epoch() -> None:
    """strftime-like formats, iso8601 and epoch variants give UTC epoch seconds."""
    assert compile_timestamp(["%Y-%m-%d %H:%M:%S.%f"])("2026-11-25 02:45:38.123") == pytest.approx(
        _epoch(2026, 11, 25, 2, 45, 38) + 0.123
    )
    iso = compile_timestamp(["iso8601"])
    assert iso("2026-11-25T02:45:38+01:00") == _epoch(2026, 11, 25, 1, 45, 38)
    assert iso("2026-11-25T02:45:38Z") == _epoch(2026, 11, 25, 2, 45, 38)
    assert compile_timestamp(["%d%b%y %H%M%S"])("25NOV26 094512") == _epoch(2026, 11, 25, 9, 45, 12)
    assert compile_timestamp(["epoch"])("1795599912.5") == 1795599912.5
    assert compile_timestamp(["epoch_ms"])("1795599912500") == 1795599912.5
    assert compile_timestamp(["%d/%m/%Y %I:%M %p"])("25/11/2026 09:45 PM") == _epoch(2026, 11, 25, 21, 45)


def test_timestamp_cache_gives_the_same_answer_twice_and_rejects_bad_values() -> None:
    """The cached hour path agrees with the first computation; invalid fields give None."""
    parse = compile_timestamp(["%d/%m/%Y %H:%M:%S"], "Europe/London")
    first = parse("01/07/2026 10:00:00")
    assert parse("01/07/2026 10:00:00") == first == _epoch(2026, 7, 1, 9, 0)
    assert parse("01/07/2026 10:61:00") is None
    assert parse("31/02/2026 10:00:00") is None
    assert parse("01/07/2026 24:00:00") is None


@pytest.mark.parametrize("timezone", ["UTC", "Europe/London"])
def test_iso_regex_free_path_agrees_with_a_cold_parser(timezone: str) -> None:
    """Once the usual ISO layout is cached, near-miss texts give exactly what a fresh parser gives."""
    warm = TimestampParser(["iso8601"], timezone)
    for primer in ("2026-11-25T09:00:00.345+01:00", "2026-11-25T09:00:00.345", "2026-11-25T09:00:00"):
        warm(primer)
        warm(primer)
    texts = [
        "2026-11-25T09:45:12.345+01:00",
        "2026-11-25T09:45:12.345",
        "2026-11-25T09:45:12",
        "2026-11-25T09:59:60",
        "2026-11-25T09:60:12",
        "2026-11-25T09:45:61",
        "2026-11-25T09:45:1",
        "2026-11-25T09:4x:12",
        "2026-11-25T09:45-12",
        "2026-11-25T09:\u0664\u0665:12.345",
        "2026-11-25T09:\u00b2\u00b2:12.345",
        "2026-11-25T09",
        "2026-11-25",
        " 2026-11-25T09:45:12.345",
        "2026-11-25T09:45:12.345+25:00",
    ]
    for text in texts:
        assert warm(text) == TimestampParser(["iso8601"], timezone)(text), text
        assert warm(text) == TimestampParser(["iso8601"], timezone)(text), text


def test_london_autumn_ambiguous_hour_takes_the_first_occurrence() -> None:
    """01:30 on 25 Oct 2026 happens twice in London: the first (BST, UTC+1) is used."""
    parse = compile_timestamp(["%Y-%m-%d %H:%M:%S"], "Europe/London")
    assert parse("2026-10-25 01:30:00") == _epoch(2026, 10, 25, 0, 30)
    assert parse("2026-10-25 00:59:59") == _epoch(2026, 10, 24, 23, 59, 59)
    assert parse("2026-10-25 02:00:00") == _epoch(2026, 10, 25, 2, 0)


def test_london_spring_gap_is_shifted_forward() -> None:
    """01:30 on 29 Mar 2026 does not exist in London: it is read with GMT (= 02:30 BST)."""
    parse = compile_timestamp(["%Y-%m-%d %H:%M:%S"], "Europe/London")
    assert parse("2026-03-29 01:30:00") == _epoch(2026, 3, 29, 1, 30)
    assert parse("2026-03-29 00:59:59") == _epoch(2026, 3, 29, 0, 59, 59)
    assert parse("2026-03-29 02:00:00") == _epoch(2026, 3, 29, 1, 0)


def test_half_hour_zone_change_inside_an_hour_is_exact() -> None:
    """A zone whose offset changes at half past (Lord Howe) is computed exactly, not per hour."""
    parse = compile_timestamp(["%Y-%m-%d %H:%M:%S"], "Australia/Lord_Howe")
    # clocks go from 02:00 (+11) back to 01:30 (+10:30) on 5 Apr 2026
    assert parse("2026-04-05 01:15:00") == _epoch(2026, 4, 4, 14, 15)
    assert parse("2026-04-05 02:15:00") == _epoch(2026, 4, 4, 15, 45)


def test_syslog_year_rollover_uses_the_receive_time() -> None:
    """A year-less timestamp takes the year that puts it at or just before the receive time."""
    parse = TimestampParser(["%b %d %H:%M:%S"])
    new_year = _epoch(2027, 1, 1, 0, 0, 5)
    assert parse("Dec 31 23:59:58", new_year) == _epoch(2026, 12, 31, 23, 59, 58)
    assert parse("Jan  1 00:00:01", new_year) == _epoch(2027, 1, 1, 0, 0, 1)
    assert parse("Jan  1 00:00:30", _epoch(2026, 12, 31, 23, 59, 50)) == _epoch(2027, 1, 1, 0, 0, 30)
    assert parse("Mar  3 10:00:00", _epoch(2026, 11, 25)) == _epoch(2026, 3, 3, 10)
    assert parse("Feb 29 10:00:00", _epoch(2028, 3, 1)) == _epoch(2028, 2, 29, 10)
    assert parse("Feb 29 10:00:00", _epoch(2027, 3, 1)) is None  # no leap day within a year either side


def test_explain_distinguishes_no_match_from_invalid_date() -> None:
    """The dead-letter wording says whether the shape or the calendar was wrong."""
    parse = TimestampParser(["%d/%m/%Y %H:%M"])
    assert (
        parse.explain("31/02/2026 10:00") == "'31/02/2026 10:00' is not a valid date/time for %d/%m/%Y %H:%M"
    )
    assert parse.explain("tomorrow") == "'tomorrow' does not match %d/%m/%Y %H:%M"


def test_bad_timestamp_specs() -> None:
    """Unknown zones, directives and empty format lists are ValueErrors."""
    for formats, zone in ((["%Y"], "Mars/Olympus"), (["%Y %Q"], "UTC"), ([], "UTC"), (["%I:%M"], "UTC")):
        with pytest.raises(ValueError):  # noqa: PT011 (the messages are checked elsewhere)
            compile_timestamp(formats, zone)


def test_iso_utc() -> None:
    """Epoch seconds format as ISO UTC with milliseconds and Z, across hour boundaries."""
    assert iso_utc(_epoch(2026, 11, 25, 2, 45, 38) + 0.123) == "2026-11-25T02:45:38.123Z"
    assert iso_utc(_epoch(2026, 11, 25, 2, 59, 59) + 0.9996) == "2026-11-25T02:59:59.999Z"  # truncated
    assert iso_utc(0) == "1970-01-01T00:00:00.000Z"
    for seconds in range(0, 86400 * 3, 3607):
        epoch = _epoch(2026, 3, 28) + seconds + 0.25
        assert iso_utc(epoch) == datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.250Z")
