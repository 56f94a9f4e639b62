"""``python -m auditwatch.testing.scenarios OUT_DIR [--scale S] [--seed N] [--start DAY] [--es-url URL]``."""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

from auditwatch.testing.scenarios import DEFAULT_START, PRESETS, generate, write_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m auditwatch.testing.scenarios", description=__doc__)
    parser.add_argument("out_dir", type=Path, help="directory to write logs/, exports/ and truth.jsonl into")
    parser.add_argument("--scale", choices=sorted(PRESETS), default="demo")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--start", type=date.fromisoformat, default=DEFAULT_START, help="first day (YYYY-MM-DD)"
    )
    parser.add_argument("--es-url", help="also write auditwatch.yml pointing at this Elasticsearch")
    parser.add_argument("--state-dir", default="state", help="state_dir for auditwatch.yml (default: state)")
    args = parser.parse_args(argv)
    result = generate(args.out_dir, seed=args.seed, scale=args.scale, start=args.start)
    if args.es_url:
        write_config(args.out_dir, args.es_url, args.state_dir)
    print(json.dumps(result.summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
