"""The development tools are pinned, so a fresh clone lints and tests the same way next year.

pyproject.toml's `test` extra pins the tools; deploy/dev/constraints.txt pins every package of the
dev virtualenv; deploy/dev/bootstrap.sh (which CI runs from scratch) installs with the constraints.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
CONSTRAINTS = ROOT / "deploy" / "dev" / "constraints.txt"


def _project() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        project: dict[str, object] = tomllib.load(f)["project"]
    return project


def _test_extra() -> list[Requirement]:
    extras = _project()["optional-dependencies"]
    assert isinstance(extras, dict)
    return [Requirement(text) for text in extras["test"]]


def _constraints() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+)", line.strip())
        assert match, f"constraints.txt: not an exact pin: {line!r}"
        pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def test_test_tools_are_pinned_exactly_and_as_in_the_constraints() -> None:
    """Each tool of the `test` extra is `name==version`, the version constraints.txt has."""
    pins = _constraints()
    tools = _test_extra()
    assert {canonicalize_name(r.name) for r in tools} >= {"pytest", "ruff", "mypy"}
    for requirement in tools:
        [spec] = requirement.specifier
        assert spec.operator == "==", requirement
        assert pins.get(canonicalize_name(requirement.name)) == spec.version, requirement


def test_constraints_cover_and_satisfy_the_runtime_dependencies() -> None:
    """Every runtime dependency has a pin, inside the range pyproject.toml allows."""
    pins = _constraints()
    dependencies = _project()["dependencies"]
    assert isinstance(dependencies, list)
    for text in dependencies:
        requirement = Requirement(text)
        pinned = pins.get(canonicalize_name(requirement.name))
        assert pinned is not None, f"{requirement.name} has no pin in constraints.txt"
        assert requirement.specifier.contains(pinned, prereleases=True), (requirement, pinned)


def test_bootstrap_installs_with_the_constraints() -> None:
    """bootstrap.sh passes the constraints to pip and reinstalls when they change."""
    script = (ROOT / "deploy" / "dev" / "bootstrap.sh").read_text(encoding="utf-8")
    assert 'CONSTRAINTS="deploy/dev/constraints.txt"' in script
    assert re.search(r"pip install .*-c \"\$CONSTRAINTS\" -e '\.\[test\]'", script)
    assert 'cat pyproject.toml "$CONSTRAINTS" | sha256sum' in script


def test_the_running_tools_are_the_pinned_ones() -> None:
    """The virtualenv running this suite has the pinned tools (bootstrap.sh was run since a change)."""
    for requirement in _test_extra():
        [spec] = requirement.specifier
        assert version(requirement.name) == spec.version, f"run deploy/dev/bootstrap.sh ({requirement})"
