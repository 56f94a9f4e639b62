"""Pipeline settings that bound the daemon's work. Checkpoint pacing: a checkpoint that wrote much
state (a backlog across files holds a batch of events for ordering) delays the next one, ~1 s per
MiB, between `checkpoint_interval` and `checkpoint_interval_max`; a maximum below the interval is
refused. The reorder buffer's bound, `reorder_max_events`."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditwatch.config.daemon import PipelineConfig, load_config
from auditwatch.daemon import checkpoint_pause
from auditwatch.errors import ConfigError

MiB = 1 << 20


def test_small_checkpoints_keep_the_interval_and_large_ones_stretch_it_up_to_the_maximum() -> None:
    settings = PipelineConfig(checkpoint_interval=1.0, checkpoint_interval_max=10.0)
    assert checkpoint_pause(0, settings) == 1.0
    assert checkpoint_pause(200_000, settings) == 1.0  # live tail: rule state rows only
    assert checkpoint_pause(7 * MiB, settings) == pytest.approx(7.0)  # a held batch of ~5,000 events
    assert checkpoint_pause(500 * MiB, settings) == 10.0
    assert (
        checkpoint_pause(7 * MiB, PipelineConfig(checkpoint_interval=1.0, checkpoint_interval_max=1.0)) == 1.0
    )
    assert checkpoint_pause(MiB, PipelineConfig(checkpoint_interval=5.0, checkpoint_interval_max=30.0)) == 5.0


def _config(tmp_path: Path, pipeline: str) -> Path:
    cfg = tmp_path / "aw.yml"
    cfg.write_text(
        "inputs: [{name: a, paths: [x.log], parser: rms_json}]\n"
        "elasticsearch: {hosts: ['http://127.0.0.1:9200']}\n"
        f"pipeline:\n{pipeline}",
        encoding="utf-8",
    )
    return cfg


def test_the_maximum_defaults_to_ten_seconds_or_the_interval_if_that_is_longer(tmp_path: Path) -> None:
    assert (
        load_config(_config(tmp_path, "  batch_max_records: 10\n")).pipeline.checkpoint_interval_max == 10.0
    )
    slow = load_config(_config(tmp_path, "  checkpoint_interval: 30\n")).pipeline
    assert (slow.checkpoint_interval, slow.checkpoint_interval_max) == (30.0, 30.0)
    given = load_config(
        _config(tmp_path, "  checkpoint_interval: 2\n  checkpoint_interval_max: 4\n")
    ).pipeline
    assert (given.checkpoint_interval, given.checkpoint_interval_max) == (2.0, 4.0)


def test_a_maximum_below_the_interval_is_refused_with_file_line_and_field(tmp_path: Path) -> None:
    cfg = _config(tmp_path, "  checkpoint_interval: 5\n  checkpoint_interval_max: 2\n")
    with pytest.raises(ConfigError) as caught:
        load_config(cfg)
    assert (
        f"{cfg}:5:3: AW104 [pipeline.checkpoint_interval_max] must be at least checkpoint_interval (5)"
        in str(caught.value)
    )


def test_the_reorder_bound_defaults_to_four_batches_and_must_be_positive(tmp_path: Path) -> None:
    assert load_config(_config(tmp_path, "  batch_max_records: 10\n")).pipeline.reorder_max_events == 20_000
    assert load_config(_config(tmp_path, "  reorder_max_events: 500\n")).pipeline.reorder_max_events == 500
    cfg = _config(tmp_path, "  reorder_max_events: 0\n")
    with pytest.raises(ConfigError) as caught:
        load_config(cfg)
    assert f"{cfg}:4:3: AW104 [pipeline.reorder_max_events] must be greater than zero" in str(caught.value)
