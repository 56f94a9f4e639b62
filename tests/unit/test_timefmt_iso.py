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
    "auditwatch.reference.enrich",
    "auditwatch.reference.tables",
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
)


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
