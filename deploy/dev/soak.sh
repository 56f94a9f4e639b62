#!/usr/bin/env bash
# Long soak of the delivery guarantees: the suite's crash/rotation and outage tests with many more
# SIGKILLs and a higher write rate. Tunables (environment):
#   AUDITWATCH_SOAK_KILLS  SIGKILLs of the daemon while lines are written and rotated (default 200)
#   AUDITWATCH_SOAK_RATE   lines per second written (default 3000)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bash "$REPO/deploy/dev/bootstrap.sh"
cd "$REPO"
export AUDITWATCH_SOAK_KILLS="${AUDITWATCH_SOAK_KILLS:-200}"
export AUDITWATCH_SOAK_RATE="${AUDITWATCH_SOAK_RATE:-3000}"
exec "$REPO/.venv/bin/pytest" -q -p no:cacheprovider \
    tests/integration/daemon/test_crash_recovery.py tests/integration/daemon/test_es_outage.py "$@"
