"""A validated, compiled rule and rule set: frozen config values, separate from runtime state."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from auditwatch.detection.context import Getter, Predicate
from auditwatch.detection.lists import Lists
from auditwatch.detection.templates import Template

SEVERITIES = ("low", "medium", "high", "critical")
KINDS = ("event", "threshold", "repeat", "first_seen")
STATUSES = ("experimental", "stable", "deprecated")


@dataclass(frozen=True, slots=True)
class Explanation:
    """One `unless:` entry: when it holds, the access is explained (or, with `downgrade`, less severe)."""

    name: str  # the reference explanation or allow-list name, or "condition"
    label: str
    test: Predicate
    no_match_text: str  # said on the alert when the explanation does not hold
    downgrade_severity: str | None = None
    downgrade_risk: int | None = None


@dataclass(frozen=True, slots=True)
class SeverityRaise:
    label: str
    test: Predicate
    severity: str
    risk_score: int


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """Everything that shapes a rule's state; state survives a reload only if this is unchanged."""

    kind: str
    group_by: tuple[str, ...]
    window: float | None  # seconds: threshold window, repeat period
    threshold: int | None
    distinct: str | None
    days: int | None
    learning: float | None
    timezone: str


@dataclass(frozen=True, slots=True)
class Suppression:
    by: tuple[str, ...]
    duration: float  # seconds of event time


@dataclass(frozen=True, slots=True)
class TestEvent:
    at: float  # epoch seconds
    fields: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class TestCase:
    name: str
    should_fire: bool
    events: tuple[TestEvent, ...]
    reference: Mapping[str, object] | None  # rows handed to the reference factory
    alerts: int | None  # exact number of alerts expected, when given
    severity: str | None  # severity every alert must have, when given
    line: int | None


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    description: str
    severity: str
    risk_score: int
    tags: tuple[str, ...]
    category: str
    owner: str
    status: str
    version: int
    triage: str
    file: str
    line: int | None
    condition_text: str
    condition: Predicate
    prefilter: tuple[str, frozenset[str]] | None
    residual: Predicate  # `condition` less the prefilter's conjunct: run on events the prefilter admits
    unless: tuple[Explanation, ...]
    raises: tuple[SeverityRaise, ...]
    reasons: tuple[Template, ...]
    spec: WindowSpec
    group_getters: tuple[Getter, ...]
    distinct_getter: Getter | None
    suppress: Suppression | None
    suppress_getters: tuple[Getter, ...]
    signals: tuple[str, ...]  # reference match names whose evidence goes on the alert
    tests: tuple[TestCase, ...]
    # reference matches the condition needs (see `analysis.required_matches`): the engine skips the
    # rule for a user none of whose facts could make one of them hold
    requires: frozenset[str] = frozenset()
    # rule ids whose alert on the same event absorbs this rule's alert (recorded there under `also`)
    folds_into: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleSet:
    rules: tuple[Rule, ...]
    lists: Lists

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def only(self, *rule_ids: str) -> RuleSet:
        return RuleSet(tuple(r for r in self.rules if r.id in rule_ids), self.lists)
