"""The daemon's configuration file: one YAML document, validated up front.

Each section is read by the package that owns it (sources, indexing, reference); this module only
composes them, resolves relative paths against the config file's directory and reports every problem
at once with file, line and field.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from auditwatch.config.bundled import Kind, bundled_dir
from auditwatch.config.spec import Reader, not_negative, positive
from auditwatch.config.yamlsource import load_yaml_file
from auditwatch.errors import DUPLICATE_NAME
from auditwatch.indexing.config import ElasticsearchConfig, read_elasticsearch_config
from auditwatch.reference.config import ReferenceConfig, read_reference_config
from auditwatch.service.metrics import LOOPBACK, MetricsConfig
from auditwatch.sources.config import InputConfig, read_input_config
from auditwatch.triage.config import read_triage_config
from auditwatch.triage.risk import RiskPolicy
from auditwatch.triage.workflow import Policy

LogFormat = Literal["json", "console"]


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    batch_max_records: int = 5000
    batch_max_bytes: int = 8 << 20
    checkpoint_interval: float = 1.0  # seconds between checkpoints (offsets + rule state together)
    # A checkpoint that wrote much state (a backlog across files holds a whole batch of events for
    # ordering, rewritten at every checkpoint) delays the next by ~1 s per MiB, up to this long.
    checkpoint_interval_max: float = 10.0
    idle_wait: float = 0.5  # longest wait for new data before looking again
    queue_batches: int = 2  # batches in flight to the indexer: bounds memory while Elasticsearch is down
    rules_poll_interval: float = 5.0
    heartbeat_interval: float = 60.0
    # SIGTERM/SIGINT: the longest the daemon takes to exit. Queued batches are delivered for up to
    # half of it; then delivery is interrupted (nothing unacknowledged is checkpointed, so a restart
    # resends it). Keep it below the service manager's limit (systemd TimeoutStopSec=30).
    stop_timeout: float = 20.0
    # Reorder bound (seconds of event time): detection waits this long for earlier events, so rules
    # see events in time order whatever order files deliver them in; also the longest an event waits.
    # 0: each batch is detected as read (sorted); a backlog across files is still aligned.
    lateness: float = 0.0
    # The most events the reorder buffer holds: past it the oldest go to detection before the
    # watermark passes them (a backlog whose lines share one time would otherwise be held whole).
    reorder_max_events: int = 20_000


@dataclass(frozen=True, slots=True)
class RetentionConfig:
    events_keep_months: int  # monthly event indices whose whole month is older are deleted
    delete: bool = False  # False: a dry run that only logs what it would delete
    at: tuple[int, int] = (3, 30)  # local time of day (reference timezone)


@dataclass(frozen=True, slots=True)
class JobsConfig:
    heartbeat_index: bool = True  # also write each heartbeat to <prefix>-health
    silence_check_interval: float = 60.0  # how often inputs' `silent_after` is checked
    digest_at: tuple[int, int] | None = (7, 0)  # local time of the open-alerts digest; None: off
    retention: RetentionConfig | None = None  # None: no retention job
    risk_every: float | None = None  # seconds between per-user risk updates (`triage.risk`); None: off


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    path: Path
    inputs: tuple[InputConfig, ...]
    parsers_dir: Path
    rules_dir: Path
    lists_dir: Path | None
    state_dir: Path
    elasticsearch: ElasticsearchConfig
    reference: ReferenceConfig
    pipeline: PipelineConfig
    log_level: str
    log_format: LogFormat
    jobs: JobsConfig = JobsConfig()
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    triage: Policy = field(default_factory=Policy)
    risk: RiskPolicy = field(default_factory=RiskPolicy)

    @property
    def checkpoint_path(self) -> Path:
        return self.state_dir / "checkpoint.sqlite"

    @property
    def spool_path(self) -> Path:
        return self.state_dir / "deadletter-spool.jsonl"


def load_config(path: str | Path) -> DaemonConfig:
    """Read and validate the daemon config; raises ConfigError listing every problem."""
    doc = load_yaml_file(path)
    base = Path(path).resolve().parent
    root = Reader(doc)

    def as_path(value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else base / p

    inputs = tuple(read_input_config(r) for r in root.sections("inputs", required=True))
    parsers_dir = root.optional("parsers_dir", str, _beside(base, "parsers"), as_path)
    rules_dir = root.optional("rules_dir", str, _beside(base, "rules"), as_path)
    lists_dir = root.optional("lists_dir", str, None, as_path)
    state_dir = root.optional("state_dir", str, Path("/var/lib/auditwatch"), as_path)
    es = read_elasticsearch_config(root.section("elasticsearch", required=True))
    reference = read_reference_config(root.section("reference"))
    pipeline = _read_pipeline(root.section("pipeline"))
    jobs = _read_jobs(root.section("jobs"))
    metrics = _read_metrics(root.section("metrics"))
    triage, risk = read_triage_config(root.section("triage"))
    logging = root.section("logging")
    level = logging.optional("level", str, "info", _log_level)
    fmt = logging.optional("format", str, "json", _log_format)
    logging.done()
    _check_inputs(root, inputs)
    root.done()
    root.raise_if_any()
    inputs = tuple(
        replace(i, paths=tuple(str(as_path(p)) for p in i.paths), exclude=tuple(i.exclude)) for i in inputs
    )
    return DaemonConfig(
        path=Path(path).resolve(),
        inputs=inputs,
        parsers_dir=parsers_dir,
        rules_dir=rules_dir,
        lists_dir=lists_dir,
        state_dir=state_dir,
        elasticsearch=es,
        reference=reference,
        pipeline=pipeline,
        log_level=level,
        log_format=fmt,
        jobs=jobs,
        metrics=metrics,
        triage=triage,
        risk=risk,
    )


def _beside(base: Path, kind: Kind) -> Path:
    """`parsers/` or `rules/` next to the config file, else the ones shipped with auditwatch."""
    here = base / kind
    return here if here.is_dir() else bundled_dir(kind)


def _read_pipeline(r: Reader) -> PipelineConfig:
    d = PipelineConfig()
    interval = r.optional("checkpoint_interval", float, d.checkpoint_interval, positive)
    longest_given = r.has("checkpoint_interval_max")
    cfg = PipelineConfig(
        batch_max_records=r.optional("batch_max_records", int, d.batch_max_records, positive),
        batch_max_bytes=r.optional("batch_max_bytes", int, d.batch_max_bytes, positive),
        checkpoint_interval=interval,
        checkpoint_interval_max=r.optional(
            "checkpoint_interval_max", float, max(d.checkpoint_interval_max, interval), positive
        ),
        idle_wait=r.optional("idle_wait", float, d.idle_wait, positive),
        queue_batches=r.optional("queue_batches", int, d.queue_batches, positive),
        rules_poll_interval=r.optional("rules_poll_interval", float, d.rules_poll_interval, positive),
        heartbeat_interval=r.optional("heartbeat_interval", float, d.heartbeat_interval, positive),
        stop_timeout=r.optional("stop_timeout", float, d.stop_timeout, positive),
        lateness=r.optional("lateness", float, d.lateness, not_negative),
        reorder_max_events=r.optional("reorder_max_events", int, d.reorder_max_events, positive),
    )
    if longest_given and cfg.checkpoint_interval_max < cfg.checkpoint_interval:
        r.problem(
            (*r.path, "checkpoint_interval_max"),
            f"must be at least checkpoint_interval ({cfg.checkpoint_interval:g})",
        )
    r.done()
    return cfg


def _read_jobs(r: Reader) -> JobsConfig:
    d = JobsConfig()
    digest: tuple[int, int] | None = d.digest_at
    if r.has("digest_at") and r.data.get("digest_at") is None:
        r.optional("digest_at", object, None)
        digest = None
    else:
        digest = r.optional("digest_at", str, d.digest_at, _time_of_day)
    retention = None
    if r.has("retention"):
        rr = r.section("retention")
        months = rr.required("events_keep_months", int, positive)
        retention = RetentionConfig(
            events_keep_months=months or 1,
            delete=rr.optional("delete", bool, False),
            at=rr.optional("at", str, (3, 30), _time_of_day),
        )
        rr.done()
    cfg = JobsConfig(
        heartbeat_index=r.optional("heartbeat_index", bool, d.heartbeat_index),
        silence_check_interval=r.optional(
            "silence_check_interval", float, d.silence_check_interval, positive
        ),
        digest_at=digest,
        retention=retention,
        risk_every=r.optional("risk_every", float, None, positive),
    )
    r.done()
    return cfg


def _read_metrics(r: Reader) -> MetricsConfig:
    cfg = MetricsConfig(
        host=r.optional("host", str, "127.0.0.1", _loopback),
        port=r.optional("port", int, None, _port),
    )
    r.done()
    return cfg


def _loopback(value: str) -> str:
    if value not in LOOPBACK:
        raise ValueError(f"must be a loopback address ({', '.join(LOOPBACK)}): scrape it from this host")
    return value


def _port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise ValueError("must be a TCP port, 1 to 65535")
    return value


def _time_of_day(value: str) -> tuple[int, int]:
    hour, sep, minute = value.partition(":")
    if not (sep and hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        raise ValueError("must be a time of day such as '07:00'")
    return int(hour), int(minute)


def _check_inputs(root: Reader, inputs: tuple[InputConfig, ...]) -> None:
    seen: set[str] = set()
    for index, item in enumerate(inputs):
        if item.name in seen:
            root.problem(("inputs", index, "name"), f"duplicate input name '{item.name}'", DUPLICATE_NAME)
        seen.add(item.name)


def _log_level(value: str) -> str:
    levels = ("debug", "info", "warning", "error")
    if value.lower() not in levels:
        raise ValueError(f"must be one of {', '.join(levels)}")
    return value.lower()


def _log_format(value: str) -> LogFormat:
    if value == "json":
        return "json"
    if value == "console":
        return "console"
    raise ValueError("must be 'json' or 'console'")
