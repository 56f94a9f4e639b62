"""ElastAlert 2 beside auditwatch in the latency bench: the same incidents, sent as documents.

ElastAlert 2 (PyPI `elastalert2`) is installed by this module into its own venv under
~/.cache/auditwatch/bench/ (it pins `elasticsearch==7.10.1` and forgets `pytz`). It talks to the
bench's Elasticsearch through `EsShim`, a loopback HTTP proxy that answers `GET /` (the version
probe ElastAlert and its `elastalert-create-index` make, which the test distribution refuses)
and forwards every other request unchanged. A writer process indexes a background of documents
at the same rate as the auditwatch run (bulk, every 100 ms) and the incidents (`vip: true`) at
the same 2-8 s gaps; an `any` rule on `vip: true` with `realert: 0` alerts with the `debug`
alerter, and an alert is "searchable" when its record appears in ElastAlert's writeback index.
Two settings: the example config (`run_every: 1 minute`, `buffer_time: 15 minutes`) and 1 s
polling (`run_every: 1 second`).
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
from elasticsearch import Elasticsearch

from bench.latency import INCIDENT_USER0, STAFF, incident_schedule, measure

VENV = Path.home() / ".cache" / "auditwatch" / "bench" / "elastalert-venv"
PACKAGES = ("elastalert2==2.19.0", "pytz")
EVENTS = "bench-ea-events"
WRITEBACK = "bench-ea-status"
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


def ensure_installed() -> Path:
    """The venv's python (ElastAlert importable), creating the venv with pip when it is missing."""
    exe = VENV / "bin" / "python"
    probe = (
        subprocess.run([str(exe), "-c", "import elastalert, pytz"], capture_output=True, check=False)
        if exe.exists()
        else None
    )
    if probe is None or probe.returncode != 0:
        VENV.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, capture_output=True)
        subprocess.run(
            [str(VENV / "bin" / "pip"), "install", "-q", *PACKAGES], check=True, capture_output=True
        )
    return exe


class EsShim:
    """Loopback proxy in front of Elasticsearch that answers `GET /` itself."""

    def __init__(self, upstream: str, version: str) -> None:
        parts = urlsplit(upstream)
        host, port = parts.hostname or "127.0.0.1", parts.port or 9200
        banner = orjson.dumps(
            {
                "name": "bench-shim",
                "cluster_name": "bench",
                "version": {"number": version, "distribution": "elasticsearch"},
                "tagline": "You Know, for Search",
            }
        )

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                if self.command == "GET" and self.path in ("/", ""):
                    status, headers, data = 200, [("content-type", "application/json")], banner
                else:
                    conn = http.client.HTTPConnection(host, port, timeout=120)
                    try:
                        send = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                        conn.request(self.command, self.path, body=body, headers=send)
                        response = conn.getresponse()
                        status, data = response.status, response.read()
                        headers = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP]
                    finally:
                        conn.close()
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _iso(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at * 1000) % 1000:03d}Z"


def write_docs(url: str, rate: float, schedule: Sequence[float], tail: float, record: str) -> None:
    """Writer process: background documents in 100 ms bulks, incidents indexed one by one."""
    client = Elasticsearch(url)
    rng = random.Random(5)
    written: list[tuple[int, str, float]] = []
    start = time.time()
    end = start + schedule[-1] + tail
    sent = next_incident = 0
    while (now := time.time()) < end:
        due = int((now - start) * rate) - sent
        if due > 0:
            ops: list[dict[str, Any]] = []
            for _ in range(due):
                ops.append({"create": {"_index": EVENTS}})
                ops.append(
                    {"@timestamp": _iso(now), "user_id": f"MP{rng.randrange(STAFF):06d}", "vip": False}
                )
            client.bulk(operations=ops)
            sent += due
        while next_incident < len(schedule) and time.time() - start >= schedule[next_incident]:
            user = f"MP{INCIDENT_USER0 + next_incident:06d}"
            at = time.time()
            client.index(index=EVENTS, document={"@timestamp": _iso(at), "user_id": user, "vip": True})
            written.append((next_incident, user, at))
            next_incident += 1
        time.sleep(0.1)
    Path(record).write_text(json.dumps(written))


def _alert_user(source: dict[str, Any]) -> str | None:
    body = source.get("match_body") or {}
    value = body.get("user_id")
    return str(value) if value is not None else None


def run_one(  # noqa: PLR0917
    url: str,
    version: str,
    label: str,
    run_every: dict[str, int],
    rate: float,
    incidents: int,
    seed: int,
    timeout: float,
) -> dict[str, Any]:
    exe = ensure_installed()
    client = Elasticsearch(url)
    work = Path(tempfile.mkdtemp(prefix="aw-elastalert-"))
    shim = EsShim(url, version)
    proc: subprocess.Popen[bytes] | None = None
    try:
        for index in (
            EVENTS,
            WRITEBACK,
            f"{WRITEBACK}_status",
            f"{WRITEBACK}_silence",
            f"{WRITEBACK}_error",
            f"{WRITEBACK}_past",
        ):
            client.options(ignore_status=404).indices.delete(index=index)
        client.indices.create(
            index=EVENTS,
            settings={"number_of_shards": 1, "number_of_replicas": 0},
            mappings={
                "properties": {
                    "@timestamp": {"type": "date"},
                    "user_id": {"type": "keyword"},
                    "vip": {"type": "boolean"},
                }
            },
        )
        (work / "rules").mkdir()
        every = ", ".join(f"{k}: {v}" for k, v in run_every.items())
        (work / "config.yaml").write_text(
            textwrap.dedent(
                f"""\
                rules_folder: {work / "rules"}
                run_every: {{{every}}}
                buffer_time: {{minutes: 15}}
                es_host: 127.0.0.1
                es_port: {shim.port}
                writeback_index: {WRITEBACK}
                alert_time_limit: {{days: 2}}
                """
            )
        )
        (work / "rules" / "vip.yaml").write_text(
            textwrap.dedent(
                f"""\
                name: bench-vip
                type: any
                index: {EVENTS}
                timestamp_field: "@timestamp"
                filter:
                  - term: {{vip: true}}
                realert: {{minutes: 0}}
                alert: [debug]
                """
            )
        )
        created = subprocess.run(
            [str(exe), "-m", "elastalert.create_index", "--config", str(work / "config.yaml")],
            capture_output=True,
            text=True,
            check=False,
            cwd=work,
            timeout=120,
        )
        if created.returncode != 0:
            raise RuntimeError(f"elastalert-create-index failed: {(created.stdout + created.stderr)[-1500:]}")
        proc = subprocess.Popen(
            [str(exe), "-m", "elastalert.elastalert", "--config", str(work / "config.yaml")],
            cwd=work,
            stdout=(work / "ea.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        time.sleep(3.0)
        if proc.poll() is not None:
            raise RuntimeError(f"elastalert exited: {(work / 'ea.log').read_text()[-1500:]}")
        spawn = multiprocessing.get_context("spawn")

        def start(schedule: Sequence[float], r: float, tail: float, record: str) -> Any:
            p = spawn.Process(target=write_docs, args=(url, r, schedule, tail, record))
            p.start()
            return p

        def fetch() -> list[dict[str, Any]]:
            response = client.options(ignore_status=404).search(
                index=WRITEBACK, size=10_000, query={"term": {"rule_name": "bench-vip"}}
            )
            if response.meta.status == 404:
                return []
            return [hit["_source"] for hit in response["hits"]["hits"]]

        result = measure(
            label, incident_schedule(incidents, seed), rate, start, fetch, _alert_user, work, timeout
        )
        result["system"] = f"ElastAlert 2.19 `any` rule, run_every {every}, buffer_time 15 min"
        return result
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shim.close()
        for index in (
            EVENTS,
            WRITEBACK,
            f"{WRITEBACK}_status",
            f"{WRITEBACK}_silence",
            f"{WRITEBACK}_error",
            f"{WRITEBACK}_past",
        ):
            client.options(ignore_status=404).indices.delete(index=index)
        if os.environ.get("AW_BENCH_KEEP") is None:
            shutil.rmtree(work, ignore_errors=True)


def run_all(  # noqa: PLR0917
    url: str, rate: float, incidents: int, seed: int, timeout: float, example: bool = True
) -> list[dict[str, Any]]:
    """ElastAlert at its example settings (if `example`) and at 1 s polling; errors become rows."""
    version = _version(url)
    variants: list[tuple[str, dict[str, int], float]] = [("elastalert-1s", {"seconds": 1}, timeout)]
    if example:  # a one-minute poll needs a longer wait after the last incident
        variants.insert(0, ("elastalert-example", {"minutes": 1}, max(timeout, 75.0)))
    out = []
    for label, every, wait in variants:
        try:
            out.append(run_one(url, version, label, every, rate, incidents, seed, wait))
        except Exception as exc:
            out.append(
                {
                    "system": f"ElastAlert 2.19 ({label})",
                    "background_lines_per_s": rate,
                    "error": str(exc).replace("\n", " ")[:300],
                }
            )
    return out


def _version(url: str) -> str:
    """The node's version from `GET /_nodes/_local` (`GET /` is what the test distribution refuses)."""
    nodes = Elasticsearch(url).nodes.info(node_id="_local", metric="settings")["nodes"]
    return str(next(iter(nodes.values()))["version"])
