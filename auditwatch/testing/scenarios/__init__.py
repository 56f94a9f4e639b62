"""A synthetic police force for tests, the demo and benchmarks: audit logs, reference exports, truth.

    from auditwatch.testing.scenarios import generate, write_config
    scenario_set = generate(tmp_path, scale="test")        # logs/, exports/, truth.jsonl, template
    config_path = write_config(tmp_path, "http://127.0.0.1:9200", tmp_path / "state")

    second = generate(tmp_path / "f2", scale="test", force=2)  # a force shaped unlike the first
    config_path = write_second_config(tmp_path / "f2", "http://127.0.0.1:9200", tmp_path / "f2" / "state")

Deterministic: the same arguments give byte-identical files. Every DOMAIN.md scenario is injected
(`SCENARIOS`, scenario -> rule id) with benign look-alikes that must not alert (or, for a declared
associate on an assigned case, must alert at a lower severity). `truth.jsonl` holds one JSON object per
line: ``kind`` is ``incident``, ``lookalike``, ``malformed`` or (last line) ``summary``; incidents and
look-alikes list their evidence lines as ``[file relative to OUT_DIR, byte offset]`` (in a rotated
``.gz`` file, the offset in its decompressed bytes, as the tailer reports it).
`auditwatch.testing.scenarios.score.score` matches alerts with truth through those lines.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

from auditwatch.testing.scenarios._background import background
from auditwatch.testing.scenarios._config import (
    CONFIG_NAME,
    TEMPLATE_NAME,
    render,
    write_config,
    write_template,
)
from auditwatch.testing.scenarios._config2 import write_config as write_second_config
from auditwatch.testing.scenarios._exports import EXPORT_FILES, write_exports
from auditwatch.testing.scenarios._force import Force, build_force
from auditwatch.testing.scenarios._formats import LOG_FILES, Malformed, write_logs
from auditwatch.testing.scenarios._model import CASE_WORKER_KINDS, TruthEntry
from auditwatch.testing.scenarios._scenarios import BUILDERS, SCENARIOS, Injector

__all__ = [
    "CONFIG_NAME",
    "DEFAULT_START",
    "EXPORT_FILES",
    "LOG_FILES",
    "PRESETS",
    "SCENARIOS",
    "TEMPLATE_NAME",
    "Preset",
    "ScenarioSet",
    "generate",
    "load_truth",
    "render",
    "write_config",
    "write_second_config",
]

TRUTH_NAME: Final = "truth.jsonl"


@dataclass(frozen=True, slots=True)
class Preset:
    """Size of a generated force."""

    staff: int
    days: int
    events_per_day: int  # benign background accesses per day, roughly
    incidents_per_scenario: int
    lookalikes_per_variant: int
    people_per_staff: int = 12


PRESETS: Final[dict[str, Preset]] = {
    "demo": Preset(
        staff=60,
        days=10,
        events_per_day=200,
        incidents_per_scenario=3,
        lookalikes_per_variant=2,
        people_per_staff=10,
    ),
    "test": Preset(
        staff=300, days=21, events_per_day=1400, incidents_per_scenario=12, lookalikes_per_variant=6
    ),
    "large": Preset(
        staff=1500, days=35, events_per_day=10000, incidents_per_scenario=40, lookalikes_per_variant=15
    ),
}
DEFAULT_START: Final = date(2026, 10, 12)  # a Monday; the clocks go back on Sunday 25 October 2026


@dataclass(frozen=True, slots=True)
class ScenarioSet:
    """What `generate` wrote and what it contains."""

    root: Path
    logs: dict[str, Path]  # parser name -> log file
    exports: dict[str, Path]  # reference kind -> export file
    template: Path  # auditwatch.yml.template ({es_url}, {state_dir} placeholders)
    truth: Path  # truth.jsonl
    events: int  # access lines written (malformed lines not included)
    events_by_format: dict[str, int]
    incidents: int
    lookalikes: int
    malformed: int  # lines that must become dead letters (the CSV header is skipped, not one of them)
    start: date
    days: int
    summary: dict[str, Any]


def generate(
    out_dir: Path,
    *,
    seed: int = 7,
    scale: str = "test",
    staff: int | None = None,
    days: int | None = None,
    events_per_day: int | None = None,
    incidents_per_scenario: int | None = None,
    start: date | None = None,
    force: int = 1,
) -> ScenarioSet:
    """Generate a force into `out_dir` (created if needed); explicit sizes override the preset `scale`.

    `force` 1 is the first synthetic force (the shipped parsers' formats); `force` 2 is shaped
    differently (its own parser files, exports and timings, see `_second`)."""
    if force == 2:
        # imported here: _second builds on this module (ScenarioSet, write_truth)
        from auditwatch.testing.scenarios._second import START, generate_second  # noqa: PLC0415

        return generate_second(
            out_dir,
            seed=seed,
            scale=scale,
            staff=staff,
            days=days,
            events_per_day=events_per_day,
            incidents_per_scenario=incidents_per_scenario,
            start=start or START,
        )
    if force != 1:
        raise ValueError(f"force must be 1 or 2, not {force}")
    start = start or DEFAULT_START
    preset = PRESETS[scale]
    staff_count = staff if staff is not None else preset.staff
    n_days = days if days is not None else preset.days
    per_day = (
        events_per_day if events_per_day is not None else preset.events_per_day * staff_count // preset.staff
    )
    per_scenario = (
        incidents_per_scenario if incidents_per_scenario is not None else preset.incidents_per_scenario
    )
    if n_days < 7:
        raise ValueError("days must be at least 7 (repeat-subject and status-change scenarios need room)")
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)

    built = build_force(
        rng, start=start, days=n_days, staff_count=staff_count, people_per_staff=preset.people_per_staff
    )
    injector = Injector(rng, built, per_scenario, preset.lookalikes_per_variant)
    injector.prepare(BUILDERS)
    per_shift = _per_shift(built, per_day)
    accesses = injector.inject(background(rng, built, per_shift=per_shift, skip=set()))
    positions, malformed, counts = write_logs(rng, out_dir, accesses)
    exports = write_exports(rng, built, out_dir)
    template = write_template(out_dir)

    entries = [e for e in injector.truth if e.id in positions]
    for entry in entries:
        entry.lines = positions[entry.id]
    silent = {e.id for e in entries if e.kind == "lookalike" and e.expect == "silent"}
    benign = [a for a in accesses if a.label is None or a.label in silent]
    explained = Counter(a.explained_by.split(":")[0] for a in benign if a.explained_by)
    summary: dict[str, object] = {
        "kind": "summary",
        "seed": seed,
        "scale": scale,
        "start": start.isoformat(),
        "days": n_days,
        "staff": staff_count,
        "events": len(accesses),
        "events_by_format": counts,
        "incidents_by_scenario": dict(Counter(e.scenario for e in entries if e.kind == "incident")),
        "lookalikes_by_variant": dict(
            Counter(f"{e.scenario}/{e.variant}" for e in entries if e.kind == "lookalike")
        ),
        "lookalike_events": sum(len(e.lines) for e in entries if e.kind == "lookalike"),
        "incident_events": sum(len(e.lines) for e in entries if e.kind == "incident"),
        "benign_events": len(benign),
        "benign_explained_by_assignment": explained.get("assignment", 0),
        "benign_explained_by_role": explained.get("role", 0),
        "malformed_lines": len(malformed),
        "rule_ids": sorted(set(SCENARIOS.values())),
    }
    truth_path = write_truth(out_dir, entries, malformed, summary)
    return ScenarioSet(
        root=out_dir,
        logs={fmt: out_dir / rel for fmt, rel in LOG_FILES.items()},
        exports=exports,
        template=template,
        truth=truth_path,
        events=len(accesses),
        events_by_format=counts,
        incidents=sum(1 for e in entries if e.kind == "incident"),
        lookalikes=sum(1 for e in entries if e.kind == "lookalike"),
        malformed=len(malformed),
        start=start,
        days=n_days,
        summary=summary,
    )


def write_truth(
    out_dir: Path,
    entries: list[TruthEntry],
    malformed: list[tuple[Malformed, str, int]],
    summary: dict[str, object],
) -> Path:
    """Write truth.jsonl: incidents and look-alikes, malformed lines, the summary last."""
    truth_path = out_dir / TRUTH_NAME
    with truth_path.open("w", encoding="utf-8") as fh:
        for entry in entries:
            fh.write(json.dumps(_entry_json(entry), ensure_ascii=False) + "\n")
        for bad, rel, offset in malformed:
            fh.write(
                json.dumps(
                    {
                        "kind": "malformed",
                        "format": bad.fmt,
                        "file": rel,
                        "offset": offset,
                        "reason": bad.reason,
                    }
                )
                + "\n"
            )
        fh.write(json.dumps(summary) + "\n")
    return truth_path


def _per_shift(force: Force, per_day: int) -> float:
    """Mean accesses per case-worker shift that give about `per_day` background accesses a day."""
    shifts = sum(
        1
        for s in force.staff
        if s.kind in CASE_WORKER_KINDS
        for sh in force.shifts[s.number]
        if force.start <= sh.day <= force.end
    )
    return max(2.0, per_day * 0.9 * force.days / max(shifts, 1))


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _entry_json(e: TruthEntry) -> dict[str, object]:
    out: dict[str, object] = {
        "kind": e.kind,
        "id": e.id,
        "scenario": e.scenario,
        "variant": e.variant,
        "users": e.users,
        "subject": e.subject,
        "record": e.record,
        "start": _iso(e.start),
        "end": _iso(e.end),
        "formats": sorted(e.formats),
        "events": len(e.lines),
        "lines": [list(x) for x in e.lines],
    }
    if e.kind == "incident":
        out.update(expected_rules=e.expected_rules, also_rules=e.also_rules)
    else:
        out.update(
            expect=e.expect,
            must_not_fire=e.must_not_fire,
            expected_rules=e.expected_rules,
            severity_below=e.severity_below,
        )
    return out


def load_truth(path: Path) -> list[dict[str, Any]]:
    """The entries of a truth file (the summary line included, last)."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
