"""TLS certificates and file-realm users for a local Elasticsearch, made with its bundled tools.

Only the file realm and file roles work on the test distribution (the native realm needs the
`.security` index, which needs analysis-common): users go through `bin/elasticsearch-users`,
roles through `config/roles.yml`.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from auditwatch.testing.elasticsearch import _proc

CERTS_DIR: Final = "certs"
CA_CERT: Final = "certs/ca/ca.crt"
NODE_CERT: Final = "certs/instance/instance.crt"
NODE_KEY: Final = "certs/instance/instance.key"


def make_certificates(home: Path, config: Path, env: Mapping[str, str], cache: Path) -> None:
    """Put a CA and a node certificate for localhost/127.0.0.1 under `config`/certs (PEM).

    They are made once with the bundled certutil (two JVM runs, several seconds) and cached in
    `cache`, since every local test node has the same names.
    """
    certs = config / CERTS_DIR
    if (config / NODE_CERT).is_file() and (config / CA_CERT).is_file():
        return
    if not (cache / NODE_CERT).is_file():
        _run_certutil(home, certs, env)
        cache.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".certs-", dir=cache.parent))
        shutil.copytree(certs, staging / CERTS_DIR, dirs_exist_ok=True)
        with contextlib.suppress(OSError):  # another process cached its own pair first: also fine
            (staging / CERTS_DIR).rename(cache)
        shutil.rmtree(staging, ignore_errors=True)
    else:
        shutil.copytree(cache, certs, dirs_exist_ok=True)
    if _proc.running_as_root():
        uid, gid = _proc.ensure_es_user()
        _proc.chown_tree(certs, uid, gid)
    for key in certs.glob("*/*.key"):
        key.chmod(0o600)


def _run_certutil(home: Path, certs: Path, env: Mapping[str, str]) -> None:
    certutil = str(home / "bin" / "elasticsearch-certutil")
    ca_zip, node_zip = certs / "ca.zip", certs / "node.zip"
    for stale in (ca_zip, node_zip):
        stale.unlink(missing_ok=True)
    days = ["--days", "3650"]
    _proc.run_tool([certutil, "ca", "--pem", "--silent", *days, "--out", str(ca_zip)], env, certs)
    _unzip(ca_zip, certs)
    ca = ["--ca-cert", str(certs / "ca" / "ca.crt"), "--ca-key", str(certs / "ca" / "ca.key")]
    names = ["--dns", "localhost", "--ip", "127.0.0.1"]
    _proc.run_tool(
        [certutil, "cert", "--pem", "--silent", *days, *ca, *names, "--out", str(node_zip)], env, certs
    )
    _unzip(node_zip, certs)


def _unzip(archive: Path, target: Path) -> None:
    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(target)
    archive.unlink()
    if _proc.running_as_root():  # the next certutil run (as the Elasticsearch user) reads these
        uid, gid = _proc.ensure_es_user()
        _proc.chown_tree(target, uid, gid)


def has_user(config: Path, name: str) -> bool:
    users = config / "users"
    if not users.is_file():
        return False
    return any(line.split(":", 1)[0] == name for line in users.read_text(encoding="utf-8").splitlines())


def add_user(
    home: Path, config: Path, env: Mapping[str, str], *, name: str, password: str, roles: Sequence[str]
) -> None:
    """Add (or replace) file-realm user `name` with `roles`."""
    tool = str(home / "bin" / "elasticsearch-users")
    if has_user(config, name):
        _proc.run_tool([tool, "userdel", name], env, config)
    argv = [tool, "useradd", name, "-p", password]
    if roles:
        argv += ["-r", ",".join(roles)]
    _proc.run_tool(argv, env, config)
