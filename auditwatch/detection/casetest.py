"""Run each rule's inline `tests:` cases through the production engine (`auditwatch rules test`).

A case's `reference:` rows (per reference kind: staff, persons, watchlist, associates, assignments,
case_links, roster, surnames) are written to JSON-lines files and loaded by the real reference
loader, so a case exercises exactly what the daemon would.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from auditwatch.detection.engine import DetectionEngine
from auditwatch.detection.rule import Rule, RuleSet, TestCase
from auditwatch.errors import ConfigError
from auditwatch.model import AccessEvent, Alert, RawLine
from auditwatch.reference import (
    ReferenceConfig,
    ReferenceSnapshot,
    SourceConfig,
    empty_reference,
    load_reference,
)
from auditwatch.timefmt import iso_utc

ReferenceRows = Mapping[str, Sequence[Mapping[str, Any]]]
ReferenceFactory = Callable[[ReferenceRows], ReferenceSnapshot]


@dataclass(frozen=True, slots=True)
class CaseResult:
    rule_id: str
    case: str
    should_fire: bool
    passed: bool
    alerts: tuple[Alert, ...]
    message: str
    file: str
    line: int | None

    def __str__(self) -> str:
        expect = "should fire" if self.should_fire else "should not fire"
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{self.rule_id}: {self.case} ({expect}): {self.message}  [{where}]"


def reference_from_rows(
    rows: ReferenceRows, timezone: str = "Europe/London", *, settings: ReferenceConfig | None = None
) -> ReferenceSnapshot:
    """A snapshot built by the real loader from rows of canonical columns, per reference kind.

    `settings` (the daemon config's `reference:` section) gives the time zone, roster grace,
    identifier normalisers and the like; its own export sources are not loaded."""
    base = dataclasses.replace(settings, sources=()) if settings is not None else None
    if not rows:
        return ReferenceSnapshot(base, (), 0.0) if base is not None else empty_reference()
    with tempfile.TemporaryDirectory(prefix="auditwatch-case-") as tmp:
        sources = []
        for kind, kind_rows in rows.items():
            path = Path(tmp) / f"{kind}.jsonl"
            path.write_bytes(b"\n".join(orjson.dumps(dict(row)) for row in kind_rows) + b"\n")
            sources.append(SourceConfig(kind=kind, path=str(path), format="jsonl", declared_at="test case"))
        if base is not None:
            cfg = dataclasses.replace(base, sources=tuple(sources))
        else:
            cfg = ReferenceConfig(sources=tuple(sources), timezone=timezone)
        snapshot, _warnings = load_reference(cfg)
    return snapshot


def run_rule_tests(
    rules: RuleSet, reference_factory: ReferenceFactory | None = None, *, only: Sequence[str] = ()
) -> list[CaseResult]:
    """Every case of every (selected, non-deprecated) rule, each on a fresh engine."""
    factory = reference_factory or reference_from_rows
    results = []
    for rule in rules:
        if rule.status == "deprecated" or (only and rule.id not in only):
            continue
        for index, case in enumerate(rule.tests):
            results.append(_run_case(rules, rule, index, case, factory))
    return results


def case_events(rule: Rule, index: int, case: TestCase) -> list[AccessEvent]:
    events = []
    for i, item in enumerate(case.events):
        fields: dict[str, object] = {"@timestamp": iso_utc(item.at), "event.kind": "event", **item.fields}
        fields.setdefault("event.original", orjson.dumps(dict(item.fields)).decode())
        raw = RawLine("rule-test", rule.file, f"{rule.id}#{index}", i, i + 1, b"", 0)
        events.append(AccessEvent(f"{rule.id}-case{index}-event{i}", item.at, fields, raw))
    return events


def _run_case(
    rules: RuleSet, rule: Rule, index: int, case: TestCase, factory: ReferenceFactory
) -> CaseResult:
    def result(passed: bool, alerts: Sequence[Alert], message: str) -> CaseResult:
        return CaseResult(
            rule.id, case.name, case.should_fire, passed, tuple(alerts), message, rule.file, case.line
        )

    try:
        reference = factory(case.reference or {})  # type: ignore[arg-type]
    except ConfigError as exc:
        return result(False, (), f"reference rows rejected: {exc}")
    engine = DetectionEngine(rules.only(rule.id), reference)
    alerts = engine.process(case_events(rule, index, case))
    count = len(alerts)
    if case.severity is not None:
        labels = [a.fields["auditwatch"]["alert"]["severity_label"] for a in alerts]  # type: ignore[index]
        if any(label != case.severity for label in labels):
            return result(False, alerts, f"severities {labels}, expected {case.severity}")
    if case.alerts is not None:
        return result(count == case.alerts, alerts, f"{count} alert(s), expected {case.alerts}")
    if case.should_fire:
        return result(count > 0, alerts, f"{count} alert(s)" if count else "no alert")
    detail = "; ".join(alerts[0].fields["auditwatch"]["alert"]["reasons"]) if alerts else ""  # type: ignore[index]
    return result(count == 0, alerts, "no alert" if not count else f"{count} alert(s): {detail}")
