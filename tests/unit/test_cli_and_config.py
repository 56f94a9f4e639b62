"""The daemon config and the CLI commands that need no Elasticsearch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from auditwatch.commands.cli import main
from auditwatch.config.daemon import load_config
from auditwatch.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_config_reports_every_problem_with_file_line_and_key(tmp_path: Path) -> None:
    """Unknown keys, wrong types and duplicate input names are all reported at once."""
    cfg = _write(
        tmp_path / "aw.yml",
        "inputs:\n"
        "  - {name: a, paths: [x.log], parser: rms_json}\n"
        "  - {name: a, paths: [y.log], parser: rms_json, colour: red}\n"
        "elasticsearch: {hosts: ['http://127.0.0.1:9200']}\n"
        "pipeline: {batch_max_records: lots}\n"
        "spare: 1\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(cfg)
    text = str(caught.value)
    assert f"{cfg}:3:49: AW101 [inputs[1].colour] unknown key 'colour'" in text
    assert f"{cfg}:5:12: AW103 [pipeline.batch_max_records] must be an integer" in text
    assert f"{cfg}:6:1: AW101 [spare] unknown key 'spare'" in text
    assert "duplicate input name 'a'" in text


def test_config_resolves_paths_relative_to_the_file(tmp_path: Path) -> None:
    """Globs, parser/rule dirs and the state dir are relative to the config file."""
    cfg = _write(
        tmp_path / "aw.yml",
        "inputs: [{name: a, paths: [logs/*.log], parser: rms_json}]\n"
        "state_dir: state\nelasticsearch: {hosts: ['http://127.0.0.1:9200']}\n",
    )
    (tmp_path / "parsers").mkdir()
    config = load_config(cfg)
    assert config.inputs[0].paths == (str(tmp_path / "logs" / "*.log"),)
    assert config.state_dir == tmp_path / "state"
    assert config.parsers_dir == tmp_path / "parsers"


def test_config_without_parser_or_rule_dirs_uses_the_shipped_ones(tmp_path: Path) -> None:
    """No `parsers/` or `rules/` beside the config and none named: the ones shipped with auditwatch."""
    from auditwatch.config.bundled import bundled_dir

    cfg = _write(
        tmp_path / "aw.yml",
        "inputs: [{name: a, paths: [logs/*.log], parser: rms_json}]\n"
        "elasticsearch: {hosts: ['http://127.0.0.1:9200']}\n",
    )
    config = load_config(cfg)
    assert config.parsers_dir == bundled_dir("parsers")
    assert (config.parsers_dir / "rms_json.yml").is_file()
    assert (config.rules_dir / "colleague-lookup.yml").is_file()


def test_parse_prints_events_and_explains_failures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`auditwatch parse` writes one JSON event per good line and a reason per bad one (exit 1)."""
    log = _write(
        tmp_path / "a.jsonl",
        '{"audit_id":"A-1","ts":"2026-11-25T09:45:12Z","action":"VIEW","user":{"staff_no":"12345"}}\n'
        '{"audit_id":"A-2","ts":"2026-11-25T09:45:13Z"\n',
    )
    code = main(["parse", "--parser", "rms_json", "--parsers-dir", str(REPO / "parsers"), str(log)])
    out, err = capsys.readouterr()
    events = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert [e["user.id"] for e in events] == ["MP012345"]
    assert f"{log}@" in err
    assert "json" in err


def test_check_config_names_a_broken_parser_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A parser file with an unknown key fails check-config with its file and line."""
    shutil.copytree(REPO / "parsers", tmp_path / "parsers")
    (tmp_path / "rules").mkdir()
    broken = tmp_path / "parsers" / "rms_json.yml"
    broken.write_text(broken.read_text(encoding="utf-8") + "colour: red\n", encoding="utf-8")
    line = broken.read_text(encoding="utf-8").count("\n")
    cfg = _write(
        tmp_path / "aw.yml",
        "inputs: [{name: a, paths: [x.log], parser: rms_json}]\nelasticsearch: {hosts: ['http://127.0.0.1:9200']}\n",
    )
    code = main(["check-config", "--config", str(cfg)])
    _out, err = capsys.readouterr()
    assert code == 2
    assert f"{broken}:{line}:1: AW101 [colour] unknown key 'colour'" in err


def test_rules_lint_and_test_pass_on_the_shipped_pack(capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped rule pack lints clean and every rule's cases pass through the production engine."""
    assert main(["rules", "lint", "--rules-dir", str(REPO / "rules")]) == 0
    assert main(["rules", "test", "--rules-dir", str(REPO / "rules")]) == 0
    out, _err = capsys.readouterr()
    assert " 0 failed" in out
    assert "FAIL" not in out
