"""The bundled demo force, run through the real daemon into the session's Elasticsearch once per
session: the alerts reviewers triage in these tests are the ones the daemon really raised. Tests that
change triage pick alerts still `new` (`pick_new`), so they never step on each other."""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from auditwatch.testing.elasticsearch import delete_prefixed
from auditwatch.testing.scenarios import write_config

DEMO = Path(__file__).resolve().parents[3] / "deploy" / "demo"


@dataclass(frozen=True)
class Demo:
    config: Path
    prefix: str
    root: Path

    @property
    def alerts_index(self) -> str:
        return f"{self.prefix}-alerts"


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`auditwatch ARGS` in a child process, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "auditwatch", "--log-level", "warning", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
    )


@pytest.fixture(scope="session")
def demo(es_url: str, es_client: Elasticsearch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo data run into fresh indices; second review required for critical alerts."""
    root = tmp_path_factory.mktemp("demo")
    shutil.copytree(DEMO, root, dirs_exist_ok=True)
    prefix = f"awt-{uuid.uuid4().hex[:12]}"
    config = write_config(root, es_url, root / "state", index_prefix=prefix, name="aw.yml")
    with config.open("a", encoding="utf-8") as f:
        f.write("triage:\n  second_review: [critical]\n")
    for args in (("setup",), ("run", "--until-idle")):
        done = run_cli(*args, "--config", str(config))
        assert done.returncode == 0, done.stderr[-3000:]
    es_client.indices.refresh(index=f"{prefix}-*")
    try:
        yield Demo(config, prefix, root)
    finally:
        delete_prefixed(es_client, prefix)


@pytest.fixture
def cli(demo: Demo) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`cli("alerts", "list", ...)`: the command line against the demo's config."""

    def call(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, "--config", str(demo.config))

    return call


def pick_new(es_client: Elasticsearch, demo: Demo, **term: object) -> str:
    """The first (by id) alert still `new` with the given term, e.g. `pick_new(c, d, **{"rule.id": "x"})`."""
    query = {"bool": {"filter": [{"term": {"auditwatch.triage.status": "new"}}, {"term": term}]}}
    es_client.indices.refresh(index=demo.alerts_index)
    hits = es_client.search(index=demo.alerts_index, size=1000, query=query)["hits"]["hits"]
    assert hits, f"no new alert with {term}"
    return str(sorted(h["_id"] for h in hits)[0])
