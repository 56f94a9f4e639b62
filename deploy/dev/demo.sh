#!/usr/bin/env bash
# Quick start: set everything up, start a local real Elasticsearch, run auditwatch's main job on the
# bundled demo data (deploy/demo: a synthetic force's audit logs in four formats and its reference
# exports), and print the alerts it raised, read back from Elasticsearch.
#
#   bash deploy/dev/demo.sh          # everything is stopped and removed at the end
#   bash deploy/dev/demo.sh --keep   # leave Elasticsearch running to explore (prints how to stop it)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KEEP=0
[[ ${1:-} == "--keep" ]] && KEEP=1

bash "$REPO/deploy/dev/bootstrap.sh"
PY="$REPO/.venv/bin/python"
AW="$REPO/.venv/bin/auditwatch"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/auditwatch-demo.XXXXXX")"
chmod 755 "$WORK"

cleanup() {
    if [[ $KEEP -eq 0 ]]; then
        "$PY" -m auditwatch.testing.elasticsearch stop --dir "$WORK/es" >/dev/null 2>&1 || true
        rm -rf "$WORK" "$REPO/deploy/demo/auditwatch.local.yml"
    fi
}
trap cleanup EXIT

echo "== starting a local Elasticsearch (about 15 s)" >&2
URL="$("$PY" -m auditwatch.testing.elasticsearch start --dir "$WORK/es")"
CONFIG="$REPO/deploy/demo/auditwatch.local.yml"
"$PY" - "$URL" "$WORK/state" <<'PYEOF'
import sys
from pathlib import Path
from auditwatch.testing.scenarios import write_config
write_config(Path("deploy/demo").resolve(), sys.argv[1], sys.argv[2], name="auditwatch.local.yml")
PYEOF

echo "== auditwatch check-config" >&2
"$AW" check-config --config "$CONFIG"
echo "== auditwatch setup" >&2
"$AW" setup --config "$CONFIG"
echo "== auditwatch run --until-idle (tail, parse, detect, index)" >&2
"$AW" --log-level warning run --until-idle --config "$CONFIG"
echo "== alerts in Elasticsearch" >&2
"$AW" alerts list --config "$CONFIG" --limit 500

if [[ $KEEP -eq 1 ]]; then
    echo "Elasticsearch is still running at $URL (config: $CONFIG)." >&2
    echo "Stop it with: $PY -m auditwatch.testing.elasticsearch stop --dir $WORK/es" >&2
fi
