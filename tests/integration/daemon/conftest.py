"""Fixtures for end-to-end daemon tests: a config dir with a tiny parser, and a real `auditwatch run`."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from elasticsearch import ApiError, Elasticsearch

# Numbered lines: no source audit id, so `_id` comes from file identity + offset + line hash, which
# is exactly what rotation and crash recovery must keep stable.
SEQ_PARSER = """\
name: seqtest
description: numbered lines for delivery tests
dataset: test.seq
decoder: json
fields:
  "@timestamp": {from: ts, formats: [iso8601]}
  event.action: {value: view}
  user.id: {from: user, required: true}
  auditwatch.record.id: {from: seq, required: true}
examples:
  - line: '{"ts":"2026-11-25T10:00:00Z","user":"MP000001","seq":"00000001"}'
    expect: {auditwatch.record.id: "00000001"}
"""


@dataclass
class DaemonSetup:
    root: Path
    logs: Path
    config: Path
    prefix: str
    client: Elasticsearch

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "auditwatch", *args, "--config", str(self.config)]

    def setup(self) -> None:
        subprocess.run(self.command("setup"), check=True, capture_output=True, timeout=120)

    def start(self) -> subprocess.Popen[bytes]:
        with open(self.root / "daemon.log", "ab") as log:  # the child keeps its own descriptor
            return subprocess.Popen(self.command("run"), stdout=subprocess.DEVNULL, stderr=log)

    def run_until_idle(self, timeout: float = 300) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            self.command("run", "--until-idle"), capture_output=True, timeout=timeout, check=False
        )

    def events_index(self) -> str:
        return f"{self.prefix}-events-*"

    def all_events(self) -> list[dict[str, object]]:
        """Every indexed event's source, read with search_after (no scroll limits)."""
        self.client.indices.refresh(index=self.events_index())
        out: list[dict[str, object]] = []
        after: list[object] | None = None
        while True:
            resp = self.client.search(
                index=self.events_index(),
                size=5000,
                sort=[{"log.file.path": "asc"}, {"log.offset": "asc"}, {"event.id": "asc"}],
                search_after=after,
                source_includes=["auditwatch.record.id", "log.file.path", "log.offset", "event.id"],
            )
            hits = resp["hits"]["hits"]
            if not hits:
                return out
            out.extend(h["_source"] for h in hits)
            after = hits[-1]["sort"]

    def count(self) -> int:
        """Events indexed so far; -1 while a new index's shards are still starting (busy machine)."""
        try:
            self.client.indices.refresh(index=self.events_index())
            return int(self.client.count(index=self.events_index())["count"])
        except ApiError:
            return -1

    def assert_exactly_once(self, written: int) -> None:
        """Numbered lines 1..written are each indexed exactly once."""
        seqs = sorted(int(str(e["auditwatch.record.id"])) for e in self.all_events())
        assert len(seqs) == written, f"{len(seqs)} indexed for {written} written"
        assert seqs == list(range(1, written + 1))

    def dead_letters(self) -> list[dict[str, object]]:
        index = f"{self.prefix}-deadletter"
        self.client.indices.refresh(index=index)
        resp = self.client.search(index=index, size=1000, sort=[{"log.offset": "asc"}])
        return [h["_source"] for h in resp["hits"]["hits"]]


def write_config(
    root: Path, es_url: str, prefix: str, *, parser: str = "seqtest", extra_inputs: str = ""
) -> Path:
    (root / "parsers").mkdir(parents=True, exist_ok=True)
    (root / "rules").mkdir(exist_ok=True)
    (root / "logs").mkdir(exist_ok=True)
    (root / "parsers" / "seqtest.yml").write_text(SEQ_PARSER)
    config = root / "auditwatch.yml"
    config.write_text(
        textwrap.dedent(
            f"""\
            inputs:
              - name: seq
                paths: ["logs/audit.log*"]
                parser: {parser}
                poll_interval: 0.2
            {extra_inputs}
            parsers_dir: parsers
            rules_dir: rules
            state_dir: state
            elasticsearch:
              hosts: ["{es_url}"]
              index_prefix: {prefix}
              backoff_initial: 0.2
              backoff_max: 2
            pipeline:
              checkpoint_interval: 0.5
              idle_wait: 0.2
            logging:
              level: info
              format: json
            """
        )
    )
    return config


@pytest.fixture
def daemon_setup(tmp_path: Path, es_url: str, es_client: Elasticsearch, index_prefix: str) -> DaemonSetup:
    """A config dir for one test, with templates installed in the test's own index prefix."""
    config = write_config(tmp_path, es_url, index_prefix)
    setup = DaemonSetup(tmp_path, tmp_path / "logs", config, index_prefix, es_client)
    setup.setup()
    return setup


@pytest.fixture
def bare_daemon_setup(
    tmp_path: Path, es_url: str, es_client: Elasticsearch, index_prefix: str
) -> DaemonSetup:
    """Like `daemon_setup`, but nothing is installed in Elasticsearch (`auditwatch setup` never ran)."""
    config = write_config(tmp_path, es_url, index_prefix)
    return DaemonSetup(tmp_path, tmp_path / "logs", config, index_prefix, es_client)


MakeSetup = Callable[[Path, str, Elasticsearch, str], DaemonSetup]


@pytest.fixture
def make_daemon_setup() -> MakeSetup:
    """Like `daemon_setup`, for another cluster: (root, es_url, client, index_prefix) -> set up."""

    def make(root: Path, es_url: str, client: Elasticsearch, prefix: str) -> DaemonSetup:
        setup = DaemonSetup(root, root / "logs", write_config(root, es_url, prefix), prefix, client)
        setup.setup()
        return setup

    return make
