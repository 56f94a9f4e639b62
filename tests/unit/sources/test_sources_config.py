"""Validation of one `inputs:` entry."""

from __future__ import annotations

import pytest

from auditwatch.config.spec import Reader
from auditwatch.config.yamlsource import load_yaml_text
from auditwatch.errors import ConfigError
from auditwatch.sources.config import InputConfig, read_input_config


def _read(text: str) -> tuple[InputConfig, Reader]:
    reader = Reader(load_yaml_text(text, "auditwatch.yml"))
    cfg = read_input_config(reader)
    return cfg, reader


def test_full_entry_is_read() -> None:
    """Every key is read into the frozen InputConfig, regexes compiled to bytes patterns."""
    cfg, reader = _read(
        "name: rms\nparser: rms-v2\npaths: [/var/log/rms/audit.log*, /x/*.log]\nexclude: '*.tmp'\n"
        "start_at: end\nmax_line_bytes: 4096\nread_gz: true\nfingerprint_lines: 2\n"
        "poll_interval: 0.5\nclose_inactive: 60\n"
        "multiline: {start: '^\\d{4}-', max_lines: 20, idle_flush: 1}\n"
    )
    reader.raise_if_any()
    assert cfg.paths == ("/var/log/rms/audit.log*", "/x/*.log")
    assert cfg.exclude == ("*.tmp",)
    assert (cfg.start_at, cfg.max_line_bytes, cfg.read_gz, cfg.fingerprint_lines) == ("end", 4096, True, 2)
    assert (cfg.poll_interval, cfg.close_inactive) == (0.5, 60.0)
    assert cfg.multiline is not None
    assert cfg.multiline.start is not None
    assert cfg.multiline.start.search(b"2024-01-01 x")
    assert cfg.multiline.continuation is None
    assert (cfg.multiline.max_lines, cfg.multiline.idle_flush) == (20, 1.0)


def test_defaults() -> None:
    """Only name, paths and parser are required."""
    cfg, reader = _read("name: rms\nparser: rms\npaths: /a/*.log\n")
    reader.raise_if_any()
    assert (cfg.start_at, cfg.max_line_bytes, cfg.multiline, cfg.fingerprint_lines) == (
        "beginning",
        1 << 20,
        None,
        1,
    )


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ("name: r\nparser: p\npaths: /a\nbogus: 1\n", "bogus", "unknown key"),
        ("name: r\nparser: p\npaths: /a\nstart_at: middle\n", "start_at", "'beginning' or 'end'"),
        ("name: r\nparser: p\npaths: /a\nmax_line_bytes: 0\n", "max_line_bytes", "must be greater than zero"),
        (
            "name: r\nparser: p\npaths: /a\nmultiline: {start: '(unclosed'}\n",
            "multiline.start",
            "regular expression",
        ),
        (
            "name: r\nparser: p\npaths: /a\nmultiline: {start: a, continuation: b}\n",
            "multiline",
            "exactly one",
        ),
        ("name: r\nparser: p\npaths: /a\nmultiline: {max_lines: 3}\n", "multiline", "exactly one"),
        (
            "name: r\nparser: p\npaths: /a\nmultiline: {start: a, colour: red}\n",
            "multiline.colour",
            "unknown",
        ),
        ("name: r\nparser: p\n", "", "paths"),
    ],
)
def test_problems_name_field_and_line(text: str, field: str, message: str) -> None:
    """Each mistake is reported with the file, its line and the offending field."""
    _, reader = _read(text)
    with pytest.raises(ConfigError) as err:
        reader.raise_if_any()
    problems = err.value.problems
    assert any(p.field == field and message in p.message and p.file == "auditwatch.yml" for p in problems), (
        problems
    )
    assert all(p.line is not None for p in problems)
