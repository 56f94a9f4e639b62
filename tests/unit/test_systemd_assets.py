"""The systemd unit and sysusers file, checked by systemd's own tools (systemd-analyze, systemd-sysusers)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNIT = DEPLOY / "systemd" / "auditwatch.service"
SYSTEM_UNITS = Path("/usr/lib/systemd/system")
MAX_EXPOSURE = 2.0


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is missing: deploy/dev/test-peers.sh installs Debian's systemd package"
    return path


def _image(tmp_path: Path, unit_text: str) -> Path:
    """A root directory holding the unit, the distribution's units and the programs the unit runs."""
    root = tmp_path / "root"
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    (root / "etc/systemd/system/auditwatch.service").write_text(unit_text, encoding="utf-8")
    for line in unit_text.splitlines():
        if line.startswith(("ExecStart", "ExecReload", "ExecStop")):
            program = root / line.split("=", 1)[1].split()[0].lstrip("/")
            program.parent.mkdir(parents=True, exist_ok=True)
            program.write_text("#!/bin/sh\n", encoding="utf-8")
            program.chmod(0o755)
    return root


def _verify(tmp_path: Path, unit_text: str) -> subprocess.CompletedProcess[str]:
    root = _image(tmp_path, unit_text)
    return subprocess.run(
        [_tool("systemd-analyze"), "verify", f"--root={root}", "auditwatch.service"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    """`systemd-analyze verify` finds nothing to say about the shipped unit (it only warns, so: no output)."""
    done = _verify(tmp_path, UNIT.read_text(encoding="utf-8"))
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr


def test_verify_check_catches_a_broken_unit(tmp_path: Path) -> None:
    """The check above can fail: a misspelt key and a bad value are reported."""
    broken = UNIT.read_text(encoding="utf-8").replace("WatchdogSec=120", "WatchdogSec=soon\nRestartSecs=5")
    done = _verify(tmp_path, broken)
    assert "WatchdogSec" in done.stderr or "soon" in done.stderr
    assert "RestartSecs" in done.stderr


def _exposure(unit: Path) -> float:
    done = subprocess.run(
        [_tool("systemd-analyze"), "security", "--offline=true", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout + done.stderr)
    assert found, done.stdout + done.stderr
    return float(found.group(1))


def test_unit_exposure_is_at_most_two(tmp_path: Path) -> None:
    """`systemd-analyze security --offline=true` rates the unit's sandbox 2.0 or better ("OK")."""
    assert _exposure(UNIT) <= MAX_EXPOSURE
    # and the measure is sensitive: the same unit without its sandbox is rated far worse
    loose = tmp_path / "auditwatch.service"
    kept = [
        line
        for line in UNIT.read_text(encoding="utf-8").splitlines()
        if not line.startswith(("Protect", "Private", "Restrict", "SystemCall", "Capability", "IPAddress"))
    ]
    loose.write_text("\n".join(kept) + "\n", encoding="utf-8")
    assert _exposure(loose) > MAX_EXPOSURE + 2


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("Type", "notify"),
        ("NotifyAccess", "main"),
        ("RestartPreventExitStatus", "2"),
        ("UMask", "0027"),
        ("User", "auditwatch"),
        ("SupplementaryGroups", "auditlog"),
    ],
)
def test_unit_settings_the_daemon_relies_on(key: str, value: str) -> None:
    """The daemon speaks sd_notify, exits 2 on a config it cannot fix, and reads logs through one group."""
    settings = [line.split("=", 1) for line in UNIT.read_text(encoding="utf-8").splitlines() if "=" in line]
    assert [key, value] in settings


def test_unit_reload_validates_before_signalling() -> None:
    """`systemctl reload` runs `rules lint` first, so an invalid rule set fails the reload itself."""
    reloads = [
        line.split("=", 1)[1]
        for line in UNIT.read_text(encoding="utf-8").splitlines()
        if line.startswith("ExecReload=")
    ]
    assert len(reloads) == 2
    assert "rules lint" in reloads[0]
    assert "-HUP $MAINPID" in reloads[1]


def test_sysusers_creates_the_user_and_the_log_group(tmp_path: Path) -> None:
    """`systemd-sysusers --root` on the shipped file makes the service user, `auditlog` and the membership."""
    conf = DEPLOY / "sysusers" / "auditwatch.conf"
    (tmp_path / "etc").mkdir()
    done = subprocess.run(
        [_tool("systemd-sysusers"), f"--root={tmp_path}", str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    passwd = (tmp_path / "etc/passwd").read_text(encoding="utf-8")
    group = (tmp_path / "etc/group").read_text(encoding="utf-8")
    user = next(line.split(":") for line in passwd.splitlines() if line.startswith("auditwatch:"))
    assert user[5] == "/var/lib/auditwatch"
    assert int(user[2]) < 1000  # a system user
    auditlog = next(line.split(":") for line in group.splitlines() if line.startswith("auditlog:"))
    assert "auditwatch" in auditlog[3].split(",")
