"""Read rule files (one rule per YAML file) into frozen, compiled `Rule`s; collect every problem.

The accepted keys are listed in RULES.md and in `rule.schema.json` (for editors); a test keeps the
two in step with this reader.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import UTC, date, datetime
from pathlib import Path

from auditwatch.config.spec import Reader, known_zone, parse_duration, positive
from auditwatch.config.yamlsource import PathKey, YamlDocument, load_yaml_file
from auditwatch.detection import nodes as n
from auditwatch.detection.analysis import prefilter, required_matches, residual
from auditwatch.detection.compile import Scope, closest, compile_condition, field_getter
from auditwatch.detection.context import Getter, Predicate
from auditwatch.detection.grammar import ConditionSyntaxError, parse_condition
from auditwatch.detection.lists import Lists
from auditwatch.detection.rule import (
    KINDS,
    SEVERITIES,
    STATUSES,
    Explanation,
    Rule,
    SeverityRaise,
    Suppression,
    TestCase,
    TestEvent,
    WindowSpec,
)
from auditwatch.detection.templates import Template, compile_template
from auditwatch.errors import (
    CONDITION_INVALID,
    CONDITION_SYNTAX,
    INVALID_VALUE,
    MISSING_KEY,
    UNKNOWN_FIELD,
    WRONG_TYPE,
    Code,
    ConfigError,
    Problem,
)
from auditwatch.reference import KINDS as REFERENCE_KINDS
from auditwatch.reference import MATCHES, VALUES
from auditwatch.schema import EVENT_FIELDS

RULE_ID = re.compile(r"[a-z0-9][a-z0-9_\-]*\Z")
_BARE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
TEST_BASE_TIME = datetime(2026, 1, 5, 10, 0, tzinfo=UTC).timestamp()  # a Monday, 10:00 UTC


class _RuleReader:
    """Reads one rule document; problems go to the shared list."""

    def __init__(self, doc: YamlDocument, lists: Lists, problems: list[Problem]) -> None:
        self.doc = doc
        self.lists = lists
        self.problems = problems
        self.r = Reader(doc, (), problems)
        self.rule_id = "?"
        self.timezone = "UTC"
        self.signals: list[str] = []
        self.uses_reference = False

    def problem(self, path: PathKey, message: str, code: Code = INVALID_VALUE) -> None:
        self.r.problem(path, message, code)

    # -- conditions ---------------------------------------------------------------------------

    def condition(self, text: str, path: PathKey) -> tuple[n.Node, Predicate] | None:
        """Parse and compile one condition, reporting errors at its line and column."""
        try:
            node = parse_condition(text)
        except ConditionSyntaxError as exc:
            message = f"condition syntax: {exc.message}"
            self.r.problem_in(path, (exc.lineno, exc.column), message, CONDITION_SYNTAX)
            return None
        scope = Scope(VALUES, MATCHES, self.lists.named, self.lists.allow, self.rule_id, self.timezone)
        predicate = compile_condition(node, scope)
        for at, message in scope.errors:
            loc = len(text) - len(text[at:].lstrip())  # pyparsing's location is before the blanks
            lineno = text.count("\n", 0, loc) + 1
            column = loc - (text.rfind("\n", 0, loc) + 1) + 1
            self.r.problem_in(path, (lineno, column), message, CONDITION_INVALID)
        if scope.errors:
            return None
        self.uses_reference = self.uses_reference or scope.uses_reference
        for name in scope.used_matches:
            if name not in self.signals:
                self.signals.append(name)
        return node, predicate

    def residual(self, node: n.Node) -> Predicate:
        """The condition without its prefilter conjunct, compiled (its names already resolved)."""
        rest = residual(node, VALUES)
        if rest is None:
            return lambda c: True
        scope = Scope(VALUES, MATCHES, self.lists.named, self.lists.allow, self.rule_id, self.timezone)
        return compile_condition(rest, scope)

    def field(self, name: str, path: PathKey) -> Getter | None:
        if name not in EVENT_FIELDS and name not in VALUES:
            self.problem(
                path, f"unknown field '{name}'" + closest(name, [*EVENT_FIELDS, *VALUES]), UNKNOWN_FIELD
            )
            return None
        scope = Scope(VALUES, MATCHES, {}, {}, self.rule_id, self.timezone)
        return field_getter(name, scope)

    # -- sections -----------------------------------------------------------------------------

    def explanation(self, index: int) -> Explanation | None:
        path: PathKey = ("unless", index)
        item = self.doc.data["unless"][index]
        label, downgrade_sev, downgrade_risk = None, None, None
        if isinstance(item, str):
            text = item
        elif isinstance(item, dict):
            r = Reader(self.doc, path, self.problems)
            when: str | None = r.required("when", str)
            label = r.required("label", str)
            down = r.section("downgrade")
            if r.has("downgrade"):
                downgrade_sev = down.required("severity", str, _severity)
                downgrade_risk = down.optional("risk_score", int, None, _risk)
            down.done()
            r.done()
            if when is None:
                return None
            text, path = when, (*path, "when")
        else:
            self.problem(path, "an explanation is a name, a condition, or a mapping with 'when' and 'label'")
            return None
        if _BARE_NAME.match(text.strip()) and text.strip() in MATCHES:
            text = f"match({text.strip()})"
        compiled = self.condition(text, path)
        if compiled is None:
            return None
        node, test = compiled
        name, default_label, no_match = "condition", text, f"not the case: {text}"
        if isinstance(node, n.Truthy) and isinstance(node.operand, n.Call):
            call = node.operand
            if call.func == "match":
                info = MATCHES[call.arg]
                name, default_label, no_match = call.arg, info.description, info.no_match_text
                self.signals.remove(call.arg)  # an explanation is listed as tried, not as a signal
            elif call.func == "allowlist":
                allow = self.lists.allow[call.arg]
                name, default_label = call.arg, allow.description or f"allow-list {call.arg}"
                no_match = f"no current entry in allow-list '{call.arg}' for this user and subject"
        return Explanation(name, label or default_label, test, no_match, downgrade_sev, downgrade_risk)

    def severity_raise(
        self, r: Reader, base_severity: str | None, base_risk: int | None
    ) -> SeverityRaise | None:
        text = r.required("when", str)
        label = r.required("label", str)
        severity = r.optional("severity", str, base_severity, _severity)
        risk = r.optional("risk_score", int, base_risk, _risk)
        r.done()
        if text is None or label is None or severity is None or risk is None:
            return None
        compiled = self.condition(text, (*r.path, "when"))
        return None if compiled is None else SeverityRaise(label, compiled[1], severity, risk)

    def tests(self) -> tuple[TestCase, ...]:
        section = self.r.section("tests")
        shared = self.reference_rows(section)
        cases: list[TestCase] = []
        for key, fire in (("should_fire", True), ("should_not_fire", False)):
            for case in section.sections(key):
                built = self.test_case(case, fire, shared)
                if built is not None:
                    cases.append(built)
        section.done()
        return tuple(cases)

    def reference_rows(self, r: Reader) -> dict[str, object]:
        """`reference:` rows per reference kind, checked against the kinds the loader knows."""
        rows = r.optional("reference", dict, {}) or {}
        for kind, items in rows.items():
            if kind not in REFERENCE_KINDS:
                known = ", ".join(REFERENCE_KINDS)
                self.problem(
                    (*r.path, "reference", kind), f"unknown reference kind '{kind}' (known: {known})"
                )
            elif not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                self.problem((*r.path, "reference", kind), "reference rows are a list of mappings")
        return dict(rows)

    def test_case(self, r: Reader, fire: bool, shared: dict[str, object]) -> TestCase | None:
        name: str | None = r.required("name", str)
        start = r.optional("start", object, TEST_BASE_TIME, _absolute_time)
        reference = {**shared, **self.reference_rows(r)}
        alerts = r.optional("alerts", int, None)
        severity = r.optional("severity", str, None, _severity)
        events: list[TestEvent] = []
        at = start if isinstance(start, float) else TEST_BASE_TIME
        for index, raw in enumerate(r.data.get("events") or []):
            path: PathKey = (*r.path, "events", index)
            if not isinstance(raw, dict):
                self.problem(path, "an event is a mapping of field names to values")
                continue
            fields: dict[str, object] = {}
            for key, value in raw.items():
                if key == "at":
                    try:
                        at = _event_time(value, start if isinstance(start, float) else TEST_BASE_TIME)
                    except ValueError as exc:
                        self.problem((*path, key), str(exc))
                elif key not in EVENT_FIELDS:
                    self.problem(
                        (*path, key),
                        f"unknown event field '{key}'" + closest(key, EVENT_FIELDS),
                        UNKNOWN_FIELD,
                    )
                else:
                    fields[key] = tuple(value) if isinstance(value, list) else value
            events.append(TestEvent(at, fields))
            at += 1.0  # an event without `at` comes one second after the one before
        r.required("events", list)
        if not events and r.has("events"):
            r.problem((*r.path, "events"), "a test case needs at least one event")
        r.done()
        if name is None:
            return None
        return TestCase(name, fire, tuple(events), reference, alerts, severity, self.doc.line_of(r.path))

    # -- the rule -----------------------------------------------------------------------------

    def read(self) -> Rule | None:
        r = self.r
        start = len(self.problems)
        rule_id = r.required("id", str)
        if rule_id is not None and not RULE_ID.match(rule_id):
            r.problem(("id",), "a rule id uses lower-case letters, digits, '_' and '-'")
        self.rule_id = rule_id or "?"
        title = r.required("title", str)
        description = r.required("description", str)
        severity = r.required("severity", str, _severity)
        risk = r.required("risk_score", int, _risk)
        tags = r.string_list("tags")
        category = r.optional("category", str, "")
        owner = r.optional("owner", str, "")
        status = r.optional("status", str, "experimental", _one_of(STATUSES, "status"))
        version = r.optional("version", int, 1)
        triage = r.optional("triage", str, "")
        folds_into = r.string_list("folds_into")
        for i, target in enumerate(folds_into):
            if not RULE_ID.match(target):
                r.problem(("folds_into", i), f"'{target}' is not a rule id")
        kind = r.optional("kind", str, "event", _one_of(KINDS, "kind"))
        self.timezone = r.optional("timezone", str, "UTC", known_zone) or "UTC"
        cond_text = r.required("condition", str)
        compiled = self.condition(cond_text, ("condition",)) if cond_text is not None else None
        unless_items = r.optional("unless", list, [])
        unless = tuple(e for i in range(len(unless_items or ())) if (e := self.explanation(i)) is not None)
        raises = tuple(
            x
            for s in r.sections("severity_raise")
            if (x := self.severity_raise(s, severity, risk)) is not None
        )
        reasons = self.reasons()
        group_by = r.string_list("group_by", ("user.id",))
        group_getters = tuple(
            g for i, name in enumerate(group_by) if (g := self.field(name, ("group_by", i))) is not None
        )
        spec, distinct_getter = self.window_spec(kind or "event", group_by)
        suppress, suppress_getters = self.suppression()
        tests = self.tests()
        r.done()
        if len(self.problems) > start or compiled is None or spec is None or risk is None:
            return None
        if not (rule_id and title and description and severity and cond_text):
            return None
        node, predicate = compiled
        return Rule(
            id=rule_id,
            title=title,
            description=description,
            severity=severity,
            risk_score=risk,
            tags=tags,
            category=category,
            owner=owner,
            status=status,
            version=version,
            triage=triage,
            folds_into=folds_into,
            file=self.doc.file,
            line=self.doc.line_of(()),
            condition_text=cond_text,
            condition=predicate,
            prefilter=prefilter(node, VALUES),
            residual=self.residual(node),
            requires=required_matches(node, MATCHES),
            unless=unless,
            raises=raises,
            reasons=reasons,
            spec=spec,
            group_getters=group_getters,
            distinct_getter=distinct_getter,
            suppress=suppress,
            suppress_getters=suppress_getters,
            signals=tuple(self.signals),
            tests=tests,
        )

    def reasons(self) -> tuple[Template, ...]:
        texts = self.r.string_list("reasons")
        if not texts:
            self.r.problem(
                (), "missing required key 'reasons' (at least one plain-language reason)", MISSING_KEY
            )
        out: list[Template] = []
        for i, text in enumerate(texts):
            template, problems = compile_template(text, VALUES, MATCHES)
            for message in problems:
                self.problem(("reasons", i), message)
            out.append(template)
        return tuple(out)

    def window_spec(self, kind: str, group_by: tuple[str, ...]) -> tuple[WindowSpec | None, Getter | None]:
        r = self.r
        needs = {
            "window": ("threshold", "repeat"),
            "threshold": ("threshold",),
            "distinct": ("threshold",),
            "days": ("repeat",),
            "learning": ("first_seen",),
        }
        for key, kinds in needs.items():
            if r.data.get(key) is not None and kind not in kinds:
                r.problem((key,), f"'{key}' applies to kind {' or '.join(kinds)}, not '{kind}'")
        window = r.optional("window", str, None, parse_duration)
        threshold = r.optional("threshold", int, None, positive)
        distinct = r.optional("distinct", str, None)
        days = r.optional("days", int, None, positive)
        learning = r.optional("learning", str, 0.0, parse_duration)
        distinct_getter = self.field(distinct, ("distinct",)) if distinct else None
        required = {"threshold": ("window", "threshold"), "repeat": ("window", "days")}.get(kind, ())
        for key in required:
            if not r.has(key):
                r.problem((), f"kind '{kind}' needs '{key}'")
        if kind == "repeat" and window is not None and days is not None and days * 86400 > window:
            r.problem(("days",), f"{days} days cannot fit in a window of {window / 86400:g} days")
        if kind in ("threshold", "repeat", "first_seen") and not group_by:
            r.problem(("group_by",), f"kind '{kind}' needs at least one group_by field")
        spec = WindowSpec(kind, group_by, window, threshold, distinct, days, learning, self.timezone)
        return spec, distinct_getter

    def suppression(self) -> tuple[Suppression | None, tuple[Getter, ...]]:
        if self.r.data.get("suppress") is None:
            self.r.section("suppress")
            return None, ()
        s = self.r.section("suppress")
        by = s.string_list("by", ("user.id",))
        duration = s.required("for", str, parse_duration)
        s.done()
        getters = tuple(g for i, name in enumerate(by) if (g := self.field(name, ("suppress", "by", i))))
        if duration is None:
            return None, ()
        return Suppression(by, duration), getters


def load_rule_file(path: Path, lists: Lists, problems: list[Problem]) -> Rule | None:
    """One rule file; problems are appended, None if the rule is unusable."""
    try:
        doc = load_yaml_file(path)
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None
    if not isinstance(doc.data, dict):
        problems.append(
            Problem(
                doc.file, doc.line_of(()), "", "a rule file holds one mapping (one rule)", code=WRONG_TYPE
            )
        )
        return None
    return _RuleReader(doc, lists, problems).read()


# -- value checks -----------------------------------------------------------------------------


def _severity(value: str) -> str:
    return _one_of(SEVERITIES, "severity")(value)


def _one_of(allowed: Collection[str], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"{what} must be one of {', '.join(allowed)}, not '{value}'")
        return value

    return check


def _risk(value: int) -> int:
    if not 0 <= value <= 100:
        raise ValueError("risk_score must be between 0 and 100")
    return value


def _absolute_time(value: object) -> float:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    raise ValueError("a time is ISO-8601 (2026-01-05T10:00:00Z)")


def _event_time(value: object, start: float) -> float:
    """`+5m` / `-1d` relative to the case start, or an absolute ISO-8601 time."""
    if isinstance(value, str) and value.strip()[:1] in "+-":
        text = value.strip()
        seconds = parse_duration(text[1:])
        return start + seconds if text[0] == "+" else start - seconds
    try:
        return _absolute_time(value)
    except ValueError:
        raise ValueError("'at' is +DURATION / -DURATION from the case start, or ISO-8601") from None
