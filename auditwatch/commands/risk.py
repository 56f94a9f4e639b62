"""`auditwatch risk update`: recompute the per-user rolling risk from recent alerts."""

from __future__ import annotations

import argparse

from auditwatch.commands import EXIT_OK


def cmd_update(args: argparse.Namespace) -> int:
    from auditwatch.config.daemon import load_config
    from auditwatch.indexing import make_client
    from auditwatch.schema import IndexNames
    from auditwatch.triage.risk import update_risk

    config = load_config(args.config)
    names = IndexNames(config.elasticsearch.index_prefix)
    above = update_risk(make_client(config.elasticsearch), names, config.risk)
    print(f"{len(above)} member(s) of staff at or above risk {config.risk.threshold}:")
    for risk in above:
        top = ", ".join(sorted(risk.rules, key=lambda r: -risk.rules[r])[:3])
        print(f"  {risk.user_id:<12} {risk.score:7.0f}  {risk.alerts} alert(s), {risk.open} open  ({top})")
    return EXIT_OK
