"""`auditwatch backfill FILE…`: old or archived audit files through the daemon's own pipeline.

The files are read by the production tailer (same file identities, so the same event ids), parsed
by the daemon's parsers, detected in event-time order across files (as `scan` does: rotation chains
merged by event time) and delivered by the daemon's bulk indexer with `create`:
a second backfill of the same files adds nothing (every document answers 409), and a backfill of
files the daemon already read duplicates nothing. Progress (bytes, rate, ETA) goes to stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from tqdm import tqdm

from auditwatch.commands import EXIT_CONFIG, EXIT_FINDINGS, EXIT_OK
from auditwatch.commands.scanning import ScanResult, event_batches, input_files, inputs_for
from auditwatch.config.daemon import load_config
from auditwatch.detection import DetectionEngine, load_ruleset
from auditwatch.detection.engine import DetectionFailure
from auditwatch.indexing import BulkIndexer, ClusterNotReady, make_client, missing_parts, wrong_mappings
from auditwatch.model import DeadLetter
from auditwatch.parsing import load_parsers
from auditwatch.pipeline import Pipeline, first_event_time
from auditwatch.reference import load_reference
from auditwatch.schema import IndexNames
from auditwatch.service.tuning import throughput


@dataclass(frozen=True, slots=True)
class BackfillReport:
    records: int
    created: int  # events and alerts new to the cluster
    duplicates: int  # already there (a repeated backfill, or lines the daemon had read)
    dead_letters: int
    alerts: int


def backfill(
    config_path: Path, files: Sequence[Path], *, parser_name: str | None = None, progress: bool = True
) -> BackfillReport:
    config = load_config(config_path)
    parsers = load_parsers(config.parsers_dir)
    inputs = inputs_for(files, config.inputs, parser_name, str(config.path))
    reference, _problems = load_reference(config.reference)
    settings = config.pipeline
    engine = DetectionEngine(
        load_ruleset(config.rules_dir, config.lists_dir),
        reference,
        lateness=settings.lateness,
        max_held=settings.reorder_max_events,
    )
    pipeline = Pipeline(inputs, parsers, engine)
    names = IndexNames(config.elasticsearch.index_prefix)
    client = make_client(config.elasticsearch)
    try:
        problems = wrong_mappings(client, names) + missing_parts(client, names)
        if problems:
            raise ClusterNotReady([*problems, "run `auditwatch setup` first"])
        indexer = BulkIndexer(client, names, config.elasticsearch)
        total = sum(path.stat().st_size for path in input_files(inputs))
        created = duplicates = dead = alerts = 0
        read = ScanResult()  # counts records and collects parse dead letters as the files are read
        bar = tqdm(
            total=total, unit="B", unit_scale=True, desc="backfill", disable=not progress, mininterval=0.5
        )
        with throughput() as tuned, bar:  # the collector tuned as in the daemon (service/tuning.py)
            batches = event_batches(pipeline, inputs, settings, first_event_time(parsers), read)
            for batch in chain(batches, [None]):  # None: the end, where held events are flushed
                failures: list[DetectionFailure] = []
                with tuned.batch():
                    found = engine.process(batch, failures) if batch is not None else engine.flush(failures)
                events = batch or []
                letters = [*read.dead, *_detection_letters(failures)]
                unfit = {id(f.event) for f in failures if not f.index}
                report = indexer.deliver([e for e in events if id(e) not in unfit], letters, found)
                read.dead.clear()
                created += report.created
                duplicates += report.duplicates
                dead += report.dead_lettered
                alerts += len(found)
                bar.update(min(sum(e.raw.end - e.raw.offset for e in events), max(0, total - bar.n)))
            bar.update(max(0, total - bar.n))
        records = read.records
        return BackfillReport(records, created, duplicates, dead, alerts)
    finally:
        client.close()


def _detection_letters(failures: list[DetectionFailure]) -> list[DeadLetter]:
    letters = []
    for failure in failures:
        parser = failure.event.fields.get("auditwatch.parser")
        letters.append(
            DeadLetter(failure.event.raw, "detect", failure.reason, parser if isinstance(parser, str) else "")
        )
    return letters


def cmd_backfill(args: argparse.Namespace) -> int:
    missing = [f for f in args.files if not f.is_file()]
    if missing:
        print(f"error: not a readable file: {missing[0]}", file=sys.stderr)
        return EXIT_CONFIG
    report = backfill(
        Path(args.config),
        args.files,
        parser_name=args.parser,
        progress=not args.no_progress and sys.stderr.isatty(),
    )
    print(
        f"backfill: {report.records} records, {report.created} documents new, "
        f"{report.duplicates} already indexed, {report.dead_letters} dead letters, {report.alerts} alerts"
    )
    return EXIT_FINDINGS if report.dead_letters else EXIT_OK
