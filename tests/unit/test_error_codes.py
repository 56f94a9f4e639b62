"""Error codes and columns: every `Code` in `auditwatch.errors.CODES` is produced by at least one
broken file below (through the real loaders), the README's table is the registry's, and problems
print as `file:line:column: CODE [field] message`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from textwrap import dedent

import pytest

from auditwatch.commands.checks import check_everything
from auditwatch.commands.docs import CODES_BEGIN, CODES_END, README_MD, codes_markdown, render
from auditwatch.config.daemon import load_config
from auditwatch.config.yamlsource import load_yaml_file
from auditwatch.detection import lint_ruleset
from auditwatch.detection.testing import RULE_HEADER
from auditwatch.errors import CODES, INVALID_VALUE, UNKNOWN_KEY, ConfigError, Problem
from auditwatch.parsing import load_parser

Fixture = Callable[[Path], list[Problem]]

CONFIG = """\
inputs: [{name: a, paths: [x.log], parser: rms_json}]
elasticsearch: {hosts: ['http://127.0.0.1:9200']}
"""

PARSER = """\
name: tiny
dataset: tiny.audit
decoder: pattern
records:
  - name: VIEW
    pattern: "%{TIMESTAMP_ISO8601:ts} %{WORD:user} VIEW %{NOTSPACE:rec}"
    fields:
      event.action: {value: view}
      auditwatch.record.id: rec
fields:
  "@timestamp": {from: ts, formats: [iso8601]}
  user.id: {from: user, required: true}
"""

RULE_TESTS = """\
tests:
  should_fire:
    - name: fires
      events: [{user.id: MP1, event.action: view}]
  should_not_fire:
    - name: quiet
      events: [{user.id: MP1, event.action: search}]
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dedent(text), encoding="utf-8")
    return path


def _raised(action: Callable[[], object]) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        action()
    return list(caught.value.problems)


def _yaml(text: str) -> Fixture:
    return lambda tmp: _raised(lambda: load_yaml_file(_write(tmp / "f.yml", text)))


def _config(extra: str) -> Fixture:
    return lambda tmp: _raised(lambda: load_config(_write(tmp / "aw.yml", CONFIG + extra)))


def _parser(edit: Callable[[str], str]) -> Fixture:
    return lambda tmp: _raised(lambda: load_parser(_write(tmp / "p.yml", edit(PARSER))))


def _rule(body: str, *, lists: dict[str, str] | None = None, tests: str = RULE_TESTS) -> Fixture:
    def run(tmp: Path) -> list[Problem]:
        _write(tmp / "rules" / "r.yml", RULE_HEADER.format(id="r") + body + tests)
        for name, text in (lists or {}).items():
            _write(tmp / "rules" / "lists" / name, text)
        return lint_ruleset(tmp / "rules")

    return run


def _cannot_read(tmp: Path) -> list[Problem]:
    (tmp / "f.yml").write_bytes(b"a: \xff\n")
    return _raised(lambda: load_yaml_file(tmp / "f.yml"))


def _load_failed(tmp: Path) -> list[Problem]:
    """A rule file whose loading fails in an unforeseen way (a loader bug, a RecursionError)."""
    from auditwatch.detection import loader

    _write(tmp / "rules" / "r.yml", RULE_HEADER.format(id="r") + "condition: user.id == 'x'\n")

    def broken(path: Path, *args: object) -> object:
        raise RecursionError("maximum recursion depth exceeded")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loader, "load_rule_file", broken)
        return lint_ruleset(tmp / "rules")


def _example_failed(tmp: Path) -> list[Problem]:
    example = 'examples:\n  - line: "2026-11-25T10:00:00Z MP1 SEARCH R1"\n    expect: {user.id: MP1}\n'
    parser = load_parser(_write(tmp / "p.yml", PARSER + example))
    return parser.check_examples()


def _export_rejected(tmp: Path) -> list[Problem]:
    _write(tmp / "hr.csv", "Name,Town\nBob,Leeds\n")
    _write(
        tmp / "aw.yml", CONFIG + f"reference:\n  sources:\n    - {{kind: staff, path: {tmp / 'hr.csv'}}}\n"
    )
    return check_everything(tmp / "aw.yml")[0]


def _unknown_parser(tmp: Path) -> list[Problem]:
    _write(tmp / "aw.yml", CONFIG.replace("parser: rms_json", "parser: nosuch"))
    return check_everything(tmp / "aw.yml")[0]


ALLOW_LIST = """\
name: approved
entries:
  - {user: MP000404, subject: P-1, reason: welfare, approver: ACU, expires: 2020-01-31}
"""

#: code -> a broken file that produces it
FIXTURES: dict[str, Fixture] = {
    "AW001": _cannot_read,
    "AW002": _yaml("a: [1, 2\n"),
    "AW003": _yaml("a: " + "[" * 70 + "]" * 70 + "\n"),
    "AW004": _yaml("a: 1\nb: 2\na: 3\n"),
    "AW005": _yaml("? [a]\n: 1\n"),
    "AW006": _load_failed,
    "AW007": lambda tmp: lint_ruleset(tmp / "no-such-rules"),
    "AW101": _config("pipeline: {batch_max_records: 5, colour: red}\n"),
    "AW102": lambda tmp: _raised(lambda: load_config(_write(tmp / "aw.yml", "inputs: []\n"))),
    "AW103": _config("pipeline: {batch_max_records: many}\n"),
    "AW104": _config("pipeline: {batch_max_records: 0}\n"),
    "AW105": lambda tmp: _raised(
        lambda: load_config(
            _write(tmp / "aw.yml", CONFIG.replace("inputs: [", "inputs: [{name: a, paths: [y], parser: p}, "))
        )
    ),
    "AW106": _unknown_parser,
    "AW201": _parser(lambda t: t.replace("VIEW %{NOTSPACE:rec}", "VIEW %{NOTSPACE:rec")),
    "AW202": _parser(lambda t: t + "skip: ['(unclosed']\n"),
    "AW203": _parser(lambda t: t + "skip: ['(a+)+$']\n"),
    "AW204": lambda tmp: list(
        load_parser(_write(tmp / "p.yml", PARSER + "definitions:\n  DIGITS: '[0-9]+'\n")).definition.warnings
    ),
    "AW205": _example_failed,
    "AW301": _rule("condition: event.action == 'view' and\n"),
    "AW302": _rule("condition: event.action == 'view' and user.idd == 'x'\n"),
    "AW303": _rule("condition: event.action == 'view'\nsuppress: {by: [user.ide], for: 10m}\n"),
    "AW304": _rule("condition: event.action == 'view'\n", tests=""),
    "AW305": _rule("condition: event.action == 'view'\nfolds_into: [r]\n"),
    "AW306": _rule("condition: event.action == 'view'\n", lists={"approved.yml": ALLOW_LIST}),
    "AW401": _export_rejected,
}


def test_every_code_has_a_fixture() -> None:
    assert sorted(FIXTURES) == sorted(CODES)


@pytest.mark.parametrize("code", sorted(CODES))
def test_each_code_is_produced_by_its_fixture(code: str, tmp_path: Path) -> None:
    problems = FIXTURES[code](tmp_path)
    assert code in {p.code.id for p in problems}, [str(p) for p in problems]


def test_the_readme_table_is_the_registry() -> None:
    """Adding a code without `python -m auditwatch.commands.docs` fails here."""
    readme = README_MD.read_text(encoding="utf-8")
    assert render(readme, codes_markdown(), CODES_BEGIN, CODES_END) == readme
    for code in CODES.values():
        assert f"| `{code.id}` | `{code.name}` |" in readme


def test_codes_are_well_formed_and_names_unique() -> None:
    assert all(
        key == code.id and len(code.id) == 5 and code.id.startswith("AW") for key, code in CODES.items()
    )
    names = [code.name for code in CODES.values()]
    assert len(names) == len(set(names))


def test_problem_prints_file_line_column_code_field_message() -> None:
    assert str(Problem("a.yml", 3, "pipeline.x", "unknown key 'x'", code=UNKNOWN_KEY, column=5)) == (
        "a.yml:3:5: AW101 [pipeline.x] unknown key 'x'"
    )
    assert str(Problem("a.yml", 3, "", "bad")) == "a.yml:3: AW104 bad"
    assert str(Problem("a.yml", None, "", "cannot read", code=INVALID_VALUE)) == "a.yml: AW104 cannot read"
    assert str(Problem("a.yml", 2, "f", "odd", "warning", column=1)) == "a.yml:2:1: AW104 [f] warning: odd"


# -- columns: the key's, or the exact character inside a pattern or a condition ---------------------


def test_a_config_problem_is_at_the_column_of_its_key(tmp_path: Path) -> None:
    [problem] = _config("pipeline:\n  batch_max_records: 5\n  colour: red\n")(tmp_path)
    assert (problem.line, problem.column, problem.code, problem.field) == (
        5,
        3,
        UNKNOWN_KEY,
        "pipeline.colour",
    )
    assert str(problem).endswith("aw.yml:5:3: AW101 [pipeline.colour] unknown key 'colour'")


def test_yaml_syntax_names_line_and_column(tmp_path: Path) -> None:
    [problem] = _yaml("a: 1\nb: [1, 2\nc: 3\n")(tmp_path)
    assert (problem.line, problem.column) == (3, 2)


def test_a_pattern_error_is_at_its_character_in_the_file(tmp_path: Path) -> None:
    """Column 43 of the pattern, written in double quotes starting at column 14: column 57 of line 6."""
    [problem] = FIXTURES["AW201"](tmp_path)
    assert (problem.line, problem.column, problem.field) == (6, 57, "records[0].pattern")
    assert problem.message == "'%{' is never closed with '}'"
    line = (tmp_path / "p.yml").read_text(encoding="utf-8").splitlines()[5]
    assert line[56:] == '%{NOTSPACE:rec"'


def test_a_pattern_with_escapes_keeps_its_column_in_the_message(tmp_path: Path) -> None:
    """A double-quoted pattern with an escape is not written as it reads: the key's position, and
    the column inside the pattern in the message."""
    [problem] = _parser(lambda t: t.replace('VIEW %{NOTSPACE:rec}"', 'VIEW\\t%{NOTSPACE:rec"'))(tmp_path)
    assert (problem.line, problem.column) == (6, 5)
    assert problem.message == "'%{' is never closed with '}' (column 43)"


def test_a_condition_error_is_at_its_character_in_the_file(tmp_path: Path) -> None:
    problems = _rule("condition: event.action == 'view' and user.idd == 'x'\n")(tmp_path)
    [problem] = [p for p in problems if p.code.id == "AW302"]
    assert (problem.line, problem.column) == (7, 39)
    line = (tmp_path / "rules" / "r.yml").read_text(encoding="utf-8").splitlines()[6]
    assert line[38:46] == "user.idd"


def test_a_block_condition_error_is_on_its_own_line_and_column(tmp_path: Path) -> None:
    body = "condition: |\n  event.action == 'view'\n    and user.idd == 'x'\n"
    problems = _rule(body)(tmp_path)
    [problem] = [p for p in problems if p.code.id == "AW302"]
    assert (problem.line, problem.column) == (9, 9)
    line = (tmp_path / "rules" / "r.yml").read_text(encoding="utf-8").splitlines()[8]
    assert line[8:16] == "user.idd"


def test_an_expired_entry_is_a_warning_with_its_code(tmp_path: Path) -> None:
    problems = FIXTURES["AW306"](tmp_path)
    [expired] = [p for p in problems if p.code.id == "AW306"]
    assert (expired.level, expired.field, expired.line) == ("warning", "expires", 3)
    assert str(expired).endswith("approved.yml:3: AW306 [expires] warning: " + expired.message)


def test_a_folded_condition_keeps_its_column_in_the_message(tmp_path: Path) -> None:
    """A folded (`>`) condition does not read as written: the key's line, the column in the message."""
    body = "condition: >\n  event.action == 'view'\n  and user.idd == 'x'\n"
    problems = _rule(body)(tmp_path)
    [problem] = [p for p in problems if p.code.id == "AW302"]
    assert (problem.line, problem.column) == (7, 1)  # the `condition` key
    assert problem.message.endswith("(column 28)")
