"""Silent sources: an input that has written nothing for longer than it should is itself an alert.

Someone who wants to hide their lookups may stop the audit log; an application upgrade may break its
logging. The main loop notes which inputs delivered records (`SourceActivity.saw`, once per batch);
`SilenceWatch.check`, run on a schedule with an injected clock, raises one alert per silence and logs
when the source comes back.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from auditwatch.model import Alert
from auditwatch.sources.config import InputConfig
from auditwatch.timefmt import iso_utc

log = structlog.get_logger(__name__)

RULE_ID = "source-silent"
SEVERITY = "high"
RISK_SCORE = 60


class SourceActivity:
    """When each input last delivered a record (wall clock); written by the main thread only."""

    def __init__(self, inputs: Iterable[str], clock: Callable[[], float] = time.time) -> None:
        now = clock()
        self._clock = clock
        self.last: dict[str, float] = dict.fromkeys(inputs, now)  # start counts as activity

    def saw(self, sources: Iterable[str]) -> None:
        now = self._clock()
        for source in sources:
            self.last[source] = now


@dataclass(frozen=True, slots=True)
class _Silence:
    since: float
    alert_id: str


class SilenceWatch:
    """Turns `SourceActivity` into one alert per silence of an input that has `silent_after` set."""

    def __init__(
        self,
        inputs: Sequence[InputConfig],
        activity: SourceActivity,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._limits = {i.name: i.silent_after for i in inputs if i.silent_after is not None}
        self._activity = activity
        self._clock = clock
        self._silent: dict[str, _Silence] = {}

    @property
    def watched(self) -> bool:
        return bool(self._limits)

    def silent_inputs(self) -> list[str]:
        return sorted(self._silent)

    def check(self) -> list[Alert]:
        now = self._clock()
        alerts: list[Alert] = []
        for name, limit in self._limits.items():
            last = self._activity.last.get(name, now)
            quiet = now - last
            current = self._silent.get(name)
            if current is not None and last > current.since:
                log.info("source_resumed", input=name, silent_s=round(last - current.since))
                del self._silent[name]
                current = None
            if quiet < limit or current is not None:
                continue
            alert = silence_alert(name, last, now, limit)
            self._silent[name] = _Silence(last, alert.id)
            log.warning("source_silent", input=name, silent_s=round(quiet), expected_within_s=limit)
            alerts.append(alert)
        return alerts


def silence_alert(source: str, last: float, now: float, limit: float) -> Alert:
    """The alert for one silence: its id depends on the input and when it went quiet, so never twice."""
    digest = hashlib.sha1(f"{RULE_ID}\0{source}\0{last:.3f}".encode()).digest()
    alert_id = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    since = iso_utc(last)
    doc: dict[str, Any] = {
        "@timestamp": iso_utc(now),
        "event": {"kind": "alert", "severity": 3, "risk_score": RISK_SCORE, "category": ["database"]},
        "rule": {
            "id": RULE_ID,
            "name": "An audit source went silent",
            "description": "An input wrote no record for longer than its configured silent_after.",
            "ruleset": "auditwatch",
            "category": "source health",
        },
        "tags": ["source-health", "tampering"],
        "auditwatch": {
            "alert": {
                "kind": "silence",
                "severity_label": SEVERITY,
                "reasons": [
                    f"input '{source}' has written nothing since {since} "
                    f"({round((now - last) / 60)} min; expected a record at least every "
                    f"{round(limit / 60, 1)} min)"
                ],
                "group": f"source:{source}",
                "group_key": [source],
                "window": {"start": since, "end": iso_utc(now)},
                "triage_guide": "Ask the system's owner whether the audit log was stopped, moved or "
                "broken by a change; an unexplained stop is itself a matter for professional standards.",
                "evidence": [],
                "explanations_tried": [],
            },
            "triage": {"status": "new", "assignee": None, "notes": [], "history": []},
        },
        "service": {"name": source},
    }
    return Alert(alert_id, now, RULE_ID, doc)
