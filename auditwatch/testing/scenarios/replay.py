"""Replay a generated force through the production path without Elasticsearch, and score it.

The real tailer reads the config's inputs (rotated and gzipped files included), the config's
parsers parse them, the reference loader reads the exports, and the detection engine runs the
config's rules over the events in event-time order; alerts are scored against the truth file.
With ``order="scan"`` the files go through `auditwatch scan`'s path instead (the daemon's pipeline,
batch by batch in the order the tailer reads the files: what a user's scan of a rotated set sees).

    from auditwatch.testing.scenarios.replay import replay
    result = replay(config_path, scenario_set)
    print(result.score.table())
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from auditwatch.commands.scanning import scan_files
from auditwatch.config.daemon import DaemonConfig, load_config
from auditwatch.detection import DetectionEngine, load_ruleset
from auditwatch.model import AccessEvent, Alert, DeadLetter, RawLine
from auditwatch.normalise import iso_utc
from auditwatch.parsing import load_parsers
from auditwatch.reference import EventView, load_reference
from auditwatch.sources.tail import Tailer
from auditwatch.testing.scenarios import ScenarioSet, load_truth
from auditwatch.testing.scenarios.score import Score, score


@dataclass(slots=True)
class Replay:
    """What one replay of a generated force produced."""

    set: ScenarioSet
    config: DaemonConfig
    score: Score
    events: list[AccessEvent] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    warnings: list[object] = field(default_factory=list)  # reference loader problems
    explained: int = 0  # accesses outside incidents explained by an assignment
    benign: int = 0  # accesses outside incidents

    def report(self, title: str) -> str:
        return "\n".join(
            [
                self.score.table(title),
                f"benign accesses explained by assignments: {self.explained}/{self.benign} "
                f"({self.explained / max(self.benign, 1):.1%}); reference warnings: {len(self.warnings)}; "
                f"dead letters: {len(self.dead)}",
                f"alerts by rule: {dict(sorted(self.score.alerts_by_rule.items()))}",
            ]
        )


def read_all(config: DaemonConfig) -> list[RawLine]:
    """Every line of every input, as the daemon's tailer reads them on a first start."""
    tailer = Tailer(config.inputs, {}, first_start=True, use_watchdog=False)
    raws: list[RawLine] = []
    try:
        while batch := tailer.read(5000):
            raws.extend(batch)
    finally:
        tailer.close()
    return raws


def replay(config_path: Path, scenario_set: ScenarioSet, *, order: str = "time") -> Replay:
    """Read, parse, enrich and detect over a generated force with the config at `config_path`.

    `order`: ``time`` sorts all events by event time before detection; ``scan`` runs
    `auditwatch.commands.scanning.scan_files` over every file the inputs match."""
    if order not in ("time", "scan"):
        raise ValueError(f"order must be 'time' or 'scan', not {order!r}")
    config = load_config(config_path)
    parsers = load_parsers(config.parsers_dir)
    snapshot, warnings = load_reference(config.reference)
    ruleset = load_ruleset(config.rules_dir, config.lists_dir)
    # received the day after the period: dates without a year resolve to the right year
    end = datetime.combine(scenario_set.start + timedelta(days=scenario_set.days), datetime.min.time(), UTC)
    ingested = iso_utc(end.timestamp())
    by_input = {i.name: parsers[i.parser] for i in config.inputs}
    grouped: dict[str, list[RawLine]] = {}
    for raw in read_all(config):
        grouped.setdefault(raw.source, []).append(raw)
    events: list[AccessEvent] = []
    dead: list[DeadLetter] = []
    for source, raws in grouped.items():
        parsed, rejected = by_input[source].parse_batch(raws, ingested)
        events.extend(parsed)
        dead.extend(rejected)
    events.sort(key=lambda e: e.timestamp)  # event-time order, as the daemon orders each batch
    alerts: list[Alert] = []
    if order == "scan":
        files = sorted({Path(e.raw.path) for e in events} | {Path(d.raw.path) for d in dead})
        alerts = scan_files(config_path, files).alerts
    else:
        engine = DetectionEngine(ruleset, snapshot)
        for start in range(0, len(events), 5000):
            alerts.extend(engine.process(events[start : start + 5000]))
    truth = load_truth(scenario_set.truth)
    severities = {rule.id: rule.severity for rule in ruleset}
    result = Replay(
        scenario_set,
        config,
        score(alerts, truth, scenario_set.root, events=len(events), rule_severity=severities),
        events,
        dead,
        alerts,
        list(warnings),
    )
    labelled = {(str(f), int(o)) for t in truth if t["kind"] == "incident" for f, o in t["lines"]}
    base = scenario_set.root.resolve()
    for event in events:
        if (Path(event.raw.path).resolve().relative_to(base).as_posix(), event.raw.offset) in labelled:
            continue
        result.benign += 1
        view = EventView(snapshot, event.fields, event.timestamp)
        if view.match("assigned_to_linked_case") or view.match("assigned_to_case_ref"):
            result.explained += 1
    return result
