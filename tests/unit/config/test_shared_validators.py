"""The shared config validators (auditwatch.config.spec.positive / not_negative) as the daemon config
reports them: each bad value named with file, line and field, every one at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditwatch.config.daemon import load_config
from auditwatch.config.spec import not_negative, positive
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
    assert f"{cfg}:4: [pipeline.batch_max_records] must be greater than zero" in text
    assert f"{cfg}:5: [pipeline.idle_wait] must be greater than zero" in text
    assert f"{cfg}:6: [pipeline.lateness] must be zero or more" in text
    assert f"{cfg}:9: [jobs.risk_every] must be greater than zero" in text
    assert "stop_timeout" not in text
