"""The CLI loads only what a verb needs: linting rules or printing the names loads no Elasticsearch
client, and a verb that does use Elasticsearch still gets the clear error and exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import sys
from auditwatch.commands.cli import main
code = main(sys.argv[1:])
loaded = sorted(m for m in ("elasticsearch", "elastic_transport", "auditwatch.indexing") if m in sys.modules)
print("LOADED", ",".join(loaded) or "-", "EXIT", code, file=sys.stderr)
"""


def _probe(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "AUDITWATCH_CONFIG"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("LOADED ")]
    return line


@pytest.mark.parametrize(
    "argv",
    [
        ("rules", "lint", "--rules-dir", "rules", "--lists-dir", "rules/lists"),
        ("rules", "names"),
    ],
    ids=["rules lint", "rules names"],
)
def test_verbs_without_elasticsearch_do_not_load_its_client(argv: tuple[str, ...]) -> None:
    assert _probe(*argv) == "LOADED - EXIT 0"


def test_an_unreachable_cluster_is_still_a_clear_runtime_error(tmp_path: Path) -> None:
    """The Elasticsearch exception classes are looked up lazily; the error path still finds them."""
    config = tmp_path / "aw.yml"
    config.write_text(
        "inputs: [{name: a, paths: [x.log], parser: rms_json}]\n"
        "elasticsearch: {hosts: ['http://127.0.0.1:9'], request_timeout: 2}\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "AUDITWATCH_CONFIG"}
    done = subprocess.run(
        [sys.executable, "-m", "auditwatch", "setup", "--config", str(config)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert "error: Elasticsearch: ConnectionError" in done.stderr
    assert "--debug for details" in done.stderr
    assert "Traceback" not in done.stderr
