"""Score alerts against a generated truth file: recall per scenario, false alerts, look-alike checks.

An alert is tied to a truth entry through its evidence (file and byte offset of the raw lines),
never through names or times, so an alert counts only for the accesses it actually points at:

- an incident is *detected* when an alert of one of its `expected_rules` has evidence among its lines
  (recall by the rule meant for it); beside it, `any_recall` counts an incident with *some* alert on
  its lines, whatever the rule (what a reviewer would see, not what the rule pack promises);
- an alert is *attributed* when some incident lists its rule (expected or also) and shares a line
  with it, or when it is the expected lower-severity alert of a look-alike; otherwise it is *false*;
- a silent look-alike is *violated* by any alert of a rule in its `must_not_fire` on its lines;
  a lower-severity look-alike must have an alert of its rule, below the rule's own severity.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from auditwatch.model import Alert

_SEVERITIES: Final = ("low", "medium", "high", "critical")
Line = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Score:
    """How a rule set did on one generated data set."""

    recall: dict[str, float]  # scenario -> detected incidents / incidents
    incidents: dict[str, int]
    missed: dict[str, list[str]]  # scenario -> ids of missed incidents
    alerts: int
    false_alerts: list[Alert]
    events: int
    lookalike_violations: list[str]  # "lal-0001 (colleague_lookup/...): rule-id"
    lookalikes_checked: int
    alerts_by_rule: dict[str, int] = field(default_factory=dict)
    any_recall: dict[str, float] = field(default_factory=dict)  # scenario -> incidents with any alert
    rule_of: dict[str, str] = field(default_factory=dict)  # scenario -> the rule meant for it
    # scenario -> rules that alerted on its *missed* incidents (what caught them instead), with counts
    instead: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def false_per_10k(self) -> float:
        return 10_000 * len(self.false_alerts) / max(self.events, 1)

    def table(self, title: str = "") -> str:
        """The per-rule table: recall by the rule meant for each scenario, and beside it the recall
        of any alert on the incident's lines; then false alerts and look-alike violations."""
        head = (
            f"{'scenario':<20} {'rule':<20} {'n':>3} {'rule recall':>11} {'any alert':>9}  "
            "missed ones alerted by"
        )
        lines = [title, head] if title else [head]
        for scenario in sorted(self.recall):
            instead = ", ".join(f"{r} {n}" for r, n in sorted(self.instead.get(scenario, {}).items()))
            missed = len(self.missed.get(scenario, []))
            lines.append(
                f"{scenario:<20} {self.rule_of.get(scenario, '?'):<20} {self.incidents[scenario]:>3} "
                f"{self.recall[scenario]:>11.2f} {self.any_recall.get(scenario, 0.0):>9.2f}  "
                + (f"{instead or 'nothing'} ({missed} missed)" if missed else "")
            )
        false = Counter(a.rule_id for a in self.false_alerts)
        lines.append(
            f"alerts {self.alerts}; false {len(self.false_alerts)} over {self.events} events = "
            f"{self.false_per_10k:.2f} per 10k {dict(sorted(false.items()))}; look-alikes checked "
            f"{self.lookalikes_checked}, violated {len(self.lookalike_violations)}"
        )
        lines.extend(f"  violation: {v}" for v in self.lookalike_violations[:30])
        return "\n".join(lines)

    def report(self) -> str:
        """A plain-text table for test output and the demo."""
        lines = [f"{'scenario':<22} {'recall':>7} {'incidents':>9}"]
        for scenario in sorted(self.recall):
            lines.append(f"{scenario:<22} {self.recall[scenario]:>7.2f} {self.incidents[scenario]:>9}")
        lines.append(
            f"alerts {self.alerts}, false {len(self.false_alerts)} over {self.events} events "
            f"({self.false_per_10k:.2f} per 10k); look-alikes checked {self.lookalikes_checked}, "
            f"violated {len(self.lookalike_violations)}"
        )
        return "\n".join(lines)


def _lines(entry: Mapping[str, Any]) -> set[Line]:
    return {(str(f), int(o)) for f, o in entry.get("lines", [])}


def _severity(alert: Alert) -> str:
    return str(alert.fields["auditwatch"]["alert"]["severity_label"])  # type: ignore[index]


def evidence_lines(alert: Alert, root: Path) -> set[Line]:
    """The (file relative to `root`, offset) of every evidence line of an alert."""
    base = root.resolve()
    out: set[Line] = set()
    for item in alert.fields["auditwatch"]["alert"]["evidence"]:  # type: ignore[index]
        path = Path(str(item["file"]))
        try:
            rel = path.resolve().relative_to(base).as_posix()
        except ValueError:
            rel = path.as_posix()
        out.add((rel, int(item["offset"])))
    return out


def score(
    alerts: Sequence[Alert],
    truth: Iterable[Mapping[str, Any]],
    root: Path,
    *,
    events: int,
    rule_severity: Mapping[str, str],
) -> Score:
    """Match `alerts` with the truth entries of the data set generated into `root`."""
    entries = [e for e in truth if e.get("kind") in ("incident", "lookalike")]
    incidents = [e for e in entries if e["kind"] == "incident"]
    lookalikes = [e for e in entries if e["kind"] == "lookalike"]
    owner: dict[Line, list[Mapping[str, Any]]] = defaultdict(list)
    for entry in entries:
        for line in _lines(entry):
            owner[line].append(entry)

    hits: dict[str, list[Alert]] = defaultdict(list)  # entry id -> alerts on its lines
    false: list[Alert] = []
    for alert in alerts:
        attributed = False
        for line in evidence_lines(alert, root):
            for entry in owner.get(line, ()):
                hits[str(entry["id"])].append(alert)
                if entry["kind"] == "incident":
                    allowed = set(entry["expected_rules"]) | set(entry.get("also_rules", []))
                else:
                    allowed = (
                        set(entry["expected_rules"]) if entry.get("expect") == "lower_severity" else set()
                    )
                attributed = attributed or alert.rule_id in allowed
        if not attributed:
            false.append(alert)

    detected: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    missed: dict[str, list[str]] = defaultdict(list)
    instead: dict[str, Counter[str]] = defaultdict(Counter)
    rule_of: dict[str, str] = {}
    totals: Counter[str] = Counter(str(e["scenario"]) for e in incidents)
    for entry in incidents:
        scenario = str(entry["scenario"])
        expected = set(entry["expected_rules"])
        rule_of.setdefault(scenario, "/".join(sorted(expected)))
        found = hits.get(str(entry["id"]), [])
        if found:
            seen[scenario] += 1
        if any(a.rule_id in expected for a in found):
            detected[scenario] += 1
        else:
            missed[scenario].append(str(entry["id"]))
            instead[scenario].update({a.rule_id for a in found})

    violations: list[str] = []
    for entry in lookalikes:
        label = f"{entry['id']} ({entry['scenario']}/{entry['variant']})"
        found = hits.get(str(entry["id"]), [])
        if entry.get("expect") == "lower_severity":
            rule = str(entry["severity_below"])
            base = _SEVERITIES.index(rule_severity[rule])
            mine = [a for a in found if a.rule_id == rule]
            if not mine:
                violations.append(f"{label}: no {rule} alert")
            violations.extend(
                f"{label}: {rule} at {_severity(a)}, not below {rule_severity[rule]}"
                for a in mine
                if _SEVERITIES.index(_severity(a)) >= base
            )
        else:
            banned = set(entry.get("must_not_fire", []))
            violations.extend(f"{label}: {a.rule_id}" for a in found if a.rule_id in banned)

    return Score(
        recall={s: detected[s] / n for s, n in totals.items()},
        incidents=dict(totals),
        missed=dict(missed),
        alerts=len(alerts),
        false_alerts=false,
        events=events,
        lookalike_violations=violations,
        lookalikes_checked=len(lookalikes),
        alerts_by_rule=dict(Counter(a.rule_id for a in alerts)),
        any_recall={s: seen[s] / n for s, n in totals.items()},
        rule_of=rule_of,
        instead={s: dict(c) for s, c in instead.items()},
    )
