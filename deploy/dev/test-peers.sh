#!/usr/bin/env bash
# Real peers the test suite runs (from Debian's packages): PostgreSQL 15 with pgaudit (a real log
# producer), and systemd's own tools (systemd-analyze, systemd-sysusers) that check the shipped unit.
# Idempotent: installs only what is missing. Needs root (or the packages already installed).
set -euo pipefail

missing=()
[[ -x /usr/lib/postgresql/15/bin/postgres ]] || missing+=(postgresql-15)
[[ -f /usr/lib/postgresql/15/lib/pgaudit.so ]] || missing+=(postgresql-15-pgaudit)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "test-peers: please install ${missing[*]} (the pgaudit test needs a real PostgreSQL)" >&2
    exit 0  # the test itself then fails with the same message: nothing is skipped silently
fi
echo "test-peers: apt-get install ${missing[*]} (changes this host: Debian packages," >&2
echo "test-peers: and /etc/postgresql-common/createcluster.d/auditwatch.conf so no default cluster starts)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# the package's post-install would create and start a cluster; the tests make their own
mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/auditwatch.conf
apt-get install -y -q "${missing[@]}" >/dev/null
