"""The daemon's scheduled jobs on one apscheduler: each runs alone, late runs collapse into one.

The daemon hands in what the jobs need from it as callables (`Hooks`), so this module knows nothing
of threads, queues or the tailer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from elasticsearch import ApiError, TransportError

from auditwatch import __version__
from auditwatch.config.daemon import DaemonConfig
from auditwatch.indexing import make_client
from auditwatch.jobs.digest import open_alerts_digest
from auditwatch.jobs.heartbeat import HeartbeatWriter, heartbeat_document
from auditwatch.jobs.retention import apply_retention
from auditwatch.jobs.silence import SilenceWatch, SourceActivity
from auditwatch.model import Alert
from auditwatch.schema import IndexNames
from auditwatch.triage.risk import update_risk

log = structlog.get_logger(__name__)

Counts = dict[str, int | float | list[str]]
FINAL_HEARTBEAT_TIMEOUT = 2.0  # seconds of the daemon's stop timeout kept for the heartbeat at stop


@dataclass(frozen=True, slots=True)
class Hooks:
    counts: Callable[[], Counts]  # the daemon's counters and gauges, for the heartbeat
    deliver_alerts: Callable[[Sequence[Alert]], None]  # hand alerts to the delivery queue
    reference: Callable[[], list[dict[str, object]]]  # each export's state, for the heartbeat log


@contextmanager
def scheduled_jobs(
    config: DaemonConfig, names: IndexNames, activity: SourceActivity, hooks: Hooks
) -> Iterator[None]:
    p, jobs = config.pipeline, config.jobs
    zone = config.reference.timezone
    scheduler = BackgroundScheduler(
        daemon=True,
        timezone=zone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
    )
    client = make_client(config.elasticsearch)
    heartbeats = HeartbeatWriter(client, names) if jobs.heartbeat_index else None
    silence = SilenceWatch(config.inputs, activity)

    def heartbeat() -> None:
        counts = hooks.counts()
        log.info("heartbeat", **counts, reference=hooks.reference())
        if heartbeats is not None:
            heartbeats.write(
                heartbeat_document(
                    time.time(), __version__, {**counts, "silent_inputs": silence.silent_inputs()}
                )
            )

    def silent_sources() -> None:
        alerts = silence.check()
        if alerts:
            hooks.deliver_alerts(alerts)

    scheduler.add_job(heartbeat, "interval", seconds=p.heartbeat_interval, id="heartbeat")
    if silence.watched:
        scheduler.add_job(
            silent_sources, "interval", seconds=jobs.silence_check_interval, id="silent-sources"
        )
    if jobs.digest_at is not None:
        scheduler.add_job(
            _logged("digest", open_alerts_digest, client, names),
            "cron",
            hour=jobs.digest_at[0],
            minute=jobs.digest_at[1],
            id="digest",
            misfire_grace_time=3600,
        )
    if jobs.retention is not None:
        keep = jobs.retention

        def retention() -> None:  # "today" is the day the job runs, in the force's time zone
            today = datetime.now(ZoneInfo(zone)).date()
            _logged(
                "retention",
                apply_retention,
                client,
                names,
                keep.events_keep_months,
                today,
                delete=keep.delete,
            )()

        scheduler.add_job(
            retention, "cron", hour=keep.at[0], minute=keep.at[1], id="retention", misfire_grace_time=3600
        )
    if jobs.risk_every is not None:  # needs the risk_job role's privileges (deploy/elasticsearch/security)
        scheduler.add_job(
            _logged("risk", update_risk, client, names, config.risk),
            "interval",
            seconds=jobs.risk_every,
            id="risk",
        )
    scheduler.start()
    try:
        yield
    finally:
        scheduler.shutdown(wait=False)
        if heartbeats is not None:  # briefly: a hung cluster must not hold up the stop timeout
            heartbeats = HeartbeatWriter(client.options(request_timeout=FINAL_HEARTBEAT_TIMEOUT), names)
        heartbeat()  # the last word: what it stopped with
        client.close()


def _logged(name: str, job: Callable[..., object], *args: object, **kwargs: object) -> Callable[[], None]:
    """A scheduled job whose failure is logged with its cause and retried at its next run, never fatal."""

    def run() -> None:
        try:
            job(*args, **kwargs)
        except (ApiError, TransportError) as exc:
            log.error("job_failed", job=name, reason=_why(exc))
        except Exception as exc:
            log.error("job_failed", job=name, reason=f"{type(exc).__name__}: {exc}")

    return run


def _why(exc: ApiError | TransportError) -> str:
    if isinstance(exc, ApiError):
        return f"HTTP {exc.meta.status} {exc.error}"
    return str(exc.message)
