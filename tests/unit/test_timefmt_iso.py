"""The one ISO-8601 formatter and its one rounding rule, pinned at the boundary for every user.

The rule (`auditwatch.timefmt.iso_utc`): round to the microsecond (half to even), then truncate to
the millisecond, exactly as ``datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")``:
``…59.9996`` is ``…59.999Z``, not the next second.
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from auditwatch import timefmt
from auditwatch.detection import DetectionEngine, RuleSet, load_ruleset
from auditwatch.detection.evidence import unpack
from auditwatch.detection.testing import RULE_HEADER, alert_section
from auditwatch.indexing.body import BodyBuilder
from auditwatch.model import AccessEvent, Alert, RawLine
from auditwatch.parsing import load_parser
from auditwatch.reference.snapshot import empty_reference
from auditwatch.schema import IndexNames
from auditwatch.timefmt import iso_utc

SECOND = datetime(2026, 11, 25, 2, 59, 59, tzinfo=UTC).timestamp()
BOUNDARY = SECOND + 0.9996  # rounds up to 03:00:00.000, truncates to 02:59:59.999
TRUNCATED = "2026-11-25T02:59:59.999Z"

# every module that formats an epoch as ISO-8601 text: each must use the kernel's formatter
USERS = (
    "auditwatch.parsing.runtime",
    "auditwatch.parsing.mapping",
    "auditwatch.parsing.specialise",
    "auditwatch.reference.evidence",
    "auditwatch.reference.builders",
    "auditwatch.detection.alerts",
    "auditwatch.detection.evidence",
    "auditwatch.detection.casetest",
    "auditwatch.indexing.body",
    "auditwatch.indexing.deliver",
    "auditwatch.jobs.heartbeat",
    "auditwatch.jobs.silence",
    "auditwatch.triage.store",
    "auditwatch.triage.risk",
    "auditwatch.pipeline",
    "auditwatch.normalise",
    "auditwatch.commands.scanning",
    "auditwatch.commands.parsecmd",
)
PACKAGE = Path(__file__).resolve().parents[2] / "auditwatch"


def _datetime_iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_the_boundary_truncates() -> None:
    """…0.9996 stays in its second; only what rounds to a whole microsecond crosses it."""
    assert iso_utc(BOUNDARY) == TRUNCATED
    assert iso_utc(SECOND + 0.9994) == TRUNCATED
    assert iso_utc(SECOND + 0.9999994) == TRUNCATED
    assert iso_utc(SECOND + 0.9999996) == "2026-11-25T03:00:00.000Z"  # rounds to the microsecond first
    assert iso_utc(SECOND + 0.0005) == "2026-11-25T02:59:59.000Z"
    assert iso_utc(-0.0004) == "1969-12-31T23:59:59.999Z"
    assert iso_utc(0) == "1970-01-01T00:00:00.000Z"
    year_one = datetime(1, 11, 25, 9, 45, 12, 345678, tzinfo=UTC).timestamp()
    assert iso_utc(year_one) == "0001-11-25T09:45:12.345Z" == _datetime_iso(year_one)


@given(st.floats(min_value=-6.2e10, max_value=2.5e11, allow_nan=False))
def test_equals_datetime_isoformat(epoch: float) -> None:
    """Byte for byte what `datetime` gives (what alert and dead-letter ids were built with)."""
    assert iso_utc(epoch) == _datetime_iso(epoch)


@given(st.integers(min_value=0, max_value=4_000_000_000), st.integers(min_value=0, max_value=999_999))
def test_equals_datetime_isoformat_at_every_microsecond(second: int, micro: int) -> None:
    epoch = second + micro / 1e6
    assert iso_utc(epoch) == _datetime_iso(epoch)


def test_every_user_formats_with_the_kernel() -> None:
    """No module keeps a formatter of its own (one rounding rule everywhere)."""
    for name in USERS:
        module = importlib.import_module(name)
        assert module.iso_utc is timefmt.iso_utc, name
    importers = {
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for path in PACKAGE.rglob("*.py")
        if "iso_utc" in path.read_text(encoding="utf-8") and "timefmt" not in path.relative_to(PACKAGE).parts
    }
    assert importers - {"auditwatch.testing.scenarios.replay"} == set(USERS)  # the list is complete
    # the scenario generator (testing/) writes logs, each in its own format's way
    others = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if 'timespec="milliseconds"' in path.read_text(encoding="utf-8")
        and not {"timefmt", "testing"} & set(path.relative_to(PACKAGE).parts)
    ]
    assert others == []  # a second epoch -> ISO formatter


def test_parsing_truncates_at_the_boundary(tmp_path: Path) -> None:
    """A logged …59.9996 is indexed as …59.999, for @timestamp and for any other timestamp field."""
    path = tmp_path / "p.yml"
    path.write_text(
        "name: p\ndataset: p.audit\ndecoder: pattern\n"
        'pattern: "%{NOTSPACE:ts} %{NOTSPACE:seen} %{WORD:user}"\n'
        "fields:\n"
        '  "@timestamp": {from: ts, formats: [iso8601]}\n'
        "  event.created: {from: seen, formats: [iso8601]}\n"
        "  user.id: {from: user, required: true}\n",
        encoding="utf-8",
    )
    parser = load_parser(path)
    data = b"2026-11-25T02:59:59.9996Z 2026-11-25T02:59:59.9996+00:00 alice"
    raw = RawLine("src", "/x.log", "k", 0, len(data) + 1, data, len(data))
    event = parser.parse(raw, "2026-11-25T12:00:00.000Z")
    assert isinstance(event, AccessEvent)
    assert event.fields["@timestamp"] == TRUNCATED
    assert event.fields["event.created"] == TRUNCATED


def test_detection_truncates_at_the_boundary(tmp_path: Path) -> None:
    """An alert's window and restored evidence name the event's millisecond, not the next second."""
    (tmp_path / "r1.yml").write_text(
        RULE_HEADER.format(id="r1") + "condition: event.action == person_view\n", encoding="utf-8"
    )
    rules: RuleSet = load_ruleset(tmp_path)
    raw = RawLine("test", "/logs/audit.log", "key", 0, 99, b"x", 99)
    fields = {"event.action": "person_view", "user.id": "MP1"}  # no @timestamp: the alert formats its own
    [alert] = DetectionEngine(rules, empty_reference()).process([AccessEvent("ev1", BOUNDARY, fields, raw)])
    section = alert_section(alert)
    assert section["window"]["start"] == TRUNCATED
    assert alert.fields["@timestamp"] == TRUNCATED
    assert unpack(BOUNDARY, ["ev1", "/logs/audit.log", 0, "h"])["@timestamp"] == TRUNCATED


def test_indexing_truncates_at_the_boundary() -> None:
    """An alert document without its own @timestamp gets the alert's time, truncated."""
    op = BodyBuilder(IndexNames("t")).alert(Alert("a1", BOUNDARY, "r1", {"rule": {"id": "r1"}}))
    assert b'"@timestamp":"2026-11-25T02:59:59.999Z"' in op.payload


# -- the ISO reader: fromisoformat behind a pre-check, the same results as the regex path -------------


def _two(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda i: f"{i:02d}")


_FRACTIONS = st.one_of(
    st.just(""),
    st.builds(lambda sep, ds: sep + ds, st.sampled_from([".", ",", ":"]), st.text("0123456789", max_size=11)),
    st.builds(lambda ds: "." + ds, st.text("05٣２", min_size=1, max_size=4)),  # non-ASCII digits
)
_ZONES = st.one_of(
    st.sampled_from(
        ["", "Z", "z", "+00:00", "-00:00", "+01:00", "+0100", "+01", "-05:30", "+23:59", "+24:00"]
    ),
    st.sampled_from(["+01:60", " +01:00", "+01:0", "+01:00:30", "BST", " Z"]),
    st.builds(
        lambda sign, h, m, colon: f"{sign}{h:02d}{colon}{m:02d}",
        st.sampled_from("+-"),
        st.integers(0, 30),
        st.integers(0, 70),
        st.sampled_from(["", ":"]),
    ),
)
ISO_LIKE = st.builds(
    lambda y, mo, d, sep, h, mi, s, frac, zone, end: f"{y}-{mo}-{d}{sep}{h}:{mi}:{s}{frac}{zone}{end}",
    st.sampled_from(["2026", "1970", "0000", "0001", "9999", "1969", "20x6", "２０26"]),
    _two(0, 13),
    _two(0, 32),
    st.sampled_from(["T", "t", " ", "X"]),
    _two(0, 25),
    _two(0, 61),
    _two(0, 61),
    _FRACTIONS,
    _ZONES,
    st.sampled_from(["", "", " ", "x"]),
)
# local hours around the clock changes of 2026 (London: 29 March and 25 October)
AROUND_CHANGES = st.builds(
    lambda day, h, mi, frac: f"2026-{day} {h:02d}:{mi:02d}:00{frac}",
    st.sampled_from(["03-29", "10-25", "03-28", "03-08", "11-01"]),
    st.integers(0, 3),
    st.integers(0, 59),
    st.sampled_from(["", ".5", ",25"]),
)
ZONES = ("UTC", "Europe/London", "America/New_York", "Asia/Kolkata")


#: (fast parser, the regex path of another parser of the same formats: the reference, no ISO reader)
PAIRS = [
    (timefmt.TimestampParser(formats, zone), timefmt.TimestampParser(formats, zone)._slow)
    for formats in (["iso8601"], ["iso8601", "%d/%m/%Y %H:%M:%S"])
    for zone in ZONES
]


@given(st.one_of(ISO_LIKE, AROUND_CHANGES, st.text(max_size=30)))
def test_iso_reader_equals_the_regex_path(text: str) -> None:
    """For every zone, the fast reader gives exactly (same float, or None) what the format's regex
    path gives, on first sight of a text and again; the pre-check keeps what the regex refuses refused."""
    for fast, regex_path in PAIRS:
        expected = regex_path(text, None)
        assert fast(text) == expected
        assert fast(text) == expected  # now from the caches


def test_iso_reader_keeps_the_regex_strictness() -> None:
    """What fromisoformat alone would read differently: refused, or read as the regex reads it."""
    parse = timefmt.TimestampParser(["iso8601"])
    base = datetime(2026, 11, 25, 2, 45, tzinfo=UTC).timestamp()
    for refused in (
        "2026-W48-3T02:45:38",  # a week date
        "2026-11-25X02:45:38",  # any separator
        "2026-11-25T02:45:38+01:60",  # a 60-minute offset
        "2026-11-25T02:45:38+24:00",
        "2026-11-25T02:45:38.Z",  # a dot without digits
        "2026-11-25T02:45:38+01:00:30",  # seconds in the offset
        "2026-11-25T24:00:00",
    ):
        assert parse(refused) is None, refused
    assert parse("2026-11-25T02:45:38.123456789Z") == base + 38 + 123456789 / 10**9  # 9 digits, not 6
    assert parse("2026-11-25T02:45:60Z") == base + 60  # a leap second is the next minute's first
    assert parse("2026-11-25t02:45:38z") == base + 38
    assert parse("2026-11-25 02:45:38 +01:00") == base + 38 - 3600  # the regex path's optional space
