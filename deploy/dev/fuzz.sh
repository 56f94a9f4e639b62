#!/usr/bin/env bash
# Long fuzz of hostile input: the suite's property tests (every decoder and shipped parser, the
# pattern compiler, the rule condition language) with many more random examples each. The suite
# runs the same properties with 200 fixed examples. Tunables (environment):
#   AUDITWATCH_FUZZ_EXAMPLES  random examples per property (default 20000)
# Extra arguments go to pytest (e.g. -k kv, -x).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bash "$REPO/deploy/dev/bootstrap.sh"
cd "$REPO"
export AUDITWATCH_FUZZ_EXAMPLES="${AUDITWATCH_FUZZ_EXAMPLES:-20000}"
exec "$REPO/.venv/bin/pytest" -q -p no:cacheprovider --hypothesis-show-statistics \
    tests/unit/parsing/test_parsing_properties.py tests/unit/detection/test_detection_condition_properties.py "$@"
