"""Every normaliser is documented (README table generated from the registry); literal regex syntax warns."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from auditwatch import normalise
from auditwatch.commands import docs
from auditwatch.commands.cli import main
from auditwatch.normalise import NORMALISERS, build_normaliser
from auditwatch.parsing import load_parser

OPTIONS = {
    "staff_id": {"prefix": "MP", "digits": 6},
    "date": {"formats": ["%d/%m/%Y"]},
    "map": {"values": {"a": "b"}},
    "null_if": {"values": ["-"]},
    "replace": {"pattern": "x", "with": "y"},
}


def test_the_registry_lists_every_normaliser_the_builder_knows() -> None:
    """The names `build_normaliser` accepts are exactly the documented ones (checked both ways)."""
    source = inspect.getsource(normalise._build_one)
    known = set(re.findall(r'name == "(\w+)"', source)) | set(re.findall(r'"(\w+)": _', source))
    assert known == set(NORMALISERS)
    for name in NORMALISERS:
        spec = {name: OPTIONS[name]} if name in OPTIONS else name
        assert callable(build_normaliser(spec))


def test_readme_documents_every_normaliser_one_line_each() -> None:
    """The README's normaliser table is the generated one, with a row per normaliser (incl. replace,
    null_if, unquote); adding a normaliser without `python -m auditwatch.commands.docs` fails here."""
    readme = docs.README_MD.read_text(encoding="utf-8")
    assert (
        docs.render(readme, docs.normalisers_markdown(), docs.NORMALISERS_BEGIN, docs.NORMALISERS_END)
        == readme
    )
    for name in NORMALISERS:
        assert sum(line.startswith(f"| `{name}` |") for line in readme.splitlines()) == 1, name
    grown = docs.normalisers_markdown({**NORMALISERS, "new_one": "a new normaliser"})
    assert docs.render(readme, grown, docs.NORMALISERS_BEGIN, docs.NORMALISERS_END) != readme


PARSER = """\
name: demo
dataset: demo.audit
decoder: pattern
definitions:
  DIGITS: "[0-9]+"
  CODE: {regex: "[A-Z]{3}"}
  USER: "u=%{WORD:user}"
records:
  - name: A
    pattern: "%{USER} %{DIGITS:n} %{CODE:code}"
  - name: B
    pattern: "%{USER} .* %{CODE:code}"
fields:
  "@timestamp": {from: n, formats: [epoch]}
  user.id: user
"""


def test_plain_string_with_regex_syntax_warns_with_file_and_line(tmp_path: Path) -> None:
    """A plain-string definition or pattern holding regex syntax (taken literally) is a warning naming
    file, line and key; a `{regex: ...}` definition and a plain pattern give none."""
    path = tmp_path / "demo.yml"
    path.write_text(PARSER, encoding="utf-8")
    warnings = load_parser(path).definition.warnings
    found = {(w.line, w.field, w.level) for w in warnings}
    assert found == {(5, "definitions.DIGITS", "warning"), (12, "records[1].pattern", "warning")}
    assert all("{regex: '...'}" in w.message for w in warnings)


def test_check_config_shows_the_warning_and_still_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """check-config prints the warning but does not fail on it."""
    (tmp_path / "parsers").mkdir()
    (tmp_path / "rules").mkdir()
    (tmp_path / "parsers" / "demo.yml").write_text(PARSER, encoding="utf-8")
    cfg = tmp_path / "aw.yml"
    cfg.write_text("inputs: []\nelasticsearch: {hosts: ['http://127.0.0.1:9200']}\n", encoding="utf-8")
    assert main(["check-config", "--config", str(cfg)]) == 0
    err = capsys.readouterr().err
    assert f"{tmp_path / 'parsers' / 'demo.yml'}:5:3: AW204 [definitions.DIGITS] warning: '[0-9]'" in err
