"""Every command of the README's reviewer walkthrough, run as written against alerts the daemon raised."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from .conftest import Demo

README = Path(__file__).resolve().parents[3] / "README.md"


def _walkthrough() -> list[str]:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- reviewer-walkthrough -->\n```bash\n(.*?)```", text, flags=re.S)
    assert block, "README has the reviewer walkthrough"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_reviewer_walkthrough_runs_as_written(demo: Demo, tmp_path: Path) -> None:
    """list -> show -> assign -> list --case -> close -> export -> verify, each exits 0 and does its job."""
    env = {**os.environ, "AUDITWATCH_CONFIG": str(demo.config), "AUDITWATCH_REVIEWER": "rosa"}
    commands = _walkthrough()
    assert [c.split()[2] for c in commands] == ["list", "show", "assign", "list", "close", "export", "verify"]
    alert = case = ""
    outputs = []
    for command in commands:
        assert command.startswith("auditwatch ")
        argv = shlex.split(command.replace("ALERT_ID", alert).replace("CASE_ID", case))
        done = subprocess.run(
            [sys.executable, "-m", "auditwatch", "--log-level", "warning", *argv[1:]],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env=env,
            cwd=tmp_path,
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        outputs.append(done.stdout)
        if not alert:  # the first list: take its first row
            header, first = done.stdout.splitlines()[:2]
            columns = header.split()
            assert columns[:2] == ["alert", "id"]
            alert = first.split()[0]
            case = first.split()[columns.index("case") - 2]  # "alert id", "time (UTC)": two words each
            assert "high" in first
    show, assign, by_case, close, _export, verify = outputs[1:]
    assert f"alert {alert}" in show
    assert assign.strip().endswith("new -> under_review (by rosa)")
    assert alert in by_case
    assert close.strip().endswith("under_review -> closed (by rosa)")
    assert (tmp_path / "evidence" / alert / "report.html").is_file()
    assert "intact" in verify
