"""Fixtures for detection tests: write rule files into a temp dir, make events, run an engine."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from auditwatch.detection import RuleSet, load_ruleset
from auditwatch.detection.testing import RULE_HEADER


@pytest.fixture
def write_rules(tmp_path: Path) -> Callable[..., Path]:
    """Write {filename: yaml} (and optional lists) and return the rules directory."""

    def write(files: Mapping[str, str], lists: Mapping[str, str] | None = None) -> Path:
        rules_dir = tmp_path / "rules"
        rules_dir.mkdir(exist_ok=True)
        for name, text in files.items():
            (rules_dir / name).write_text(textwrap.dedent(text))
        if lists:
            (rules_dir / "lists").mkdir(exist_ok=True)
            for name, text in lists.items():
                (rules_dir / "lists" / name).write_text(textwrap.dedent(text))
        return rules_dir

    return write


@pytest.fixture
def rule(write_rules: Callable[..., Path]) -> Callable[..., RuleSet]:
    """A rule set of one rule: the minimal header plus the given YAML body."""

    def make(body: str, rule_id: str = "r1", lists: Mapping[str, str] | None = None) -> RuleSet:
        text = RULE_HEADER.format(id=rule_id) + textwrap.dedent(body)
        return load_ruleset(write_rules({f"{rule_id}.yml": text}, lists))

    return make
