"""rsyslog as a file -> Elasticsearch peer: `imfile -> mmjsonparse -> omelasticsearch`.

rsyslogd runs in the foreground (`-n`) with its own config, work directory and pid file (nothing of
the system's rsyslog is touched), reads the JSON-lines file from its start, parses each line with
mmjsonparse and bulk-indexes `create` operations (id = the record's `audit_id`) into a strict-mapped
index on a loopback Elasticsearch, through a tuned in-memory action queue, `addMetadata="off"`.
The figure is documents/s from rsyslogd's start until Elasticsearch has indexed every line, and
rsyslogd's own CPU (user + system, psutil) per document.

    .venv/bin/python -m bench.rsyslog_peer --url http://127.0.0.1:9200 --file rms.jsonl
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

RSYSLOGD = "/usr/sbin/rsyslogd"
MODULES = Path("/usr/lib/x86_64-linux-gnu/rsyslog")
PACKAGES = ("rsyslog", "rsyslog-elasticsearch")

# the documents rsyslog writes: ECS-ish names for what the record carries, nothing computed
FIELDS = {
    "@timestamp": "ts",
    "event.id": "audit_id",
    "event.action": "action",
    "user.id": "user!staff_no",
    "user.name": "user!display_name",
    "source.ip": "client!ip",
    "host.name": "client!terminal",
    "auditwatch.session.id": "client!session",
    "auditwatch.record.type": "record!type",
    "auditwatch.record.id": "record!id",
    "auditwatch.subject.person_id": "subject!person_id",
    "auditwatch.subject.surname": "subject!surname",
    "auditwatch.subject.forenames": "subject!forenames",
    "auditwatch.subject.dob": "subject!dob",
    "auditwatch.subject.postcode": "subject!postcode",
    "auditwatch.reason.code": "reason!code",
    "auditwatch.reason.case_ref": "reason!case_ref",
}


def ensure_installed() -> None:
    """Install the Debian packages with apt when rsyslogd or omelasticsearch is missing."""
    if Path(RSYSLOGD).exists() and (MODULES / "omelasticsearch.so").exists():
        return
    subprocess.run(
        ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES],
        check=True,
        capture_output=True,
        env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )


def _template() -> str:
    parts = []
    for i, (name, path) in enumerate(FIELDS.items()):
        sep = "{" if i == 0 else ","
        parts.append(
            f'  constant(value="{sep}\\"{name}\\":\\"")\n'
            f'  property(name="$!{path}" format="json")\n  constant(value="\\"")'
        )
    parts.append(
        '  constant(value=",\\"event.original\\":\\"")\n'
        '  property(name="msg" format="json")\n  constant(value="\\"}")'
    )
    return 'template(name="doc" type="list" option.jsonf="off") {\n' + "\n".join(parts) + "\n}\n"


def config(work: Path, log_file: Path, url: str, index: str) -> str:
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    return f"""\
global(workDirectory="{work}" maxMessageSize="64k")
module(load="{MODULES}/imfile.so" mode="inotify")
module(load="{MODULES}/mmjsonparse.so")
module(load="{MODULES}/omelasticsearch.so")
main_queue(queue.type="direct")
{_template()}
template(name="bulkid" type="list") {{ property(name="$!audit_id") }}
input(type="imfile" file="{log_file}" tag="rms" ruleset="es" freshStartTail="off"
      readMode="0" maxLinesAtOnce="0" addMetadata="off")
ruleset(name="es" queue.type="direct") {{
  action(type="mmjsonparse" cookie="" useRawMsg="on")
  action(type="omelasticsearch" server="{host}" serverport="{port}" searchIndex="{index}"
         template="doc" bulkmode="on" bulkid="bulkid" dynbulkid="on" writeoperation="create"
         esVersion.major="8" maxbytes="10m"
         queue.type="linkedList" queue.size="200000" queue.dequeueBatchSize="5000"
         queue.workerThreads="2"
         action.resumeRetryCount="-1")
}}
"""


def _indexed(client: Any, index: str) -> int:
    stats = client.indices.stats(index=index, metric="indexing")
    return int(stats["_all"]["primaries"]["indexing"]["index_total"])


def _peak_rss(pid: int) -> int:
    """The process's high-water resident set (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def run(client: Any, url: str, log_file: Path, n_lines: int, timeout: float = 600.0) -> dict[str, float]:
    """Ship `log_file` (`n_lines` RMS JSON lines) with rsyslogd; docs/s and rsyslogd CPU µs/doc."""
    ensure_installed()
    index = "bench-rsyslog"
    client.options(ignore_status=404).indices.delete(index=index)
    props: dict[str, Any] = {name: {"type": "keyword"} for name in FIELDS}
    props["@timestamp"] = {"type": "date"}
    props["event.original"] = {"type": "keyword", "index": False, "doc_values": False}
    client.indices.create(
        index=index,
        settings={"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "1s"},
        mappings={"dynamic": "strict", "properties": props},
    )
    work = Path(tempfile.mkdtemp(prefix="aw-rsyslog-"))
    conf = work / "rsyslog.conf"
    conf.write_text(config(work, log_file, url, index))
    check = subprocess.run([RSYSLOGD, "-N1", "-f", str(conf)], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise RuntimeError(f"rsyslogd rejected its config: {check.stderr[-2000:]}")
    log = (work / "rsyslogd.out").open("wb")
    started = time.perf_counter()
    proc = psutil.Popen(
        [RSYSLOGD, "-n", "-f", str(conf), "-i", str(work / "rsyslogd.pid")],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        done = 0
        while done < n_lines:
            if proc.poll() is not None:
                raise RuntimeError(f"rsyslogd exited: {(work / 'rsyslogd.out').read_text()[-2000:]}")
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"rsyslogd indexed only {done} of {n_lines} in {timeout:.0f}s")
            time.sleep(0.05)
            done = _indexed(client, index)
        wall = time.perf_counter() - started
        cpu = proc.cpu_times()
        used = cpu.user + cpu.system
        rss = _peak_rss(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except psutil.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()
    client.indices.refresh(index=index)
    count = int(client.count(index=index)["count"])
    client.options(ignore_status=404).indices.delete(index=index)
    shutil.rmtree(work, ignore_errors=True)
    if count != n_lines:
        raise RuntimeError(f"rsyslog stored {count} documents for {n_lines} lines")
    return {
        "events": count,
        "wall_s": wall,
        "events_per_s": count / wall,
        "cpu_us_per_event": used / count * 1e6,
        "peak_rss_mib": rss / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--file", type=Path, required=True)
    args = parser.parse_args()
    from elasticsearch import Elasticsearch

    n = sum(1 for _ in args.file.open("rb"))
    print(run(Elasticsearch(args.url), args.url, args.file.resolve(), n))


if __name__ == "__main__":
    main()
