"""Rule and list files: every problem reported with file and line; lint; the shipped rules' own cases."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest

from auditwatch.detection import DetectionEngine, lint_ruleset, load_ruleset, run_rule_tests
from auditwatch.detection.testing import RULE_HEADER as MINIMAL
from auditwatch.detection.testing import alert_section, make_event
from auditwatch.errors import ConfigError
from auditwatch.reference.snapshot import empty_reference

REPO = Path(__file__).resolve().parents[3]
Write = Callable[..., Path]


def problems_of(write_rules: Write, body: str, lists: dict[str, str] | None = None) -> list[str]:
    rules_dir = write_rules({"bad.yml": MINIMAL.format(id="bad") + body}, lists)
    with pytest.raises(ConfigError) as info:
        load_ruleset(rules_dir)
    return [f"{Path(p.file).name}:{p.line} [{p.field}] {p.message}" for p in info.value.problems]


def test_condition_syntax_error_names_file_line_and_column(write_rules: Write) -> None:
    """A broken condition is reported at its line with the column: column 19 of the condition,
    which starts at column 12 of the file."""
    [problem] = problems_of(write_rules, "condition: user.id == 'x' and\n")
    assert problem.startswith("bad.yml:7 [condition] condition syntax")
    rules_dir = write_rules({"bad.yml": MINIMAL.format(id="bad") + "condition: user.id == 'x' and\n"})
    with pytest.raises(ConfigError) as info:
        load_ruleset(rules_dir)
    [located] = info.value.problems
    assert (located.line, located.column, located.code.id) == (7, 30, "AW301")


def test_multiline_condition_error_points_at_the_right_line(write_rules: Write) -> None:
    """In a block condition the problem line is the line inside the block."""
    [problem] = problems_of(write_rules, "condition: |\n  event.action == x\n  and user.idd == 'y'\n")
    assert problem.startswith("bad.yml:9 [condition] unknown field 'user.idd'")


def test_unknown_field_list_key_and_all_problems_at_once(write_rules: Write) -> None:
    """Unknown field, unknown list, unknown key and bad group_by are all reported together."""
    body = (
        "condition: user.idd == 'x' or host.name in list(nope)\n"
        "colour: red\n"
        "group_by: [user.ide]\n"
        "suppress: {by: [user.id], for: 10 minutes}\n"
    )
    found = problems_of(write_rules, body)
    assert any(
        p.startswith("bad.yml:7 [condition] unknown field 'user.idd'; did you mean 'user.id'?") for p in found
    )
    assert any("bad.yml:7 [condition] unknown list 'nope'" in p for p in found)
    assert any(p.startswith("bad.yml:8 [colour] unknown key 'colour'") for p in found)
    assert any(p.startswith("bad.yml:9 [group_by[0]] unknown field 'user.ide'") for p in found)
    assert any(p.startswith("bad.yml:10 [suppress.for] invalid duration") for p in found)


def test_kind_specific_keys_are_checked(write_rules: Write) -> None:
    """threshold needs window and threshold; days belongs to repeat only; placeholders must be known."""
    found = problems_of(write_rules, "kind: threshold\ncondition: exists(user.id)\ndays: 3\n")
    assert any("kind 'threshold' needs 'window'" in p for p in found)
    assert any("kind 'threshold' needs 'threshold'" in p for p in found)
    assert any("'days' applies to kind repeat" in p for p in found)
    (write_rules({}) / "bad.yml").unlink()
    text = MINIMAL.format(id="t").replace("{user.id}", "{user.nope}") + "condition: exists(user.id)\n"
    rules_dir = write_rules({"t.yml": text})
    with pytest.raises(ConfigError, match=r"unknown placeholder '\{user.nope\}'"):
        load_ruleset(rules_dir)


def test_duplicate_ids_and_unknown_allowlist(write_rules: Write) -> None:
    """Two files with one id, and an explanation naming a missing allow-list, are both reported."""
    rule = MINIMAL.format(id="dup") + "condition: exists(user.id)\n"
    rules_dir = write_rules({"a.yml": rule, "b.yml": rule + "unless: ['allowlist(missing)']\n"})
    with pytest.raises(ConfigError) as info:
        load_ruleset(rules_dir)
    text = str(info.value)
    assert "unknown allow-list 'missing'" in text


def test_allowlist_entries_apply_until_they_expire(write_rules: Write) -> None:
    """An allow-list entry explains the access up to its expiry day; lint warns once it expired."""
    allow = """\
        name: ok_checks
        description: approved checks
        entries:
          - {user: U1, subject: P1, reason: welfare, approver: DI X, expires: 2026-01-05}
        """
    body = "condition: event.action == person_view\nunless: ['allowlist(ok_checks)']\n"
    rules_dir = write_rules({"a.yml": MINIMAL.format(id="a") + body}, {"ok.yml": allow})
    engine = DetectionEngine(load_ruleset(rules_dir), empty_reference())
    same_day = make_event(
        1, 3600, user__id="U1", event__action="person_view", auditwatch__subject__person_id="P1"
    )
    next_day = make_event(
        2, 86400, user__id="U1", event__action="person_view", auditwatch__subject__person_id="P1"
    )
    alerts = engine.process([same_day, next_day])
    assert [alert_section(a)["evidence"][0]["event_id"] for a in alerts] == ["ev2"]
    warnings = [p for p in lint_ruleset(rules_dir, now=2_000_000_000.0) if "expired" in p.message]
    assert len(warnings) == 1
    assert warnings[0].level == "warning"
    assert str(warnings[0]).count("warning: ") == 1
    assert warnings[0].line == 4


def test_lint_requires_both_kinds_of_test_case(write_rules: Write) -> None:
    """A rule without should_fire and should_not_fire cases is a lint problem."""
    rules_dir = write_rules({"a.yml": MINIMAL.format(id="a") + "condition: exists(user.id)\n"})
    messages = {p.field: p.message for p in lint_ruleset(rules_dir)}
    assert messages == {
        "tests.should_fire": "needs at least one should_fire case",
        "tests.should_not_fire": "needs at least one should_not_fire case",
    }


def test_rule_test_cases_can_fail(write_rules: Write) -> None:
    """A case whose expectation is wrong is reported as failed, with the alert count."""
    body = """\
        condition: event.action == person_view
        tests:
          should_not_fire:
            - name: wrongly expected quiet
              events: [{user.id: U, event.action: person_view}]
          should_fire:
            - name: wrongly expected critical
              severity: critical
              events: [{user.id: U, event.action: person_view}]
        """
    rules_dir = write_rules({"a.yml": MINIMAL.format(id="a") + textwrap.dedent(body)})
    results = run_rule_tests(load_ruleset(rules_dir))
    assert [(r.case, r.passed) for r in results] == [
        ("wrongly expected critical", False),
        ("wrongly expected quiet", False),
    ]
    assert "1 alert(s)" in results[1].message
    assert "expected critical" in results[0].message


def test_shipped_rules_lint_clean_and_pass_their_cases() -> None:
    """Every rule in rules/ loads, lints clean and passes its own should_fire / should_not_fire cases."""
    rules = load_ruleset(REPO / "rules")
    assert len(rules) >= 8
    assert lint_ruleset(REPO / "rules") == []
    results = run_rule_tests(rules)
    assert [str(r) for r in results if not r.passed] == []
    assert {r.rule_id for r in results} == {r.id for r in rules if r.status != "deprecated"}


def test_schema_lists_exactly_the_keys_the_loader_accepts(write_rules: Write) -> None:
    """rule.schema.json (for editors) and the loader agree on the top-level keys."""
    schema = json.loads(resources.files("auditwatch.detection").joinpath("rule.schema.json").read_text())
    keys = set(schema["properties"])
    rules_dir = write_rules({"a.yml": MINIMAL.format(id="a") + "condition: exists(user.id)\n"})
    for key in sorted(keys):
        text = (rules_dir / "a.yml").read_text()
        if key not in text:
            (rules_dir / "a.yml").write_text(text + f"{key}: null\n")
    load_ruleset(rules_dir)  # no "unknown key" problem for any schema key
    (rules_dir / "a.yml").write_text((rules_dir / "a.yml").read_text() + "not_in_schema: 1\n")
    with pytest.raises(ConfigError, match="unknown key 'not_in_schema'"):
        load_ruleset(rules_dir)
    documented = (REPO / "auditwatch" / "detection" / "RULES.md").read_text()
    assert [k for k in sorted(keys) if f"`{k}`" not in documented] == []


def test_schema_lists_every_reference_kind_a_test_case_may_give() -> None:
    """A case's `reference:` block accepts every reference kind (persons included), in the schema too."""
    from auditwatch.reference.config import KINDS

    schema = json.loads(resources.files("auditwatch.detection").joinpath("rule.schema.json").read_text())
    assert set(schema["$defs"]["reference"]["propertyNames"]["enum"]) == set(KINDS)
