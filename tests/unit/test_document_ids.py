"""Document and alert ids pinned as literals: ids are the contract across releases.

A replay after an upgrade must produce the ids the previous release wrote (`create` turns the
replayed documents into 409s instead of duplicates, and analysts' notes point at alert ids), so
these tests compare with the literal ids, not with the hash formula recomputed: any change to the
formula, the key, the encoding or the length fails here. The formula-based property tests (same
line -> same id, another offset -> another id) live beside the code they test.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import orjson
import pytest

from auditwatch.detection import DetectionEngine, RuleSet, load_ruleset
from auditwatch.detection.alerts import alert_id
from auditwatch.detection.testing import RULE_HEADER
from auditwatch.detection.testing import make_event as event
from auditwatch.indexing.body import BodyBuilder, Operation
from auditwatch.jobs.silence import silence_alert
from auditwatch.model import AccessEvent, Alert, DeadLetter, RawLine
from auditwatch.parsing import CompiledParser, load_parsers
from auditwatch.reference.snapshot import empty_reference
from auditwatch.schema import IndexNames
from auditwatch.timefmt import iso_utc

PARSERS = Path(__file__).resolve().parents[2] / "parsers"
INGESTED = "2026-11-25T12:00:00.000Z"

# One line per shipped parser (each file's first example), read from file key "file-key-1" at
# offset 500: (parser, line, _id, event.id). rms_json, custody_syslog and intel_csv carry an audit
# id (the _id hashes dataset and audit id); pnc_mainframe and pgaudit do not (the _id hashes file
# key, offset and line hash, and is also the event.id).
EVENT_IDS = [
    (
        "rms_json",
        '{"audit_id":"RMS-2026-000184223","ts":"2026-11-25T09:45:12.345+00:00","action":"VIEW", '
        '"user":{"staff_no":"mp 12345","display_name":"PC 1234 Jones"}, '
        '"client":{"ip":"10.20.3.41","terminal":"WS-KX-0042","session":"8f2c1e"}, '
        '"record":{"type":"person","id":"PER/0001234"}, '
        '"subject":{"person_id":"PER/0001234","surname":"O\'Brien","forenames":"Siobhán  Mary", '
        '"dob":"01/02/1980","postcode":"sw1a1aa","address":"12 Acacia Avenue, London"}, '
        '"reason":{"code":"07","case_ref":"cr/1234/26"},"outcome":"SUCCESS"}',
        "L853tDnBJ0UZ-ZvA1xkFWNxD9wY",
        "RMS-2026-000184223",
    ),
    (
        "custody_syslog",
        "<134>1 2026-11-25T09:45:12.345Z custody01.kx.police.example custodyd 4242 ACCESS "
        '[meta@32473 site="KX" shift="late"] eid=C-0000012345 user="mp012345" action=view '
        'custody_ref="cus/26/0001" detainee_id=PER/0009876 detainee_surname="O\'Brien" '
        'detainee_forenames="Seán Patrick" detainee_dob=1990-03-04 reason=07 case_ref="CR/1234/26" '
        "terminal=CUS-KX-03 session=ab12 src=10.3.4.5 role=custody_sergeant",
        "sIepRZaD-tsFCYhQ4iYcJRBhMWc",
        "C-0000012345",
    ),
    (
        "intel_csv",
        'INT-000451,25/11/2026 09:45:12,MP012345,"Jones, Alan",Open,Intel,INT/26/00451,'
        '"SMITH, John",01/02/1980,,,07,op/kestrel,WS-INT-07',
        "eXKWOQ-NDpRpvVx82ch8t_HXbrU",
        "INT-000451",
    ),
    (
        "pnc_mainframe",
        "251125 094512 MP012345 TRM0042 QP  ENQ PERSON SMITH/JOHN/19800201 RSN=07 REF=CR/1234/26 HITS=003",
        "6iPrUe-V7hzWfXlWStZfyXMSPjM",
        "6iPrUe-V7hzWfXlWStZfyXMSPjM",
    ),
    (
        "pgaudit",
        "2026-11-25 02:45:38.123 UTC [41235] alice@policedb LOG:  AUDIT: SESSION,1,1,READ,SELECT,"
        "TABLE,public.person,SELECT surname FROM person WHERE id = 1,<not logged>",
        "8lM9lfVyrxC6Mi0AUmnNjbkH_yE",
        "8lM9lfVyrxC6Mi0AUmnNjbkH_yE",
    ),
]


def _raw(data: bytes, offset: int = 500) -> RawLine:
    return RawLine("src", "/var/log/x.log", "file-key-1", offset, offset + len(data) + 1, data, len(data))


@pytest.fixture(scope="module")
def parsers() -> dict[str, CompiledParser]:
    return load_parsers(PARSERS)


def test_every_shipped_parser_has_a_pinned_event_id(parsers: dict[str, CompiledParser]) -> None:
    """The pins cover each shipped parser (a new parser needs its own pinned id)."""
    assert sorted(name for name, *_ in EVENT_IDS) == sorted(parsers)


@pytest.mark.parametrize(("name", "line", "doc_id", "event_id"), EVENT_IDS, ids=[e[0] for e in EVENT_IDS])
def test_event_ids_are_pinned(
    parsers: dict[str, CompiledParser], name: str, line: str, doc_id: str, event_id: str
) -> None:
    """Each parser's example line gets the _id and event.id earlier releases gave it."""
    event = parsers[name].parse(_raw(line.encode()), INGESTED)
    assert isinstance(event, AccessEvent)
    assert event.id == doc_id
    assert event.fields["event.id"] == event_id


def _ruleset(tmp_path: Path, rule_id: str, body: str) -> RuleSet:
    (tmp_path / f"{rule_id}.yml").write_text(RULE_HEADER.format(id=rule_id) + textwrap.dedent(body))
    return load_ruleset(tmp_path)


def _view(n: int, at: float, subject: str | None = None) -> AccessEvent:
    return event(
        n,
        at,
        user__id="MP000001",
        event__action="person_view",
        auditwatch__subject__person_id=subject or f"P{n}",
    )


def _record(n: int, at: float, kind: str) -> AccessEvent:
    return event(n, at, user__id="U", auditwatch__record__type=kind)


_DAY = 86400.0
# rule kind -> (rule id, rule body, events, the alert ids they raise)
ALERT_IDS = {
    "event": (
        "ev-rule",
        "condition: event.action == person_view\n",
        [_view(1, 0)],
        ["9BHdVT38EiM2NvUAhHCcfqTtVOw"],
    ),
    "threshold": (
        "bulk",
        """\
        kind: threshold
        condition: event.action == person_view
        group_by: [user.id]
        distinct: auditwatch.subject.person_id
        threshold: 3
        window: 10m
        """,
        [_view(1, 0), _view(2, 300), _view(3, 600)],
        ["kvAcsmb2qsQiPbGvsGIh3MMUxSI"],
    ),
    "repeat": (
        "rep",
        """\
        kind: repeat
        condition: event.action == person_view
        group_by: [user.id, auditwatch.subject.person_id]
        days: 3
        window: 7d
        """,
        [_view(1, 0, "S"), _view(2, _DAY, "S"), _view(3, 2 * _DAY, "S")],
        ["vC7ZZwfVpJ53f3Ql98qN2qCk4n8"],
    ),
    "first_seen": (
        "first",
        """\
        kind: first_seen
        condition: exists(auditwatch.record.type)
        group_by: [user.id, auditwatch.record.type]
        learning: 1d
        """,
        [
            _record(1, 0, "person"),
            _record(2, 3600, "vehicle"),
            _record(3, 90000, "vehicle"),
            _record(4, 90001, "firearm"),
        ],
        ["PQfSMCvZlCMd2qZItNjki2IO_CQ"],
    ),
}


@pytest.mark.parametrize("kind", sorted(ALERT_IDS))
def test_alert_ids_are_pinned_for_each_rule_kind(tmp_path: Path, kind: str) -> None:
    """Each rule kind raises, for the same events, the alert ids earlier releases raised."""
    rule_id, body, events, expected = ALERT_IDS[kind]
    alerts = DetectionEngine(_ruleset(tmp_path, rule_id, body), empty_reference()).process(events)
    assert [a.id for a in alerts] == expected
    assert [a.rule_id for a in alerts] == [rule_id] * len(expected)


def test_alert_id_function_is_pinned() -> None:
    """The id of (rule, group key, anchor event), for a scalar group and one holding a list value."""
    assert alert_id("r1", ("MP000001",), "ev1") == "MErxldmf-A17m-iuU6S1thdTSVw"
    assert alert_id("r1", (("a", "b"), 3), "ev9") == "QX52MCzNEM-s9I25vKEW5HJ2s_U"


def test_silence_alert_id_is_pinned() -> None:
    """A source silence alert's id depends on the input and when it went quiet (not on now)."""
    alert = silence_alert("rms", 1_767_607_200.0, 1_767_610_800.0, 3600.0)
    assert alert.id == "ViuVUCByrN6T_H7j-_bSXlzmMrQ"
    assert silence_alert("rms", 1_767_607_200.0, 1_767_700_000.0, 60.0).id == alert.id


def _doc_id(op: Operation) -> str:
    action = orjson.loads(op.payload.split(b"\n")[0])
    return str(action["create"]["_id"])


def test_dead_letter_ids_are_pinned() -> None:
    """A dead-lettered line's _id hashes file key, offset and line; a refused alert's its alert id."""
    builder = BodyBuilder(IndexNames("t"))
    raw = RawLine("pnc", "/logs/a.log", "dev:1:ino:2", 0, 29, b"2026-11-25 10:00:00|MP1|VIEW", 28)
    dead = builder.dead_letter(DeadLetter(raw, "parse", "no pattern matched", "pnc"), iso_utc(1.0))
    assert _doc_id(dead) == "4928c0e032f810d685d3d12f1a1d285750845a0c"
    refused = builder.refused_alert(Alert("al-1", 0.0, "r1", {"rule.id": "r1"}), "mapping", iso_utc(1.0))
    assert _doc_id(refused) == "alert-9e219592af55507522722ac8840d2b8474fd079d"
