"""Run Elasticsearch and its tools as an unprivileged user, and stop whole process groups.

Elasticsearch refuses to run as root. When this process is root, every Elasticsearch command runs
through `runuser` as a dedicated system user that owns the instance's config, data and log dirs.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

ES_USER: Final = "auditwatch-es"


def running_as_root() -> bool:
    return os.geteuid() == 0


def ensure_es_user() -> tuple[int, int]:
    """(uid, gid) of the system user that runs Elasticsearch, creating the user when missing."""
    try:
        entry = pwd.getpwnam(ES_USER)
    except KeyError:
        result = subprocess.run(
            ["useradd", "-r", "-M", "-s", "/usr/sbin/nologin", ES_USER],
            capture_output=True,
            text=True,
            check=False,
        )
        try:  # a concurrent session may have created it first: only its absence is an error
            entry = pwd.getpwnam(ES_USER)
        except KeyError:
            raise RuntimeError(f"useradd {ES_USER} failed: {result.stderr.strip()}") from None
    return entry.pw_uid, entry.pw_gid


def chown_tree(path: Path, uid: int, gid: int) -> None:
    os.chown(path, uid, gid)
    for parent, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(parent, name), uid, gid, follow_symlinks=False)


def reachable(path: Path) -> bool:
    """Whether other users can traverse every directory down to `path` (not so under /root)."""
    return all(parent.stat().st_mode & 0o001 for parent in [path, *path.parents] if parent.exists())


def check_reachable(path: Path) -> None:
    if not reachable(path):
        raise RuntimeError(
            f"{ES_USER} cannot reach {path} (a parent directory is not searchable by other users); "
            "choose an instance directory elsewhere, e.g. under /tmp"
        )


def link_tree(source: Path, target: Path) -> None:
    """Copy a read-only tree cheaply: hard links where the filesystem allows, copies otherwise."""

    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, symlinks=True, copy_function=link_or_copy, dirs_exist_ok=True)


def command(argv: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """`argv` with exactly `env` as its environment, as the Elasticsearch user when root."""
    prefix = ["runuser", "-u", ES_USER, "--"] if running_as_root() else []
    return [*prefix, "env", "-i", *(f"{key}={value}" for key, value in env.items()), *argv]


def run_tool(argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> str:
    """Run a short-lived Elasticsearch tool; return its output or raise with that output."""
    result = subprocess.run(
        command(argv, env), cwd=cwd, capture_output=True, text=True, check=False, timeout=300
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{Path(argv[0]).name} exited {result.returncode}: {(result.stdout + result.stderr).strip()}"
        )
    return result.stdout


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def stop_group(pgid: int, leader: subprocess.Popen[bytes] | None, timeout: float) -> None:
    """SIGTERM the whole process group, wait for every member to exit, SIGKILL after `timeout`."""
    if running_as_root():
        # the leader is runuser, which answers SIGTERM by SIGKILLing its child two seconds later;
        # terminate the JVMs themselves and let runuser exit with them
        for pid in _members(pgid) - {pgid}:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
    else:
        _signal_group(pgid, signal.SIGTERM)
    if not _wait_group(pgid, leader, timeout):
        _signal_group(pgid, signal.SIGKILL)
        _wait_group(pgid, leader, 10.0)


def _members(pgid: int) -> set[int]:
    members = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # fields after the parenthesised command name: state ppid pgrp ...
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                members.add(int(stat.parent.name))
    return members


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def _wait_group(pgid: int, leader: subprocess.Popen[bytes] | None, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if leader is not None:
            leader.poll()  # reap the leader, else its zombie keeps the group "alive"
        if not group_alive(pgid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
