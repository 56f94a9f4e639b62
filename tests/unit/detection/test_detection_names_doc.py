"""RULES.md lists every signal, explanation and reference value, generated from the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditwatch.commands import docs
from auditwatch.commands.cli import main
from auditwatch.reference import MATCHES, VALUES, MatchInfo


def test_rules_md_is_generated_from_the_code() -> None:
    """The generated section of RULES.md is exactly what the code defines now: adding a name to
    MATCHES or VALUES without `python -m auditwatch.commands.docs` fails this test."""
    current = docs.RULES_MD.read_text(encoding="utf-8")
    assert docs.render(current, docs.names_markdown()) == current


def test_every_name_has_its_own_line() -> None:
    """Each match and each reference value appears once, as a table row of its own."""
    section = docs.names_markdown()
    for name in [*MATCHES, *VALUES]:
        rows = [line for line in section.splitlines() if line.startswith(f"| `{name}` |")]
        assert len(rows) == 1, name


def test_a_new_name_makes_the_check_fail_until_regenerated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name added to the code (as another branch may) fails the check until regenerated."""
    copy = tmp_path / "RULES.md"
    copy.write_text(docs.RULES_MD.read_text(encoding="utf-8"), encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text(docs.README_MD.read_text(encoding="utf-8"), encoding="utf-8")
    assert docs.main(["--check", "--rules-md", str(copy), "--readme", str(readme)]) == 0
    monkeypatch.setattr(
        docs, "MATCHES", {**MATCHES, "subject_is_new": MatchInfo("a new signal", "signal", "no")}
    )
    monkeypatch.setattr(docs, "VALUES", {**VALUES, "subject.new_value": "a new value"})
    assert docs.main(["--check", "--rules-md", str(copy), "--readme", str(readme)]) == 1
    assert docs.main(["--rules-md", str(copy), "--readme", str(readme)]) == 0
    assert docs.main(["--check", "--rules-md", str(copy), "--readme", str(readme)]) == 0
    text = copy.read_text(encoding="utf-8")
    assert "| `subject_is_new` | signal | a new signal | no |" in text
    assert "| `subject.new_value` | a new value |" in text


def test_rules_names_prints_the_tables(capsys: pytest.CaptureFixture[str]) -> None:
    """`auditwatch rules names` prints every name."""
    assert main(["rules", "names"]) == 0
    out = capsys.readouterr().out
    assert all(f"`{name}`" in out for name in [*MATCHES, *VALUES])
