"""The bench still runs end to end: `bash bench/run.sh` at tiny sizes against the session's Elasticsearch.

No timing is asserted: only that every part ran, wrote its figures, and that the functional
claims the bench reports hold (liblognorm and auditwatch agree field by field on every line, the
latency incident's alert arrived exactly once, every shipper indexed every document).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_bench_run_sh_tiny(es_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "AW_BENCH_TINY": "1", "AW_BENCH_OUT": str(tmp_path), "AW_BENCH_ES_URL": es_url}
    done = subprocess.run(
        ["bash", str(REPO / "bench" / "run.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    md = (tmp_path / "latest.md").read_text()
    assert "## Summary (ratios)" in md
    assert "rsyslog imfile → mmjsonparse → omelasticsearch" in md
    data = json.loads((tmp_path / "latest.json").read_text())
    assert set(data) >= {"commit", "parse", "lognorm", "reference", "daemon_scale", "end_to_end", "latency"}
    lognorm = data["lognorm"]
    assert lognorm["compared"] == lognorm["lines"] == 500
    assert lognorm["mismatches"] == {}
    e2e = data["end_to_end"]
    assert e2e["rsyslog"]["events"] == e2e["ingest"]["events"] == 2000
    assert e2e["full"]["events"] == e2e["storm"]["events"] > 0
    assert e2e["storm"]["alerts"] > e2e["full"]["alerts"]
    assert e2e["profile"]["top"]
    assert e2e["profile"]["events"] == 2000
    (latency,) = data["latency"]
    assert (latency["incidents"], latency["misses"], latency["duplicates"], latency["false_alerts"]) == (
        1,
        0,
        0,
        0,
    )
    assert data["reference"]["rows"]["persons"] == 1000
    scale = data["daemon_scale"]  # the real daemon on reference_scale's exports, then a reload
    assert scale["rows"] == data["reference"]["rows"] | {"persons": 1000}
    assert scale["lines_written"] == scale["events"] == scale["events_indexed"] == 500
    assert scale["dead_letters"] == 0
    assert scale["peak_rss_mib"] >= scale["rss_after_load_mib"] > scale["baseline_rss_mib"] / 2
    assert scale["reload_peak_mib"] > 0
