"""The README's example rule is a real rule: it lints clean and its own cases pass."""

from __future__ import annotations

import re
from pathlib import Path

from auditwatch.detection import lint_ruleset, load_ruleset, run_rule_tests

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_example_rule_lints_and_passes_its_cases(tmp_path: Path) -> None:
    """The first yaml block starting with `id:` in the README loads, lints and passes its tests."""
    blocks = re.findall(r"```yaml\n(id: .*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, "the README shows an example rule"
    (tmp_path / "example.yml").write_text(blocks[0], encoding="utf-8")
    assert [p for p in lint_ruleset(tmp_path) if p.level == "error"] == []
    results = run_rule_tests(load_ruleset(tmp_path))
    assert len(results) == 2
    assert all(r.passed for r in results), [str(r) for r in results]
