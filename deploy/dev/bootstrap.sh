#!/usr/bin/env bash
# Prepare a development or CI machine; idempotent and fast when already done:
#   1. a virtualenv at $REPO/.venv (Python >= 3.11),
#   2. `pip install -c deploy/dev/constraints.txt -e '.[test]'`: every package at the version the
#      constraints file pins (skipped while pyproject.toml and the constraints are unchanged),
#   3. the Elasticsearch test distribution and a JDK for it (cached under ~/.cache/auditwatch).
# Needs only python3, mvn and git; as root it may apt-get python3-venv or a JDK when missing.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$REPO/.venv"
STAMP="$VENV/.auditwatch-install.sha256"
CONSTRAINTS="deploy/dev/constraints.txt"
cd "$REPO"

log() { printf 'bootstrap: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

version_ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; }

find_python() {
    local candidate found=""
    for candidate in python3.13 python3.12 python3.11 python3; do
        command -v "$candidate" >/dev/null 2>&1 || continue
        found="$candidate"
        if version_ok "$candidate"; then
            command -v "$candidate"
            return 0
        fi
    done
    if [[ -n $found ]]; then
        die "auditwatch needs Python >= 3.11, but $found is $("$found" -c 'import platform; print(platform.python_version())')"
    fi
    die "auditwatch needs Python >= 3.11, and no python3 is installed"
}

apt_install() {
    [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1 || return 1
    log "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
}

make_venv() {
    local python="$1" minor
    log "creating $VENV with $python"
    if ! "$python" -m venv "$VENV" 2>/dev/null; then
        # Debian ships venv/ensurepip separately
        rm -rf "$VENV"
        minor="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
        apt_install "python$minor-venv" || apt_install python3-venv \
            || die "'$python -m venv' failed; install the python3-venv package"
        "$python" -m venv "$VENV"
    fi
}

if [[ -x $VENV/bin/python ]] && version_ok "$VENV/bin/python"; then
    :
elif [[ -e $VENV ]] && [[ ! -x $VENV/bin/python ]]; then
    die "$VENV exists but has no bin/python; remove it and run again"
elif [[ -e $VENV ]]; then
    die "$VENV uses Python < 3.11; remove it and run again"
else
    make_venv "$(find_python)"
fi

wanted="$(cat pyproject.toml "$CONSTRAINTS" | sha256sum | cut -d' ' -f1)"
if [[ ! -f $STAMP ]] || [[ $(cat "$STAMP") != "$wanted" ]]; then
    log "installing auditwatch and its test dependencies into $VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -c "$CONSTRAINTS" -e '.[test]'
    printf '%s\n' "$wanted" >"$STAMP"
fi

"$VENV/bin/python" -m auditwatch.testing.elasticsearch ensure >&2
