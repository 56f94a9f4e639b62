#!/usr/bin/env bash
# All benchmarks in one command, every peer in the same run against one loopback Elasticsearch;
# prints one table of ratios at the end. Writes bench/results/latest.json and bench/results/latest.md.
#   bash bench/run.sh [--quick]        (--quick: small sizes, under 5 minutes)
# Peers are installed when missing: Debian rsyslog rsyslog-elasticsearch liblognorm-utils (apt),
# PyPI elastalert2 in its own venv under ~/.cache/auditwatch/bench/.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$REPO/deploy/dev/bootstrap.sh" >/dev/null
cd "$REPO"
PY="$REPO/.venv/bin/python"
OUT="${AW_BENCH_OUT:-$REPO/bench/results}"
mkdir -p "$OUT"
E2E=(--docs 300000 --lines 300000 --events-per-day 12000 --warmup 1000000 --profile)
PARSE_LINES=200000
FUZZ_LINES=50000
DET=(--events 200000)
REF=(--scale 1.0 --person-rows 2000000 --reload)
LAT=(--rates 200 1000 --incidents 20 --elastalert --elastalert-example)
SCALE=(--scale 1.0 --person-rows 2000000 --events 300000) # the same exports as REF: generated once
if [[ ${1:-} == "--quick" ]]; then
    E2E=(--docs 50000 --lines 30000 --events-per-day 1000 --warmup 200000 --warmup-max 200000)
    PARSE_LINES=20000
    FUZZ_LINES=5000
    DET=(--events 20000 --staff 1000)
    REF=(--scale 0.05 --person-rows 100000 --reload --events 20000)
    LAT=(--rates 200 1000 --incidents 3 --timeout 8 --elastalert)
    SCALE=(--scale 0.05 --person-rows 100000 --events 20000)
fi
if [[ -n ${AW_BENCH_TINY:-} ]]; then # the test that guards the bench still runs: tiny sizes
    E2E=(--docs 5000 --lines 2000 --events-per-day 100 --warmup 5000 --profile)
    PARSE_LINES=500
    FUZZ_LINES=200
    DET=(--events 500 --staff 50)
    REF=(--scale 0.002 --person-rows 1000 --reload --events 500)
    LAT=(--rates 200 --incidents 1 --timeout 15)
    SCALE=(--scale 0.002 --person-rows 1000 --events 500)
fi
rm -f "$OUT"/{parse,parse_fuzz,lognorm,reference,daemon_scale,end_to_end,latency}.json
REF_DIR="$(mktemp -d /tmp/aw-bench-ref-XXXXXX)" # reference exports: reference_scale writes, daemon_scale reuses
cleanup() { rm -rf "$REF_DIR"; }
trap cleanup EXIT

if [[ -n ${AW_BENCH_ES_URL:-} ]]; then # an Elasticsearch already running on loopback (the test's)
    URL="$AW_BENCH_ES_URL"
else # our own, on a free loopback port, stopped on exit
    ES_DIR="$(mktemp -d /tmp/aw-bench-es-XXXXXX)"
    cleanup() { "$PY" -m auditwatch.testing.elasticsearch stop --dir "$ES_DIR" >/dev/null 2>&1 || true; rm -rf "$ES_DIR" "$REF_DIR"; }
    "$PY" -m auditwatch.testing.elasticsearch start --dir "$ES_DIR" >"$ES_DIR.url"
    URL="$(tail -1 "$ES_DIR.url")"
    rm -f "$ES_DIR.url"
fi

COMMIT="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- auditwatch parsers rules bench ':!bench/results' || echo '+uncommitted')"
{
    echo "# auditwatch benchmarks ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, commit $COMMIT)"
    echo
    echo "Load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared)."
    echo
    echo "## Parsing (one core, the daemon's GC settings, vs a hand-written peer on the same lines)"
    echo
    "$PY" bench/parse_throughput.py --lines "$PARSE_LINES" --gc-freeze --json "$OUT/parse.json"
    echo
    echo "## Per-line time budget (mutation fuzz of every shipped parser, CPU time per line)"
    echo
    "$PY" -m bench.parse_fuzz --lines "$FUZZ_LINES" --json "$OUT/parse_fuzz.json"
    echo
    echo "## Parsing vs liblognorm (lognormalizer, same lines, outputs cross-checked)"
    echo
    "$PY" -m bench.lognorm_peer --lines "$PARSE_LINES" --json "$OUT/lognorm.json"
    echo
    echo "## Detection (engine only, whole rule pack)"
    echo
    "$PY" bench/detection_throughput.py "${DET[@]}"
    echo
    echo "## Reference data at realistic sizes (load time, peak memory, reload, lookups)"
    echo
    "$PY" bench/reference_scale.py "${REF[@]}" --keep "$REF_DIR" --json "$OUT/reference.json"
    echo
    echo "## File -> Elasticsearch (same Elasticsearch, same run, same file for rsyslog and ingest-only)"
    echo
    "$PY" -m bench.end_to_end --url "$URL" "${E2E[@]}" --json "$OUT/end_to_end.json"
    echo
    echo "## The whole daemon at the reference section's sizes (ready, RSS while it ingests and detects, a reload)"
    echo
    "$PY" -m bench.daemon_scale --url "$URL" "${SCALE[@]}" --exports "$REF_DIR" --json "$OUT/daemon_scale.json"
    echo
    echo "## Detection latency (line written -> alert searchable, no forced refresh)"
    echo
    "$PY" -m bench.latency --url "$URL" "${LAT[@]}" --json "$OUT/latency.json"
    echo
    echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "## Summary (ratios)"
    echo
    "$PY" -m bench.summary "$OUT" "$COMMIT"
} | tee "$OUT/latest.md"
