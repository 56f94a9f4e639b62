"""`auditwatch parse` reads as the daemon does (.gz, a pipe, multi-line records), never stops on a line."""

from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path

import pytest

from auditwatch.commands.cli import main

REPO = Path(__file__).resolve().parents[2]
PARSERS = str(REPO / "parsers")
GOOD = '{"audit_id":"A-%d","ts":"2026-11-25T09:45:12Z","action":"VIEW","user":{"staff_no":"12345"}}\n'
PG_MULTILINE = (
    "2026-11-25 09:45:12.001 UTC [77] alice@policedb LOG:  AUDIT: "
    "SESSION,1,1,READ,SELECT,TABLE,public.person,"
    '"SELECT surname\n  FROM person\n WHERE id = 1",<not logged>\n'
    "2026-11-25 09:45:13.001 UTC [77] alice@policedb LOG:  AUDIT: "
    "SESSION,2,1,READ,SELECT,,,select 1,<not logged>\n"
)


def _events(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


@pytest.fixture(autouse=True)
def _no_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDITWATCH_CONFIG", raising=False)


def test_parse_reads_gz_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A rotated .gz file is decompressed and parsed like the daemon reads it."""
    path = tmp_path / "rms.jsonl.1.gz"
    path.write_bytes(gzip.compress(((GOOD % 1) + (GOOD % 2)).encode()))
    code = main(["parse", "--parser", "rms_json", "--parsers-dir", PARSERS, str(path)])
    out, _err = capsys.readouterr()
    assert code == 0
    assert [e["event.id"] for e in _events(out)] == ["A-1", "A-2"]


def test_parse_reads_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`-` reads a pipe, including an unterminated last line."""
    data = ((GOOD % 1) + (GOOD % 2).rstrip("\n")).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code = main(["parse", "--parser", "rms_json", "--parsers-dir", PARSERS, "-"])
    out, _err = capsys.readouterr()
    assert code == 0
    assert [e["event.id"] for e in _events(out)] == ["A-1", "A-2"]


def _config(tmp_path: Path, multiline: str) -> Path:
    cfg = tmp_path / "aw.yml"
    cfg.write_text(
        f"parsers_dir: {PARSERS}\n"
        "inputs:\n"
        f"  - {{name: pg, paths: [pg/*.log], parser: pgaudit{multiline}}}\n"
        "elasticsearch: {hosts: ['http://127.0.0.1:9200']}\n",
        encoding="utf-8",
    )
    return cfg


def test_parse_joins_multiline_records_with_the_inputs_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With a config, `--input` (or `--parser`) takes the input's multiline settings: a SQL statement
    over three lines is one event, as in the daemon."""
    log = tmp_path / "server.log"
    log.write_text(PG_MULTILINE, encoding="utf-8")
    cfg = _config(tmp_path, r", multiline: {start: '^\d{4}-\d{2}-\d{2} '}")
    for which in (["--input", "pg"], ["--parser", "pgaudit"]):
        code = main(["parse", "--config", str(cfg), *which, str(log)])
        out, err = capsys.readouterr()
        assert (code, err) == (0, "")
        events = _events(out)
        assert [e["log.offset"] for e in events] == [0, PG_MULTILINE.index("2026-11-25 09:45:13")]
        assert "WHERE id = 1" in str(events[0]["event.original"])


def test_parse_without_multiline_settings_reports_the_broken_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without them each physical line is a record: the continuation lines are reported, not hidden."""
    log = tmp_path / "server.log"
    log.write_text(PG_MULTILINE, encoding="utf-8")
    code = main(["parse", "--config", str(_config(tmp_path, "")), "--input", "pg", str(log)])
    out, err = capsys.readouterr()
    assert code == 1
    assert len(_events(out)) == 1
    assert err.count(f"{log}@") == 3


def test_parse_fails_loudly_on_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that does not exist is an error with a one-line message and exit 2, not an empty success."""
    missing = tmp_path / "nope.log"
    code = main(["parse", "--parser", "rms_json", "--parsers-dir", PARSERS, str(missing)])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.strip() == f"error: cannot read {missing}: No such file or directory"


def test_parse_reports_an_unencodable_event_and_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An integer beyond 64 bits (the daemon dead-letters it) is reported on stderr; the run goes on."""
    huge = '{"audit_id":"A-9","ts":"2026-11-25T09:45:12Z","action":"VIEW","user":{"staff_no":"1"},'
    huge += '"search":{"result_count":123456789012345678901234567890}}\n'
    log = tmp_path / "rms.jsonl"
    log.write_text((GOOD % 1) + huge + (GOOD % 2), encoding="utf-8")
    code = main(["parse", "--parser", "rms_json", "--parsers-dir", PARSERS, str(log)])
    out, err = capsys.readouterr()
    assert code == 1
    assert [e["event.id"] for e in _events(out)] == ["A-1", "A-2"]
    assert f"{log}@{len(GOOD % 1)}: encoding: Integer exceeds 64-bit range" in err
