"""Hostile YAML and rule files are refused with file:line, quickly, by every loader and command."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
import yaml

from auditwatch.commands.cli import main
from auditwatch.config.yamlsource import MAX_DOCUMENT_BYTES, load_yaml_file, load_yaml_text
from auditwatch.detection.grammar import MAX_CONDITION_DEPTH, ConditionSyntaxError, parse_condition
from auditwatch.detection.lint import lint_ruleset
from auditwatch.errors import ConfigError
from auditwatch.testing import hostile

HOSTILE = [*hostile.every_hostile_file(), hostile.deep_block_yaml()]
RULES = Path(__file__).resolve().parents[3] / "rules"


def _refusal(text: str, file: str = "x.yml") -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_yaml_text(text, file)
    return caught.value


@pytest.mark.parametrize("bad", HOSTILE, ids=lambda h: h.name)
def test_hostile_rule_files_are_refused_by_lint_with_file_and_line_in_under_a_second(
    bad: hostile.HostileFile, tmp_path: Path
) -> None:
    """Alias bomb, 10,000-deep YAML, 3,000 `[`, 1,000 `not`s, 10,000 `(`: one located error each, < 1 s."""
    (tmp_path / bad.name).write_text(bad.text)
    started = time.perf_counter()
    problems = [p for p in lint_ruleset(tmp_path) if p.level == "error" and not p.field.startswith("tests")]
    elapsed = time.perf_counter() - started
    assert [(Path(p.file).name, p.line) for p in problems] == [(bad.name, bad.line)], problems
    assert bad.message in problems[0].message
    assert elapsed < 1.0


def test_alias_bomb_names_the_alias_that_crossed_the_budget() -> None:
    """The refusal is at the first anchor whose aliases expand past the budget, not at the end."""
    bomb = hostile.alias_bomb()
    problem = _refusal(bomb.text).problems[0]
    assert problem.line == 5
    assert "aliases expand to more than 100000 nodes" in problem.message


def test_recursive_alias_is_refused() -> None:
    """An alias used inside its own anchor would build an endless structure."""
    problem = _refusal("a: 1\nb: &loop\n  - x\n  - *loop\n").problems[0]
    assert (problem.line, "inside its own anchor" in problem.message) == (4, True)


def test_aliases_chained_deeper_than_the_limit_are_refused() -> None:
    """Nesting counts after expansion: 70 anchors each wrapping the previous one."""
    text = "a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 70))
    problem = _refusal(text).problems[0]
    assert "aliases nest more than 64 levels deep" in problem.message
    assert problem.line == 64


def test_ordinary_anchors_and_merge_keys_still_load() -> None:
    """Shared defaults via anchors and `<<` merges are normal YAML and keep working."""
    doc = load_yaml_text("base: &b {a: 1, b: 2}\nuse: {<<: *b, c: 3}\nlist: [*b, *b]\n")
    assert doc.data["use"] == {"a": 1, "b": 2, "c": 3}
    assert doc.data["list"] == [{"a": 1, "b": 2}, {"a": 1, "b": 2}]
    assert doc.line_of(("use", "c")) == 2


def test_oversized_documents_are_refused_before_parsing(tmp_path: Path) -> None:
    """A file over the size cap is refused from its size alone."""
    big = tmp_path / "big.yml"
    with big.open("w") as f:
        f.write("items:\n")
        f.write("  - x\n" * (MAX_DOCUMENT_BYTES // 6 + 1))
    started = time.perf_counter()
    with pytest.raises(ConfigError) as caught:
        load_yaml_file(big)
    assert time.perf_counter() - started < 1.0
    assert str(caught.value).startswith(f"{big}: AW001 document is ")


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("a: 1\nb: " + "1" * 5000 + "\n", 2, "digits"),  # int() refuses > 4,300 digits
        ("a: 2026-13-45\n", 1, "month must be in 1..12"),
        ("a: !!python/object:os.system x\n", 1, "could not determine a constructor"),
        ("? [1, 2]\n: x\n", 1, "mapping keys must be plain scalars"),
    ],
)
def test_values_python_cannot_build_are_located_errors(text: str, line: int, fragment: str) -> None:
    """Scalars that make the constructor raise become located config errors, never a traceback."""
    problem = _refusal(text).problems[0]
    assert (problem.line, fragment in problem.message) == (line, True), problem


def test_repeated_loads_retain_no_yaml_nodes() -> None:
    """One loader per document: 50 loads of a rule file leave no composed nodes behind."""
    rule_file = sorted(RULES.glob("*.yml"))[0]

    def live_nodes() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if isinstance(o, yaml.Node))

    load_yaml_file(rule_file)
    before = live_nodes()
    for _ in range(50):
        load_yaml_file(rule_file)
    assert live_nodes() - before == 0


def test_condition_depth_limit_counts_parentheses_and_nots_but_not_quoted_text() -> None:
    """32 levels parse; 33 are refused at the column that crossed; brackets in strings/regexes are text."""
    parse_condition("not " * MAX_CONDITION_DEPTH + "a")
    with pytest.raises(ConditionSyntaxError) as caught:
        parse_condition("(" * 20 + "not " * 13 + "a" + ")" * 20)
    assert caught.value.column == 20 + 12 * 4 + 1
    parse_condition(
        'a == "' + "(" * 100 + '" and b matches /' + "\\(" * 100 + "/ and hour(Europe/London) == 3"
    )


@pytest.fixture
def cli_logging() -> Iterator[None]:
    """`main` points structlog at the captured stderr; put it back so later tests do not log to it."""
    yield
    structlog.reset_defaults()


def test_check_config_and_lint_commands_report_hostile_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], cli_logging: None
) -> None:
    """`rules lint` and `check-config` exit 2 naming each file and line, in well under a second each."""
    rules = tmp_path / "rules"
    rules.mkdir()
    for bad in HOSTILE:
        (rules / bad.name).write_text(bad.text)
    config = tmp_path / "aw.yml"
    config.write_text(
        "inputs: []\nrules_dir: rules\nparsers_dir: parsers\nstate_dir: state\n"
        "elasticsearch: {hosts: ['http://127.0.0.1:9200']}\n"
    )
    (tmp_path / "parsers").mkdir()
    for argv in (["rules", "lint", "--rules-dir", str(rules)], ["check-config", "--config", str(config)]):
        started = time.perf_counter()
        assert main(argv) == 2
        assert time.perf_counter() - started < len(HOSTILE) * 1.0
        out = capsys.readouterr()
        text = out.out + out.err
        for bad in HOSTILE:
            assert f"{rules / bad.name}:{bad.line}:" in text, (argv, bad.name)
        assert "Traceback" not in text


def test_a_rule_file_whose_loading_raises_is_a_problem_naming_that_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any exception while reading one rule file (a loader bug, RecursionError) is that file's problem."""
    from auditwatch.detection import loader
    from auditwatch.detection.loader import collect_ruleset
    from auditwatch.detection.testing import RULE_HEADER

    for name in ("a", "b"):
        (tmp_path / f"{name}.yml").write_text(RULE_HEADER.format(id=name) + "condition: user.id == 'x'\n")
    real = loader.load_rule_file  # type: ignore[attr-defined]  # imported there, patched here

    def flaky(path: Path, *args: object) -> object:
        if path.name == "a.yml":
            raise RecursionError("maximum recursion depth exceeded")
        return real(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(loader, "load_rule_file", flaky)
    ruleset, problems = collect_ruleset(tmp_path)
    assert [r.id for r in ruleset] == ["b"]
    assert [(p.file, p.line, p.message) for p in problems] == [
        (
            str(tmp_path / "a.yml"),
            None,
            "could not be loaded: RecursionError: maximum recursion depth exceeded",
        )
    ]
