"""`auditwatch backfill FILE…`: old or archived audit files through the daemon's own pipeline.

The files are read by the production tailer (same file identities, so the same event ids), parsed
and detected by the daemon's pipeline, and delivered by the daemon's bulk indexer with `create`:
a second backfill of the same files adds nothing (every document answers 409), and a backfill of
files the daemon already read duplicates nothing. Progress (bytes, rate, ETA) goes to stderr.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from auditwatch.config import load_config
from auditwatch.detection import DetectionEngine, load_ruleset
from auditwatch.indexing import BulkIndexer, ClusterNotReady, make_client, missing_parts, wrong_mappings
from auditwatch.parsing import load_parsers
from auditwatch.pipeline import Pipeline
from auditwatch.reference import load_reference
from auditwatch.scanning import input_files, inputs_for, read_records
from auditwatch.schema import IndexNames


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
    engine = DetectionEngine(load_ruleset(config.rules_dir, config.lists_dir), reference)
    pipeline = Pipeline(inputs, parsers, engine)
    names = IndexNames(config.elasticsearch.index_prefix)
    client = make_client(config.elasticsearch)
    try:
        problems = wrong_mappings(client, names) + missing_parts(client, names)
        if problems:
            raise ClusterNotReady([*problems, "run `auditwatch setup` first"])
        indexer = BulkIndexer(client, names, config.elasticsearch)
        total = sum(path.stat().st_size for path in input_files(inputs))
        records = created = duplicates = dead = alerts = 0
        with tqdm(
            total=total, unit="B", unit_scale=True, desc="backfill", disable=not progress, mininterval=0.5
        ) as bar:
            for raws in read_records(inputs):
                done = pipeline.process(raws)
                report = indexer.deliver(done.events, done.dead, done.alerts)
                records += len(raws)
                created += report.created
                duplicates += report.duplicates
                dead += report.dead_lettered
                alerts += len(done.alerts)
                bar.update(min(sum(raw.end - raw.offset for raw in raws), max(0, total - bar.n)))
        return BackfillReport(records, created, duplicates, dead, alerts)
    finally:
        client.close()
