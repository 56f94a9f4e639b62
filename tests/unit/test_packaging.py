"""The wheel carries the shipped parsers, rules and RULES.md, and none of the test harness."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    source = tmp_path_factory.mktemp("src") / "auditwatch"
    # a clean copy: no build/ or egg-info left by an editable install can leak files into the wheel
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__", ".*_cache"),
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(out),
            str(source),
        ],
        check=True,
        timeout=600,
    )
    (found,) = out.glob("auditwatch-*.whl")
    return found


def test_wheel_contents(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    parsers = {Path(n).name for n in names if n.startswith("auditwatch/shipped/parsers/")}
    rules = {Path(n).name for n in names if n.startswith("auditwatch/shipped/rules/")}
    assert parsers == {p.name for p in (REPO / "parsers").glob("*.yml")}
    assert {p.name for p in (REPO / "rules").glob("*.yml")} <= rules
    assert "auditwatch/detection/RULES.md" in names
    assert not [n for n in names if n.startswith("auditwatch/testing/")]
    # every production module of the checkout is in the wheel (the package list in pyproject is explicit)
    modules = {
        p.relative_to(REPO).as_posix()
        for p in (REPO / "auditwatch").rglob("*.py")
        if "testing" not in p.relative_to(REPO / "auditwatch").parts[:1]
    }
    assert modules - names == set()


def test_installed_wheel_finds_its_shipped_files(wheel: Path, tmp_path: Path) -> None:
    """Installed from the wheel (no checkout around it), the bundled parsers and rules are package data."""
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        timeout=600,
    )
    code = (
        "import auditwatch.config.bundled as b, pathlib;"
        "p = b.bundled_dir('parsers'); r = b.bundled_dir('rules');"
        "print(p); print(sorted(x.name for x in p.glob('*.yml'))[0]);"
        "print((r / 'colleague-lookup.yml').is_file())"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=True,
    )
    where, first, has_rule = done.stdout.split()
    assert where.startswith(str(target))
    assert first.endswith(".yml")
    assert has_rule == "True"
