#!/usr/bin/env bash
# Bootstrap, then run ruff (lint, then the format check), mypy and pytest (arguments go to pytest).
# All of them always run; the exit code is pytest's when it failed, else 1 when ruff or mypy failed.
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"

bash deploy/dev/bootstrap.sh || exit $?
bash deploy/dev/test-peers.sh || exit $?

summary=()
check() {
    local name="$1" started=$SECONDS code=0
    shift
    printf '\n=== %s ===\n' "$name"
    "$@" || code=$?
    local took=$((SECONDS - started))
    if ((code == 0)); then
        summary+=("$name: ok (${took}s)")
    else
        summary+=("$name: FAILED, exit $code (${took}s)")
    fi
    return "$code"
}

lint=0
check ruff .venv/bin/ruff check . || lint=1
check ruff-format .venv/bin/ruff format --check . || lint=1
check mypy .venv/bin/mypy || lint=1
tests=0
check pytest .venv/bin/pytest "$@" || tests=$?

printf '\n=== summary ===\n'
printf '%s\n' "${summary[@]}"
if ((tests != 0)); then
    exit "$tests"
fi
exit "$lint"
