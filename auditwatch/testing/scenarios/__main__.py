"""``python -m auditwatch.testing.scenarios OUT_DIR [--force 1|2] [--scale S] [--seed N] [--es-url URL]``."""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

from auditwatch.testing.scenarios import PRESETS, generate, write_config, write_second_config
from auditwatch.testing.scenarios._second import PRESETS as SECOND_PRESETS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m auditwatch.testing.scenarios", description=__doc__)
    parser.add_argument("out_dir", type=Path, help="directory to write logs/, exports/ and truth.jsonl into")
    parser.add_argument(
        "--force",
        type=int,
        choices=(1, 2),
        default=1,
        help="1: the first synthetic force; 2: a force shaped differently (own parser files and exports)",
    )
    parser.add_argument("--scale", choices=sorted(set(PRESETS) | set(SECOND_PRESETS)), default="demo")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--start",
        type=date.fromisoformat,
        default=None,
        help="first day (YYYY-MM-DD; default: the force's own)",
    )
    parser.add_argument(
        "--es-url",
        help="also write auditwatch.yml pointing at this Elasticsearch (always written for --force 2, "
        "default http://127.0.0.1:9200)",
    )
    parser.add_argument("--state-dir", default="state", help="state_dir for auditwatch.yml (default: state)")
    parser.add_argument(
        "--score",
        nargs="?",
        const="time",
        choices=("time", "scan"),
        help="replay the force without Elasticsearch and print its per-rule table (time: all events in "
        "event-time order; scan: `auditwatch scan` over the files as the tailer reads them)",
    )
    args = parser.parse_args(argv)
    result = generate(args.out_dir, seed=args.seed, scale=args.scale, start=args.start, force=args.force)
    config = None
    if args.force == 2:
        config = write_second_config(args.out_dir, args.es_url or "http://127.0.0.1:9200", args.state_dir)
    elif args.es_url or args.score:
        config = write_config(args.out_dir, args.es_url or "http://127.0.0.1:9200", args.state_dir)
    print(json.dumps(result.summary, indent=1))
    if args.score and config is not None:
        from auditwatch.testing.scenarios.replay import replay  # noqa: PLC0415 (loads the whole engine)

        done = replay(config, result, order=args.score)
        title = f"force {args.force}, scale {args.scale}, {args.score} order, {len(done.events)} events"
        print(done.report(title))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
