"""`auditwatch scan` in event-time order: rotated files read oldest first, inputs merged by event
time, config globs resolved like file arguments, the pipeline's batch settings honoured."""

from __future__ import annotations

import gzip
import json
import os
import random
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
import structlog

from auditwatch.commands.scanning import scan_files
from auditwatch.config.daemon import load_config
from auditwatch.detection import DetectionEngine, load_ruleset
from auditwatch.detection.testing import BASE_TIME
from auditwatch.errors import ConfigError
from auditwatch.normalise import iso_utc
from auditwatch.parsing import load_parsers
from auditwatch.pipeline import Pipeline, first_event_time
from auditwatch.reference.snapshot import empty_reference
from auditwatch.sources.tail import Tailer

REPO = Path(__file__).resolve().parents[2]

BULK = """\
id: bulk
title: Bulk browsing
description: Many distinct subjects in a short time.
severity: medium
risk_score: 50
reasons: ["{user.id} browsed"]
kind: threshold
condition: event.action == view
group_by: [user.id]
distinct: auditwatch.subject.person_id
threshold: 6
window: 30m
"""

SEARCHES = """\
id: searches
title: Search
description: A search, once an hour per user.
severity: low
risk_score: 10
reasons: ["{user.id} searched"]
kind: event
condition: event.action == search
suppress: {by: [user.id], for: 1h}
"""

BROWSER = "MP000900"


@pytest.fixture(autouse=True)
def _default_logging() -> None:
    """CLI tests configure logging onto a captured (since closed) stream; scan logs as it reads."""
    structlog.reset_defaults()


WINDOWS = 23


def _line(n: int, at: float, user: str, action: str, subject: str) -> str:
    return json.dumps(
        {
            "audit_id": f"A{n:06d}",
            "ts": iso_utc(BASE_TIME + at),
            "action": action,
            "user": {"staff_no": user},
            "record": {"type": "person", "id": f"R-{subject}"},
            "subject": {"person_id": subject},
        }
    )


def _events(seed: int = 7) -> list[tuple[float, str]]:
    """9,000 events a minute apart: 60 users viewing (each at most once an hour), a search now and
    then, and WINDOWS bursts of 8 distinct subjects in 16 minutes by one user, in time order."""
    rng = random.Random(seed)
    out: list[tuple[float, str]] = []
    n = 0
    for minute in range(9000):
        at = minute * 60.0
        user = f"MP{(minute % 60) + 1:06d}"
        action = "search" if rng.random() < 0.05 else "view"
        out.append((at, _line(n, at, user, action, f"P{rng.randrange(100_000)}")))
        n += 1
    for w in range(WINDOWS):
        start = 1000 * 60.0 + w * 330 * 60.0 + 13.0
        for k in range(8):
            at = start + k * 120.0
            out.append((at, _line(n, at, BROWSER, "view", f"W{w}-{k}")))
            n += 1
    out.sort()
    return out


def _config(tmp: Path, paths: Sequence[str], extra: str = "") -> Path:
    rules = tmp / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "bulk.yml").write_text(BULK)
    (rules / "searches.yml").write_text(SEARCHES)
    inputs = "\n".join(
        f"  - {{name: in{i}, paths: ['{p}'], parser: rms_json, read_gz: true}}" for i, p in enumerate(paths)
    )
    cfg = tmp / "auditwatch.yml"
    cfg.write_text(
        f"inputs:\n{inputs}\n"
        f"parsers_dir: {REPO / 'parsers'}\nrules_dir: {rules}\nstate_dir: {tmp / 'state'}\n"
        "elasticsearch: {hosts: ['http://127.0.0.1:9']}\n" + textwrap.dedent(extra)
    )
    return cfg


def _write(path: Path, lines: Sequence[str]) -> Path:
    data = "".join(line + "\n" for line in lines).encode()
    if path.name.endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)
    return path


def _rotated_set(directory: Path, lines: Sequence[str], cuts: Sequence[int]) -> list[Path]:
    """`audit.log.2.gz` (oldest), `audit.log.1`, `audit.log`, cut at `cuts` (inside bursts)."""
    directory.mkdir(parents=True, exist_ok=True)
    a, b = cuts
    return [
        _write(directory / "audit.log.2.gz", lines[:a]),
        _write(directory / "audit.log.1", lines[a:b]),
        _write(directory / "audit.log", lines[b:]),
    ]


def _cut_inside_bursts(events: list[tuple[float, str]]) -> tuple[int, int]:
    """Positions in the middle of the 5th and 15th bursts, so a burst spans each rotation."""
    starts = [1000 * 60.0 + w * 330 * 60.0 + 13.0 for w in (4, 14)]
    index = [next(i for i, (at, _) in enumerate(events) if at > s + 300) for s in starts]
    return index[0], index[1]


def test_a_rotated_set_and_one_file_raise_the_same_alert_ids(tmp_path: Path) -> None:
    """Same events as `audit.log.2.gz` + `audit.log.1` + `audit.log` (bursts spanning both
    rotations), or split over two inputs, or in one file: the same alert ids, and every burst found.

    "Same" means identical ids: alert ids hash (rule, group, anchor event id), and rms_json declares
    the source's own audit id (`id: audit_id`), so an event's id does not depend on which file or
    offset it was read from. (For a parser without `id:`, event ids include the file identity and
    offset, and the same events in a differently cut file are different events by design.)"""
    events = _events()
    lines = [line for _, line in events]
    (tmp_path / "one").mkdir()
    one = _write(tmp_path / "one" / "all.log", lines)
    whole = scan_files(_config(tmp_path / "one", [str(tmp_path / "one" / "*.log")]), [one])

    rotated = _rotated_set(tmp_path / "rot", lines, _cut_inside_bursts(events))
    split = scan_files(_config(tmp_path / "rot", [str(tmp_path / "rot" / "audit.log*")]), rotated)

    # two inputs: even minutes in one system's log, odd minutes (and half the bursts) in another's
    (tmp_path / "two" / "a").mkdir(parents=True)
    (tmp_path / "two" / "b").mkdir(parents=True)
    first = [line for i, line in enumerate(lines) if i % 2 == 0]
    second = [line for i, line in enumerate(lines) if i % 2 == 1]
    files = [
        *_rotated_set(tmp_path / "two" / "a", first, (1500, 3000)),
        _write(tmp_path / "two" / "b" / "other.log", second),
    ]
    two = scan_files(
        _config(
            tmp_path / "two",
            [str(tmp_path / "two" / "a" / "audit.log*"), str(tmp_path / "two" / "b" / "*.log")],
        ),
        files,
    )

    bursts = [a for a in whole.alerts if a.rule_id == "bulk"]
    assert len(bursts) == WINDOWS
    assert {a.fields["user"]["id"] for a in bursts} == {BROWSER}  # type: ignore[index]
    assert whole.events == split.events == two.events == len(events)
    ids = sorted(a.id for a in whole.alerts)
    assert sorted(a.id for a in split.alerts) == ids
    assert sorted(a.id for a in two.alerts) == ids


def test_rotated_files_are_read_oldest_first_by_name_then_content(tmp_path: Path) -> None:
    """The tailer reads a chain `.2.gz`, `.1`, live, whatever their sizes; two live files of one
    input (no rotation names) are separate chains and take turns."""
    lines = [_line(i, i * 60.0, "MP000001", "view", f"P{i}") for i in range(30)]
    _write(tmp_path / "audit.log.2.gz", lines[:5])
    _write(tmp_path / "audit.log.1", lines[5:25])  # the largest: read first before
    _write(tmp_path / "audit.log", lines[25:])
    cfg = _config(tmp_path, [str(tmp_path / "audit.log*")])
    tailer = Tailer(load_config(cfg).inputs, {}, first_start=False, use_watchdog=False)
    try:
        got = [raw.data for _ in range(5) for raw in tailer.read(7)]
    finally:
        tailer.close()
    assert got == [line.encode() for line in lines]


def test_scan_matches_config_globs_through_a_symlinked_data_directory(tmp_path: Path) -> None:
    """The config names `data/*.log` where `data` is a symlink; a file given by either path is the
    input's file (before: 'no input's paths match')."""
    real = tmp_path / "srv" / "rms"
    real.mkdir(parents=True)
    (tmp_path / "cfg").mkdir()
    os.symlink(real, tmp_path / "cfg" / "data")
    log = _write(real / "audit.log", [_line(i, i * 60.0, "MP000001", "search", f"P{i}") for i in range(3)])
    cfg = _config(tmp_path / "cfg", [str(tmp_path / "cfg" / "data" / "*.log")])
    for given in (log, tmp_path / "cfg" / "data" / "audit.log"):
        result = scan_files(cfg, [given])
        assert result.events == 3
        assert [a.rule_id for a in result.alerts] == ["searches"]
    with pytest.raises(ConfigError, match="no input's paths match"):
        scan_files(cfg, [_write(tmp_path / "elsewhere.log", ["{}"])])


def test_scan_reads_in_the_configured_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`pipeline.batch_max_records` / `batch_max_bytes` bound what scan reads at once (before: a
    hard-coded 5000 records)."""
    log = _write(tmp_path / "audit.log", [_line(i, i * 60.0, "MP000001", "view", f"P{i}") for i in range(40)])
    cfg = _config(
        tmp_path, [str(tmp_path / "*.log")], "pipeline: {batch_max_records: 7, batch_max_bytes: 100000}\n"
    )
    sizes: list[tuple[int, int]] = []
    real_read = Tailer.read

    def read(self: Tailer, max_records: int = 5000, max_bytes: int = 8 << 20) -> list:  # type: ignore[type-arg]
        out = real_read(self, max_records, max_bytes)
        sizes.append((max_records, len(out)))
        return out

    monkeypatch.setattr(Tailer, "read", read)
    assert scan_files(cfg, [log]).events == 40
    assert {limit for limit, _ in sizes} == {7}
    assert max(n for _, n in sizes) == 7


def _daemon_path(cfg: Path, *, aligned: bool) -> list[str]:
    """The daemon's per-batch path over a backlog: its tailer, `Pipeline.process` and an engine with
    the wall clock, in the configured batches; what is still held is flushed at the end (as
    `run --until-idle` does)."""
    config = load_config(cfg)
    parsers = load_parsers(config.parsers_dir)
    engine = DetectionEngine(
        load_ruleset(config.rules_dir), empty_reference(), lateness=config.pipeline.lateness, clock=time.time
    )
    pipeline = Pipeline(config.inputs, parsers, engine)
    tailer = Tailer(
        config.inputs, {}, first_start=True, use_watchdog=False, first_time=first_event_time(parsers)
    )
    alerts = []
    try:
        while raws := tailer.read(config.pipeline.batch_max_records, config.pipeline.batch_max_bytes):
            alerts += pipeline.process(raws, tailer=tailer if aligned else None).alerts
    finally:
        tailer.close()
    alerts += engine.flush()
    return sorted(a.id for a in alerts)


def test_the_daemon_catching_up_detects_in_event_time_order_like_scan(tmp_path: Path) -> None:
    """Two inputs with a backlog (one a rotated set), read in batches of 500: the tailer reads the
    chain furthest behind in event time first and detection waits for chains with unread data, so
    the daemon raises the scan's alert ids. Without that alignment (each batch merely sorted) it
    does not."""
    lines = [line for _, line in _events()]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _rotated_set(tmp_path / "a", lines[0::2], (1500, 3000))
    _write(tmp_path / "b" / "other.log", lines[1::2])
    cfg = _config(
        tmp_path,
        [str(tmp_path / "a" / "audit.log*"), str(tmp_path / "b" / "*.log")],
        "pipeline: {batch_max_records: 500}\n",
    )
    files = sorted(p for p in tmp_path.rglob("*.log*") if p.is_file())
    scanned = sorted(a.id for a in scan_files(cfg, files).alerts)
    assert _daemon_path(cfg, aligned=True) == scanned
    assert _daemon_path(cfg, aligned=False) != scanned
