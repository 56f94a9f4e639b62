"""Scheduled jobs' decisions with an injected clock: silent sources, and which months retention removes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from auditwatch.config.daemon import RetentionConfig, load_config
from auditwatch.errors import ConfigError
from auditwatch.jobs.retention import plan
from auditwatch.jobs.silence import RULE_ID, SilenceWatch, SourceActivity
from auditwatch.schema import IndexNames
from auditwatch.sources.config import InputConfig


class _Clock:
    def __init__(self) -> None:
        self.now = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now


def _input(name: str, silent_after: float | None) -> InputConfig:
    return InputConfig(name, ("/x",), (), "p", silent_after=silent_after)


def test_silent_source_alerts_once_per_silence_and_again_after_it_resumes() -> None:
    """Quiet past `silent_after`: one alert, not one per check; data resumes; a new silence alerts again."""
    clock = _Clock()
    inputs = [_input("rms", 900.0), _input("pnc", None)]
    activity = SourceActivity([i.name for i in inputs], clock)
    watch = SilenceWatch(inputs, activity, clock)
    clock.now += 600
    activity.saw(["rms"])
    clock.now += 800  # 800 s since rms's last record: still fine
    assert watch.check() == []
    clock.now += 200  # 1,000 s
    first = watch.check()
    assert [a.rule_id for a in first] == [RULE_ID]
    assert "input 'rms' has written nothing since" in first[0].fields["auditwatch"]["alert"]["reasons"][0]  # type: ignore[index]
    assert watch.silent_inputs() == ["rms"]
    clock.now += 3600
    assert watch.check() == []  # the same silence is not reported twice
    activity.saw(["rms"])
    assert watch.check() == []
    assert watch.silent_inputs() == []
    clock.now += 901
    second = watch.check()
    assert len(second) == 1
    assert second[0].id != first[0].id
    clock.now += 10**6
    assert all(a.fields["service"]["name"] != "pnc" for a in watch.check())  # type: ignore[index]


def test_silence_alert_id_is_stable_for_the_same_silence() -> None:
    """A restart that sees the same silence again produces the same alert id (create: no duplicate)."""
    ids = []
    for _ in range(2):
        clock = _Clock()
        activity = SourceActivity(["rms"], clock)
        watch = SilenceWatch([_input("rms", 60.0)], activity, clock)
        clock.now += 61
        ids.append(watch.check()[0].id)
    assert ids[0] == ids[1]


def test_retention_plan_keeps_whole_months_inside_the_age() -> None:
    """Keep 12 months on 2026-12-06: 2025.11 and older go, 2025.12 stays; foreign indices are untouched."""
    names = IndexNames("aw")
    indices = [
        "aw-events-2024.01",
        "aw-events-2025.11",
        "aw-events-2025.12",
        "aw-events-2026.12",
        "aw-events-2025.11-restored",
        "other-events-2020.01",
        "aw-alerts",
    ]
    decided = plan(indices, names, 12, date(2026, 12, 6))
    assert decided.delete == ("aw-events-2024.01", "aw-events-2025.11")
    assert decided.keep == ("aw-events-2025.12", "aw-events-2026.12")


def _config(tmp_path: Path, jobs: str, inputs_extra: str = "") -> Path:
    (tmp_path / "parsers").mkdir(exist_ok=True)
    path = tmp_path / "auditwatch.yml"
    path.write_text(
        "inputs:\n  - {name: rms, paths: [logs/*.log], parser: p" + inputs_extra + "}\n"
        "elasticsearch: {hosts: ['http://127.0.0.1:9200']}\n" + jobs
    )
    return path


def test_jobs_section_is_read(tmp_path: Path) -> None:
    """Times of day, retention and the per-input silence limit land in the frozen config."""
    cfg = load_config(
        _config(
            tmp_path,
            "jobs:\n  digest_at: '06:45'\n  retention: {events_keep_months: 84, at: '01:15'}\n",
            ", silent_after: 900",
        )
    )
    assert cfg.jobs.digest_at == (6, 45)
    assert cfg.jobs.retention == RetentionConfig(84, delete=False, at=(1, 15))
    assert cfg.inputs[0].silent_after == 900.0
    assert cfg.jobs.risk_every is None
    assert load_config(_config(tmp_path, "jobs: {risk_every: 3600}\n")).jobs.risk_every == 3600.0
    off = load_config(_config(tmp_path, "jobs:\n  digest_at: null\n"))
    assert off.jobs.digest_at is None
    assert off.jobs.retention is None


@pytest.mark.parametrize(
    ("jobs", "where"),
    [
        ("jobs:\n  digest_at: '25:00'\n", ":5:3: AW104 [jobs.digest_at] must be a time of day"),
        (
            "jobs:\n  retention: {delete: true}\n",
            "[jobs.retention] missing required key 'events_keep_months'",
        ),
        ("jobs:\n  retentoin: {events_keep_months: 1}\n", "retentoin"),
    ],
)
def test_jobs_section_problems_are_located(tmp_path: Path, jobs: str, where: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(_config(tmp_path, jobs))
    assert where in str(err.value)


def test_metrics_listen_only_on_loopback(tmp_path: Path) -> None:
    """The Prometheus endpoint is off by default, on when a port is given, and refuses a public address."""
    assert load_config(_config(tmp_path, "")).metrics.port is None
    assert load_config(_config(tmp_path, "metrics: {port: 9464}\n")).metrics.port == 9464
    with pytest.raises(ConfigError) as err:
        load_config(_config(tmp_path, "metrics: {port: 9464, host: 0.0.0.0}\n"))
    assert "[metrics.host] must be a loopback address" in str(err.value)
