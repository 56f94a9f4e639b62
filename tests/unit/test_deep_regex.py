"""A regex nested deeper than Python's parser can recurse is a located config error, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditwatch.detection import lint_ruleset
from auditwatch.errors import ConfigError
from auditwatch.parsing import load_parsers

DEEP = "(" * 900 + "a" + ")" * 900
DEEP_NC = "(?:" * 300 + "a" + ")" * 300

PARSER = """name: deep
description: a hostile parser
dataset: t.deep
decoder: json
{extra}
fields:
  "@timestamp": {{value: "2026-11-25T10:00:00Z"}}
  event.action: {{value: view}}
  user.id: {{from: u{normalise}}}
"""


@pytest.mark.parametrize(
    ("extra", "normalise", "where"),
    [
        (f"skip: ['{DEEP}']", "", "deep.yml:5:8: AW202 [skip[0]] invalid regex: groups nested too deeply"),
        ("", f", normalise: {{replace: {{pattern: '{DEEP}', with: x}}}}", "nested too deeply"),
    ],
)
def test_parser_regex_nested_too_deeply(tmp_path: Path, extra: str, normalise: str, where: str) -> None:
    (tmp_path / "deep.yml").write_text(PARSER.format(extra=extra, normalise=normalise))
    with pytest.raises(ConfigError) as err:
        load_parsers(tmp_path)
    assert where in str(err.value)


def test_pattern_definition_nested_too_deeply(tmp_path: Path) -> None:
    (tmp_path / "deep.yml").write_text(
        "name: deep\ndescription: d\ndataset: t.deep\ndecoder: pattern\n"
        f'definitions:\n  D: {{regex: "{"(" * 900}a{")" * 900}"}}\n'
        'pattern: "%{D:user.id}"\n'
        'fields:\n  "@timestamp": {value: "2026-11-25T10:00:00Z"}\n  event.action: {value: view}\n'
        "  user.id: {from: user.id}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_parsers(tmp_path)
    assert "deep.yml:6:7: AW202 [definitions.D.regex]" in str(err.value)


def test_rule_matches_nested_too_deeply(tmp_path: Path) -> None:
    (tmp_path / "deep.yml").write_text(
        "id: deep\ntitle: t\ndescription: d\nseverity: low\nrisk_score: 10\n"
        f"condition: user.id matches /{DEEP}/\nreasons: [x]\n"
    )
    problems = lint_ruleset(tmp_path, None)
    assert any(
        "deep.yml:6:28: AW302 [condition] invalid regex: groups nested too deeply" in str(p) for p in problems
    )


def test_non_capturing_nesting_is_flattened_and_accepted(tmp_path: Path) -> None:
    """300 nested non-capturing groups parse and are flattened: the guard is not a depth cap."""
    (tmp_path / "deep.yml").write_text(PARSER.format(extra=f"skip: ['{DEEP_NC}']", normalise=""))
    assert "deep" in load_parsers(tmp_path)
