#!/usr/bin/env bash
# All benchmarks in one command; each compares against a peer measured in the same run and reports
# ratios. Writes bench/results/latest.json and bench/results/latest.md.
#   bash bench/run.sh [--quick]
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$REPO/deploy/dev/bootstrap.sh"
cd "$REPO"
PY="$REPO/.venv/bin/python"
OUT="$REPO/bench/results"
mkdir -p "$OUT"
SCALE=(--docs 300000 --lines 300000 --events-per-day 12000)
PARSE_LINES=200000
FUZZ_LINES=50000
REF_SCALE=1.0
if [[ ${1:-} == "--quick" ]]; then
    SCALE=(--docs 50000 --lines 50000 --events-per-day 2000)
    PARSE_LINES=20000
    FUZZ_LINES=5000
    REF_SCALE=0.1
fi
{
    echo "# auditwatch benchmarks ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)"
    echo
    echo "## Parsing (one core, the daemon's GC settings, vs a hand-written peer on the same lines)"
    "$PY" bench/parse_throughput.py --lines "$PARSE_LINES" --gc-freeze --json "$OUT/parse.json"
    echo
    echo "## Per-line time budget (mutation fuzz of every shipped parser, CPU time per line)"
    "$PY" -m bench.parse_fuzz --lines "$FUZZ_LINES" --json "$OUT/parse_fuzz.json"
    echo
    echo "## Detection (engine only, whole rule pack)"
    "$PY" bench/detection_throughput.py
    echo
    echo "## Reference data at realistic sizes (load time, memory, lookups)"
    "$PY" bench/reference_scale.py --scale "$REF_SCALE"
    echo
    echo "## File -> Elasticsearch (same Elasticsearch, same run)"
    "$PY" -m bench.end_to_end "${SCALE[@]}" --json "$OUT/end_to_end.json"
} | tee "$OUT/latest.md"
"$PY" - "$OUT" <<'PYEOF'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
merged = {name: json.loads((out / f"{name}.json").read_text()) for name in ("parse", "parse_fuzz", "end_to_end") if (out / f"{name}.json").exists()}
(out / "latest.json").write_text(json.dumps(merged, indent=2))
PYEOF
