"""`auditwatch status`: where each followed file stands, and what the daemon last reported.

Local facts come from the files and the checkpoint (no daemon needed): for each file the inputs'
globs match, its size, the offset delivered and acknowledged, and how far behind that is. The
daemon's own view (queue, counters, silent inputs, uptime) comes from its latest heartbeat document
in Elasticsearch.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from functools import partial
from typing import Any, TextIO

from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError

from auditwatch.checkpoint import Checkpoint
from auditwatch.commands import EXIT_OK, EXIT_RUNTIME
from auditwatch.config.daemon import DaemonConfig
from auditwatch.schema import IndexNames
from auditwatch.sources import discovery
from auditwatch.sources.fingerprint import fingerprint


@dataclass(frozen=True, slots=True)
class FileLag:
    input: str
    path: str
    size: int
    delivered: int | None  # None: never read (no checkpoint entry for its identity)

    @property
    def behind(self) -> int:
        return self.size - (self.delivered or 0)


def file_lags(config: DaemonConfig) -> list[FileLag]:
    offsets = _checkpoint_offsets(config)
    lags: list[FileLag] = []
    for path, cfg in discovery.expand(config.inputs, set()):
        if path.endswith(".gz"):
            continue  # read once, whole; its offsets count decompressed bytes
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            size = os.fstat(fd).st_size
            key = fingerprint(partial(_pread, fd), cfg.fingerprint_lines)
        finally:
            os.close(fd)
        delivered = None
        if key is not None:
            found = [v for k, v in offsets.items() if k == key or k.startswith(key + ":")]
            delivered = max(found) if found else None
        lags.append(FileLag(cfg.name, path, size, min(delivered, size) if delivered is not None else None))
    return lags


def _pread(fd: int, pos: int, size: int) -> bytes:
    return os.pread(fd, size, pos)


def _checkpoint_offsets(config: DaemonConfig) -> dict[str, int]:
    if not config.checkpoint_path.exists():
        return {}
    checkpoint = Checkpoint(config.checkpoint_path)
    try:
        return checkpoint.offsets()
    finally:
        checkpoint.close()


def _state_size(config: DaemonConfig) -> tuple[int, int]:
    checkpoint = Checkpoint(config.checkpoint_path)
    try:
        return checkpoint.state_size()
    finally:
        checkpoint.close()


def latest_heartbeat(client: Elasticsearch, names: IndexNames) -> dict[str, Any] | None:
    try:
        hits = client.search(index=names.health, size=1, sort=[{"@timestamp": "desc"}])["hits"]["hits"]
    except NotFoundError:
        return None
    return dict(hits[0]["_source"]) if hits else None


def print_status(config: DaemonConfig, client: Elasticsearch, out: TextIO) -> bool:
    """Prints the status; False when Elasticsearch could not be asked (the local part is still shown)."""
    lags = file_lags(config)
    checkpoint = config.checkpoint_path
    if checkpoint.exists():
        age = time.time() - max(p.stat().st_mtime for p in checkpoint.parent.glob(checkpoint.name + "*"))
        out.write(f"checkpoint: {checkpoint} (last written {_ago(age)} ago)\n")
        rows, size = _state_size(config)
        out.write(f"detection state: {rows} rows, {size} bytes\n")
    else:
        out.write(f"checkpoint: none yet at {checkpoint} (the daemon has not delivered anything)\n")
    out.write(f"files: {len(lags)}, {sum(lag.behind for lag in lags)} bytes not yet delivered\n")
    for lag in lags:
        state = "not read yet" if lag.delivered is None else f"{lag.behind} bytes behind"
        out.write(f"  [{lag.input}] {lag.path}: {lag.size} bytes, {state}\n")
    try:
        beat = latest_heartbeat(client, IndexNames(config.elasticsearch.index_prefix))
    except (ApiError, TransportError) as exc:
        reason = f"HTTP {exc.meta.status} {exc.error}" if isinstance(exc, ApiError) else str(exc.message)
        out.write(f"daemon: unknown, Elasticsearch unreachable ({reason})\n")
        return False
    if beat is None:
        out.write("daemon: no heartbeat in Elasticsearch yet\n")
        return True
    health = beat["auditwatch"]["health"]
    silent = ", ".join(health.get("silent_inputs") or []) or "none"
    out.write(
        f"daemon: last heartbeat {beat['@timestamp']} from {beat['host']['name']} "
        f"(version {beat['service']['version']}), up {_ago(health.get('uptime_s', 0))}\n"
        f"  events {health.get('events')}, alerts {health.get('alerts')}, "
        f"dead letters {health.get('dead_letters')}, queued batches {health.get('queued_batches')}, "
        f"bytes behind {health.get('bytes_behind')}, silent inputs: {silent}\n"
    )
    return True


def _ago(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def cmd_status(args: argparse.Namespace) -> int:
    from auditwatch.config.daemon import load_config
    from auditwatch.indexing import make_client

    config = load_config(args.config)
    client = make_client(config.elasticsearch).options(max_retries=0)
    try:
        return EXIT_OK if print_status(config, client, sys.stdout) else EXIT_RUNTIME
    finally:
        client.close()
