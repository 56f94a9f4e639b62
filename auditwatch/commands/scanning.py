"""Embedded mode: read files through the production tailer, parse and detect without Elasticsearch.

Files are read with the daemon's own `Tailer` (same file identities, offsets, multi-line joining and
event ids), parsed by the daemon's own parsers and detected by the daemon's own engine. Unlike the
daemon, which detects what it reads as it comes (each batch in event-time order), a scan knows all
its files up front, so it detects them in event-time order across files: every rotation chain (a
live file and its rotated copies, read oldest first) is one stream of parsed events, and the
streams are merged by event time (`heapq.merge`; memory: one batch per chain).
"""

from __future__ import annotations

import fnmatch
import glob
import heapq
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import TextIO

import orjson
from tqdm import tqdm

from auditwatch.config.daemon import PipelineConfig, load_config
from auditwatch.detection import DetectionEngine, load_ruleset
from auditwatch.errors import ConfigError
from auditwatch.model import (
    AccessEvent,
    Alert,
    AlertSummary,
    DeadLetter,
    RawLine,
    summary_of,
)
from auditwatch.model import field_value as field_value  # noqa: PLC0414  (re-exported for callers)
from auditwatch.normalise import iso_utc
from auditwatch.parsing import load_parsers
from auditwatch.pipeline import Pipeline, event_order, first_event_time
from auditwatch.reference import load_reference
from auditwatch.service.tuning import throughput
from auditwatch.sources import discovery
from auditwatch.sources.config import InputConfig
from auditwatch.sources.identity import FirstTime
from auditwatch.sources.rotation import rotation_of
from auditwatch.sources.tail import Tailer

BATCH_RECORDS = PipelineConfig().batch_max_records
BATCH_BYTES = PipelineConfig().batch_max_bytes


class _SteppingClock:
    """A clock that jumps ahead once the files are exhausted, so pending multi-line records flush."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def read_records(
    inputs: Sequence[InputConfig],
    batch: int = BATCH_RECORDS,
    batch_bytes: int = BATCH_BYTES,
    first_time: FirstTime | None = None,
) -> Iterator[list[RawLine]]:
    """Every complete record of the inputs' files, in the batches the daemon would read."""
    clock = _SteppingClock()
    tailer = Tailer(inputs, {}, first_start=False, clock=clock, use_watchdog=False, first_time=first_time)
    try:
        empty_rounds = 0
        while empty_rounds < 2:
            raws = tailer.read(batch, batch_bytes)
            if raws:
                empty_rounds = 0
                yield raws
                continue
            empty_rounds += 1
            clock.now += 3600.0  # past every idle_flush / close_inactive
    finally:
        tailer.close()


def read_files(files: Sequence[Path], source: str) -> Iterator[tuple[list[RawLine], str]]:
    """Records of plain files for one parser, with the ingest time to stamp them with."""
    spec = InputConfig(name=source, paths=_literal_globs(files), exclude=(), parser=source)
    for raws in read_records([spec]):
        yield raws, iso_utc(time.time())


@dataclass
class ScanResult:
    records: int = 0
    events: int = 0
    dead: list[DeadLetter] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


def scan_files(
    config_path: Path, files: Sequence[Path], *, parser_name: str | None = None, progress: bool = False
) -> ScanResult:
    """Parse and detect `files` with the config's parsers, rules, reference data and pipeline
    settings (batch size, lateness), in event-time order across files."""
    config = load_config(config_path)
    settings = config.pipeline
    parsers = load_parsers(config.parsers_dir)
    inputs = _inputs_for(files, config.inputs, parser_name, str(config.path))
    reference, _problems = load_reference(config.reference)
    engine = DetectionEngine(
        load_ruleset(config.rules_dir, config.lists_dir),
        reference,
        lateness=settings.lateness,
        max_held=settings.reorder_max_events,
    )
    pipeline = Pipeline(inputs, parsers, engine)
    result = ScanResult()
    total = sum(path.stat().st_size for path in input_files(inputs))
    bar = tqdm(total=total, unit="B", unit_scale=True, desc="scan", disable=not progress, mininterval=0.5)
    with throughput() as tuned, bar:  # the collector tuned as in the daemon (service/tuning.py)
        for batch in event_batches(pipeline, inputs, settings, first_event_time(parsers), result):
            result.events += len(batch)
            with tuned.batch():
                result.alerts.extend(engine.process(batch))
            bar.update(min(sum(e.raw.end - e.raw.offset for e in batch), max(0, total - bar.n)))
        with tuned.batch():
            result.alerts.extend(engine.flush())
        bar.update(max(0, total - bar.n))
    return result


def event_batches(
    pipeline: Pipeline,
    inputs: Sequence[InputConfig],
    settings: PipelineConfig,
    first_time: FirstTime,
    result: ScanResult,
) -> Iterator[list[AccessEvent]]:
    """The inputs' parsed events in event-time order across every rotation chain, in batches of
    `batch_max_records`; records and dead letters are counted on `result` as they are read."""
    streams = [_parsed(pipeline, chain, settings, first_time, result) for chain in chains(inputs, settings)]
    merged = heapq.merge(*streams, key=event_order)
    while batch := list(islice(merged, settings.batch_max_records)):
        yield batch


def chains(inputs: Sequence[InputConfig], settings: PipelineConfig) -> list[InputConfig]:
    """One input per rotation chain of the files the inputs match now (each read oldest first)."""
    grouped: dict[tuple[str, str], list[str]] = {}
    by_name = {i.name: i for i in inputs}
    for path, cfg in discovery.expand(inputs, set()):
        grouped.setdefault((cfg.name, rotation_of(path).chain), []).append(path)
    return [
        replace(by_name[name], paths=tuple(glob.escape(p) for p in paths), exclude=())
        for (name, _chain), paths in grouped.items()
    ]


def _parsed(
    pipeline: Pipeline,
    chain: InputConfig,
    settings: PipelineConfig,
    first_time: FirstTime,
    result: ScanResult,
) -> Iterator[AccessEvent]:
    """The chain's events, batch by batch (each batch in event-time order); dead letters and record
    counts go to `result` as they are read."""
    for raws in read_records([chain], settings.batch_max_records, settings.batch_max_bytes, first_time):
        events, dead = pipeline.parse(raws)
        result.records += len(raws)
        result.dead.extend(dead)
        yield from events


def _inputs_for(
    files: Sequence[Path], configured: Sequence[InputConfig], parser_name: str | None, config_file: str
) -> list[InputConfig]:
    """Inputs reading exactly `files`: each file goes to the first configured input whose glob
    matches it, comparing both with symbolic links resolved (a data directory may be a symlink)."""
    if parser_name is not None:
        return [
            InputConfig(
                name=parser_name,
                paths=_literal_globs(files),
                exclude=(),
                parser=parser_name,
                read_gz=any(f.name.endswith(".gz") for f in files),
            )
        ]
    grouped: dict[str, list[Path]] = {}
    by_name = {i.name: i for i in configured}
    for file in files:
        candidates = {os.path.abspath(file), str(file.resolve())}
        owner = next(
            (
                i
                for i in configured
                if any(fnmatch.fnmatchcase(c, g) for g in _resolved_globs(i.paths) for c in candidates)
            ),
            None,
        )
        if owner is None:
            raise ConfigError.single(
                config_file, None, "inputs", f"no input's paths match {file}; name a parser with --parser"
            )
        grouped.setdefault(owner.name, []).append(file)
    return [
        replace(
            by_name[name],
            paths=_literal_globs(paths),
            exclude=(),
            read_gz=by_name[name].read_gz or any(p.name.endswith(".gz") for p in paths),
        )
        for name, paths in grouped.items()
    ]


def _resolved_globs(patterns: Iterable[str]) -> list[str]:
    """Each glob as written and with the symbolic links in its literal leading directories resolved
    (the same resolution file arguments get)."""
    out: list[str] = []
    for pattern in patterns:
        out.append(pattern)
        parts = Path(pattern).parts
        literal = 0
        while literal < len(parts) - 1 and not glob.has_magic(parts[literal]):
            literal += 1
        if literal:
            head = os.path.realpath(os.path.join(*parts[:literal]))
            resolved = os.path.join(glob.escape(head), *parts[literal:])
            if resolved != pattern:
                out.append(resolved)
    return out


def _literal_globs(files: Iterable[Path]) -> tuple[str, ...]:
    return tuple(glob.escape(str(f.resolve())) for f in files)


# -- output ---------------------------------------------------------------------------------------


def print_alerts(alerts: Sequence[Alert], fmt: str, out: TextIO) -> None:
    if fmt == "jsonl":
        for alert in alerts:
            doc = {"_id": alert.id, **alert.fields}
            out.write(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS).decode() + "\n")
        return
    print_summaries([summary_of(a) for a in alerts], out)


def print_alert_documents(docs: Sequence[Mapping[str, object]], fmt: str, out: TextIO) -> None:
    """Alert documents as JSON lines or a table; `_id` (the alert id, as in Elasticsearch) comes first."""
    if fmt == "jsonl":
        for doc in docs:
            out.write(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS).decode() + "\n")
        return
    print_summaries([AlertSummary.from_document(str(doc.get("_id") or ""), doc) for doc in docs], out)


def print_summaries(summaries: Sequence[AlertSummary], out: TextIO) -> None:
    rows = [(s.id, s.timestamp[:19], s.severity, s.rule_id, s.user_id, s.why) for s in summaries]
    headers = ("alert id", "time (UTC)", "severity", "rule", "user", "why")
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers[:-1])]
    line = "  ".join(h.ljust(w) for h, w in zip(headers[:-1], widths, strict=True)) + "  " + headers[-1]
    out.write(line + "\n")
    for row in rows:
        out.write(
            "  ".join(c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1] + "\n"
        )


def inputs_for(
    files: Sequence[Path], configured: Sequence[InputConfig], parser_name: str | None, config_file: str
) -> list[InputConfig]:
    """One input per configured input owning some of `files` (or one for `parser_name`), reading only them."""
    return _inputs_for(files, configured, parser_name, config_file)


def input_files(inputs: Sequence[InputConfig]) -> list[Path]:
    """The files the inputs' globs match now."""
    return [Path(path) for path, _cfg in discovery.expand(inputs, set())]
