"""Embedded mode: read files through the production tailer, parse and detect without Elasticsearch.

Files are read with the daemon's own `Tailer` (same file identities, offsets, multi-line joining and
event ids) and processed by the daemon's own `Pipeline`, so `auditwatch scan` raises the same alerts
as the daemon does for the same files.
"""

from __future__ import annotations

import fnmatch
import glob
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

import orjson

from auditwatch.config import load_config
from auditwatch.detection import DetectionEngine, load_ruleset
from auditwatch.errors import ConfigError
from auditwatch.model import (
    Alert,
    AlertSummary,
    DeadLetter,
    RawLine,
    summary_of,
)
from auditwatch.model import field_value as field_value  # noqa: PLC0414  (re-exported for callers)
from auditwatch.parsing import load_parsers
from auditwatch.parsing.normalise import iso_utc
from auditwatch.pipeline import Pipeline
from auditwatch.reference import load_reference
from auditwatch.sources import discovery
from auditwatch.sources.config import InputConfig
from auditwatch.sources.tail import Tailer

BATCH_RECORDS = 5000


class _SteppingClock:
    """A clock that jumps ahead once the files are exhausted, so pending multi-line records flush."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def read_records(inputs: Sequence[InputConfig], batch: int = BATCH_RECORDS) -> Iterator[list[RawLine]]:
    """Every complete record of the inputs' files, in the batches the daemon would read."""
    clock = _SteppingClock()
    tailer = Tailer(inputs, {}, first_start=False, clock=clock, use_watchdog=False)
    try:
        empty_rounds = 0
        while empty_rounds < 2:
            raws = tailer.read(batch)
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


def scan_files(config_path: Path, files: Sequence[Path], *, parser_name: str | None = None) -> ScanResult:
    """Parse and detect `files` with the config's parsers, rules and reference data."""
    config = load_config(config_path)
    parsers = load_parsers(config.parsers_dir)
    inputs = _inputs_for(files, config.inputs, parser_name, str(config.path))
    reference, _problems = load_reference(config.reference)
    engine = DetectionEngine(load_ruleset(config.rules_dir, config.lists_dir), reference)
    pipeline = Pipeline(inputs, parsers, engine)
    result = ScanResult()
    for raws in read_records(inputs):
        done = pipeline.process(raws)
        result.records += len(raws)
        result.events += len(done.events)
        result.dead.extend(done.dead)
        result.alerts.extend(done.alerts)
    return result


def _inputs_for(
    files: Sequence[Path], configured: Sequence[InputConfig], parser_name: str | None, config_file: str
) -> list[InputConfig]:
    if parser_name is not None:
        return [InputConfig(name=parser_name, paths=_literal_globs(files), exclude=(), parser=parser_name)]
    grouped: dict[str, list[Path]] = {}
    by_name = {i.name: i for i in configured}
    for file in files:
        absolute = str(file.resolve())
        owner = next((i for i in configured if any(fnmatch.fnmatch(absolute, g) for g in i.paths)), None)
        if owner is None:
            raise ConfigError.single(
                config_file, None, "inputs", f"no input's paths match {file}; name a parser with --parser"
            )
        grouped.setdefault(owner.name, []).append(file)
    return [
        replace(by_name[name], paths=_literal_globs(paths), exclude=()) for name, paths in grouped.items()
    ]


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
