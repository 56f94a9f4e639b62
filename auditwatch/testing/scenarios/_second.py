"""Generate the second synthetic force: other formats, exports, roster, timings and proportions.

The first force encodes the assumptions auditwatch was developed with; this one is shaped the way
real forces differ from it (see `_formats2`, `_exports2`, `_scenarios2`): audit lines that name a
person by id only, HR without person ids, a records-system person table in upper-case ASCII,
namesakes, dated watchlist entries, rest-day roster rows, rotated and gzipped logs, 10-hour shifts,
a period across the spring clock change, and other incident sizes and paces (`SHAPE`).
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Final

from auditwatch.testing.scenarios import (
    Preset,
    ScenarioSet,
    _per_shift,
    write_truth,
)
from auditwatch.testing.scenarios import _config2 as config2
from auditwatch.testing.scenarios import _exports2 as exports2
from auditwatch.testing.scenarios import _formats2 as formats2
from auditwatch.testing.scenarios._background import background
from auditwatch.testing.scenarios._force import build_force
from auditwatch.testing.scenarios._scenarios import SCENARIOS, Injector, Shape
from auditwatch.testing.scenarios._scenarios2 import BUILDERS

PRESETS: Final[dict[str, Preset]] = {
    "demo": Preset(
        staff=80,
        days=12,
        events_per_day=260,
        incidents_per_scenario=3,
        lookalikes_per_variant=2,
        people_per_staff=9,
    ),
    "test": Preset(
        staff=260,
        days=19,
        events_per_day=1600,
        incidents_per_scenario=14,
        lookalikes_per_variant=5,
        people_per_staff=14,
    ),
    "large": Preset(
        staff=1500, days=35, events_per_day=12000, incidents_per_scenario=40, lookalikes_per_variant=15
    ),
}
# A Monday; the clocks go forward on Sunday 29 March 2026. In the past, like every real log: a scan
# stamps lines with the time it reads them and refuses events dated more than a day later.
START: Final = date(2026, 3, 16)
SHAPE: Final = Shape(
    lookup_opens=(1, 2),
    lookup_spread_minutes=45,
    bulk_size=24,
    bulk_extra=12,
    bulk_spread_minutes=(35, 55),
    repeat_days=(3, 5),
    surge_users=(7, 9),
    surge_spread_minutes=40,
    fishing_searches=(1, 3),
    ooh_hours=(0, 5, 10, 11, 17, 18, 22, 23),
    neighbour_formats=("rms_json", "custody_syslog"),  # the person table gives every id an address
)
# 24/7 teams: 10-hour shifts on a twelve-day cycle; day teams 08:30-16:30
CYCLE: Final = ("E", "E", "L", "L", "L", "N", "N", "N", "", "", "", "")
TIMES: Final = {
    "E": ("06:00", "16:00"),
    "L": ("14:00", "00:00"),
    "N": ("21:00", "07:00"),
    "D": ("08:30", "16:30"),
    "OT": ("09:00", "17:00"),
}


def generate_second(
    out_dir: Path,
    *,
    seed: int = 7,
    scale: str = "test",
    staff: int | None = None,
    days: int | None = None,
    events_per_day: int | None = None,
    incidents_per_scenario: int | None = None,
    start: date = START,
) -> ScenarioSet:
    """Generate the second force into `out_dir`: logs, exports, parser files, truth and template."""
    preset = PRESETS[scale]
    staff_count = staff if staff is not None else preset.staff
    n_days = days if days is not None else preset.days
    per_day = (
        events_per_day if events_per_day is not None else preset.events_per_day * staff_count // preset.staff
    )
    per_scenario = (
        incidents_per_scenario if incidents_per_scenario is not None else preset.incidents_per_scenario
    )
    if n_days < 10:
        raise ValueError("days must be at least 10 (dated watchlist entries need room before and after)")
    rng = random.Random(seed * 7919 + 2)
    out_dir.mkdir(parents=True, exist_ok=True)

    force = build_force(
        rng,
        start=start,
        days=n_days,
        staff_count=staff_count,
        people_per_staff=preset.people_per_staff,
        cycle=CYCLE,
        times=TIMES,
    )
    injector = Injector(rng, force, per_scenario, preset.lookalikes_per_variant, SHAPE)
    injector.prepare(BUILDERS)
    accesses = injector.inject(background(rng, force, per_shift=_per_shift(force, per_day), skip=set()))
    # cut the rotated logs inside bulk-browsing windows: a window must survive a rotation
    bulk = [e for e in injector.truth if e.kind == "incident" and e.scenario == "bulk_browsing"]
    cut_labels = {
        formats2.CHANNELS[channel]: [e.id for e in bulk if e.variant == channel]
        for channel in ("rms_json", "custody_syslog")
    }
    positions, malformed, counts, files = formats2.write_logs(rng, out_dir, accesses, cut_labels)
    exports = exports2.write_exports(rng, force, out_dir)
    config2.write_parsers(out_dir)
    template = config2.write_template(out_dir)

    entries = [e for e in injector.truth if e.id in positions]
    for entry in entries:
        entry.lines = positions[entry.id]
    spanning = sum(1 for e in bulk if e.id in positions and len({f for f, _ in positions[e.id]}) > 1)
    silent = {e.id for e in entries if e.kind == "lookalike" and e.expect == "silent"}
    benign = [a for a in accesses if a.label is None or a.label in silent]
    explained = Counter(a.explained_by.split(":")[0] for a in benign if a.explained_by)
    summary: dict[str, object] = {
        "kind": "summary",
        "force": 2,
        "seed": seed,
        "scale": scale,
        "start": start.isoformat(),
        "days": n_days,
        "staff": staff_count,
        "events": len(accesses),
        "events_by_format": counts,
        "log_files": {
            fmt: [p.relative_to(out_dir).as_posix() for p in paths] for fmt, paths in files.items()
        },
        "bulk_windows_spanning_a_rotation": spanning,
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
        "persons": len(force.persons),
        "rule_ids": sorted(set(SCENARIOS.values())),
    }
    truth_path = write_truth(out_dir, entries, malformed, summary)
    return ScenarioSet(
        root=out_dir,
        logs={fmt: out_dir / rel for fmt, rel in formats2.LOG_FILES.items()},
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
