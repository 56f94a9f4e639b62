"""The shared config validators (auditwatch.config.spec.positive / not_negative) as the daemon config
reports them: each bad value named with file, line and field, every one at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditwatch.config.daemon import load_config
from auditwatch.config.spec import known_zone, not_negative, positive
from auditwatch.errors import ConfigError


def test_positive_and_not_negative_accept_and_refuse_at_the_boundary() -> None:
    assert positive(1) == 1
    assert positive(0.001) == 0.001
    assert not_negative(0) == 0
    assert not_negative(2.5) == 2.5
    for bad in (0, -1, 0.0, -0.5):
        with pytest.raises(ValueError, match="must be greater than zero"):
            positive(bad)
    with pytest.raises(ValueError, match="must be zero or more"):
        not_negative(-1)


def test_the_daemon_config_reports_each_bad_number_with_file_line_and_field(tmp_path: Path) -> None:
    cfg = tmp_path / "aw.yml"
    cfg.write_text(
        "inputs: [{name: a, paths: [x.log], parser: rms_json}]\n"
        "elasticsearch: {hosts: ['http://127.0.0.1:9200']}\n"
        "pipeline:\n"
        "  batch_max_records: 0\n"
        "  idle_wait: -0.5\n"
        "  lateness: -1\n"
        "  stop_timeout: 0.5\n"
        "jobs:\n"
        "  risk_every: 0\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(cfg)
    text = str(caught.value)
    assert f"{cfg}:4:3: AW104 [pipeline.batch_max_records] must be greater than zero" in text
    assert f"{cfg}:5:3: AW104 [pipeline.idle_wait] must be greater than zero" in text
    assert f"{cfg}:6:3: AW104 [pipeline.lateness] must be zero or more" in text
    assert f"{cfg}:9:3: AW104 [jobs.risk_every] must be greater than zero" in text
    assert "stop_timeout" not in text


def test_known_zone_accepts_tz_names_and_the_spellings_of_utc() -> None:
    assert known_zone("Europe/London") == "Europe/London"
    assert known_zone("UTC") == "UTC"
    assert known_zone("GMT") == "GMT"  # a tz database name: kept as written
    assert known_zone("utc") == "UTC"
    assert known_zone("Z") == "UTC"
    with pytest.raises(ValueError, match=r"unknown time zone 'Mars/Base' \(use e.g. Europe/London\)"):
        known_zone("Mars/Base")


def test_every_section_of_the_daemon_config_uses_the_shared_validators(tmp_path: Path) -> None:
    """inputs (sources), elasticsearch (indexing) and reference report the same words for the same
    mistake: one validator, not one per package."""
    cfg = tmp_path / "aw.yml"
    cfg.write_text(
        "inputs: [{name: a, paths: [x.log], parser: rms_json, max_line_bytes: 0, poll_interval: -1}]\n"
        "elasticsearch: {hosts: ['http://127.0.0.1:9200'], bulk_max_docs: 0, request_timeout: 0}\n"
        "reference:\n"
        "  timezone: Mars/Base\n"
        "  reload_poll_seconds: 0\n"
        "  roster_grace_minutes: -1\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(cfg)
    text = str(caught.value)
    for field in (
        "inputs[0].max_line_bytes",
        "inputs[0].poll_interval",
        "elasticsearch.bulk_max_docs",
        "elasticsearch.request_timeout",
        "reference.reload_poll_seconds",
    ):
        assert f"[{field}] must be greater than zero" in text, field
    assert "[reference.roster_grace_minutes] must be zero or more" in text
    assert "[reference.timezone] unknown time zone 'Mars/Base' (use e.g. Europe/London)" in text
