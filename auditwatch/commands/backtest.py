"""`auditwatch rules backtest`: what a new or changed rule would have raised over indexed history.

Events are read back from the events indices in time order (search_after, no scroll state) and run
through a fresh engine holding only that rule, with the current reference data. Nothing is written.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from auditwatch.config.daemon import DaemonConfig, load_config
from auditwatch.config.spec import parse_duration
from auditwatch.detection import DetectionEngine, RuleSet, load_ruleset
from auditwatch.errors import UNKNOWN_NAME, ConfigError
from auditwatch.indexing import make_client
from auditwatch.indexing.document import EVENT_SORT, event_from_hit
from auditwatch.model import AccessEvent, Alert, summary_of
from auditwatch.reference import load_reference
from auditwatch.schema import IndexNames
from auditwatch.service.tuning import throughput

PAGE = 5000


@dataclass
class BacktestReport:
    rule_id: str
    since: str
    events: int = 0
    alerts: list[Alert] = field(default_factory=list)
    samples: int = 5

    def render(self) -> str:
        summaries = [summary_of(a) for a in self.alerts]
        per_day = Counter(s.timestamp[:10] for s in summaries)
        lines = [
            f"rule {self.rule_id}: {len(self.alerts)} alert(s) over {self.events} event(s)"
            f" in the last {self.since}",
        ]
        if self.events:
            lines.append(f"  {len(self.alerts) * 10000 / self.events:.2f} alerts per 10,000 events")
        for day, count in sorted(per_day.items()):
            lines.append(f"  {day}: {count}")
        for s in summaries[: self.samples]:
            lines.append(f"  sample {s.id} {s.timestamp} {s.severity} {s.user_id or '-'}: {s.why}")
        return "\n".join(lines)


def backtest_rule(config_path: Path, rule: str, *, since: str = "30d", samples: int = 5) -> BacktestReport:
    config = load_config(config_path)
    ruleset = _load_rule(config, rule)
    rule_id = next(iter(ruleset)).id
    reference, _warnings = load_reference(config.reference)
    settings = config.pipeline
    engine = DetectionEngine(
        ruleset, reference, lateness=settings.lateness, max_held=settings.reorder_max_events
    )
    client = make_client(config.elasticsearch)
    report = BacktestReport(rule_id, since, samples=samples)
    start = time.time() - parse_duration(since)
    with throughput() as tuned:  # the collector tuned as in the daemon (service/tuning.py)
        for page in _history(client, IndexNames(config.elasticsearch.index_prefix), start):
            report.events += len(page)
            with tuned.batch():
                report.alerts.extend(engine.process(page))
        with tuned.batch():
            report.alerts.extend(engine.flush())
    return report


def _load_rule(config: DaemonConfig, rule: str) -> RuleSet:
    lists_dir = config.lists_dir or config.rules_dir / "lists"
    path = Path(rule)
    if path.suffix in (".yml", ".yaml") and path.is_file():
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copy(path, Path(tmp) / path.name)
            return load_ruleset(Path(tmp), lists_dir)
    rules = load_ruleset(config.rules_dir, config.lists_dir)
    if rules.get(rule) is None:
        known = ", ".join(sorted(r.id for r in rules))
        raise ConfigError.single(
            str(config.rules_dir), None, "rule", f"no rule '{rule}' (have: {known})", code=UNKNOWN_NAME
        )
    return rules.only(rule)


def _history(client: Elasticsearch, names: IndexNames, start: float) -> Iterator[list[AccessEvent]]:
    after: list[Any] | None = None
    query = {"range": {"@timestamp": {"gte": int(start * 1000), "format": "epoch_millis"}}}
    while True:
        resp = client.search(
            index=names.events_pattern,
            query=query,
            size=PAGE,
            sort=list(EVENT_SORT),
            search_after=after,
            ignore_unavailable=True,
            allow_no_indices=True,
        )
        hits = resp["hits"]["hits"]
        if not hits:
            return
        yield [event_from_hit(h) for h in hits]
        after = hits[-1]["sort"]
