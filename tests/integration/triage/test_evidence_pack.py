"""Evidence packs of alerts the daemon raised: self-contained HTML + JSON twin + manifest; verify
finds a one-byte change; the HTML renders in headless Chromium with a chart that drew."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from auditwatch.triage.evidence import ALERT_COLOUR, BAR_COLOUR, sha256_text

from .conftest import Demo, pick_new

Cli = Callable[..., subprocess.CompletedProcess[str]]
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def pack(demo: Demo, es_client: Elasticsearch, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A colleague-lookup alert, triaged once, exported with the real command."""
    from .conftest import run_cli

    alert = pick_new(es_client, demo, **{"rule.id": "neighbour-lookup"})
    cfg = str(demo.config)
    assert run_cli("alerts", "assign", alert, "--by", "pat", "--config", cfg).returncode == 0
    out = tmp_path_factory.mktemp("pack") / "case-001"
    done = run_cli("alerts", "export", alert, "--out", str(out), "--by", "pat", "--config", cfg)
    assert done.returncode == 0, done.stderr
    return alert, out


def test_pack_holds_the_alert_lines_timeline_viewers_and_history(
    pack: tuple[str, Path], demo: Demo, es_client: Elasticsearch
) -> None:
    """evidence.json: reasons, explanations, raw lines with SHA-256 matching their ingest SHA-1,
    a timeline with the alert's own event in it, other viewers, the triage history; the manifest
    hashes both files."""
    alert, out = pack
    assert sorted(p.name for p in out.iterdir()) == ["evidence.json", "manifest.json", "report.html"]
    body: dict[str, Any] = json.loads((out / "evidence.json").read_text())
    doc = es_client.get(index=demo.alerts_index, id=alert)["_source"]
    assert body["reasons"] == doc["auditwatch"]["alert"]["reasons"]
    assert body["explanations_tried"] == doc["auditwatch"]["alert"]["explanations_tried"]
    (line,) = body["lines"]
    evidence = doc["auditwatch"]["alert"]["evidence"][0]
    assert line["original"] == evidence["original"]
    assert line["sha256"] == sha256_text(evidence["original"])
    assert line["matches_ingest_hash"] is True
    assert (line["file"], line["offset"]) == (evidence["file"], evidence["offset"])
    timeline = body["timeline"]
    assert len(timeline["per_hour"]) in (48, 49)
    assert sum(h["events"] for h in timeline["per_hour"]) == timeline["total"] >= 1
    assert any(e["timestamp"] == evidence["@timestamp"] for e in timeline["events"])
    assert all(v["user"] != doc["user"]["id"] for v in body["other_viewers"])
    assert [(h["by"], h["action"]) for h in body["triage_history"]] == [("pat", "assign")]
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["files"]) == {"evidence.json", "report.html"}
    html = (out / "report.html").read_text()
    for external in ("<script", "<link", "@import", 'src="', "url("):  # self-contained: nothing fetched
        assert external not in html
    assert evidence["original"].replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")[:40] in html


def test_verify_passes_then_detects_a_one_byte_change_to_a_line(
    pack: tuple[str, Path], tmp_path: Path
) -> None:
    """`alerts verify` says intact; after changing one byte of the raw line it names the line and file."""
    from .conftest import run_cli

    _alert, out = pack
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    ok = run_cli("alerts", "verify", str(copy))
    assert ok.returncode == 0, ok.stdout
    assert "intact (2 files, 1 source lines checked)" in ok.stdout
    text = (copy / "evidence.json").read_text()
    body = json.loads(text)
    original = body["lines"][0]["original"]
    i = next(n for n, ch in enumerate(original) if ch.isdigit())
    changed = original[:i] + ("1" if original[i] != "1" else "2") + original[i + 1 :]
    body["lines"][0]["original"] = changed
    (copy / "evidence.json").write_text(json.dumps(body, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    bad = run_cli("alerts", "verify", str(copy))
    assert bad.returncode == 1
    assert "MISMATCH evidence.json: SHA-256 differs from the manifest" in bad.stdout
    assert "MISMATCH line 1" in bad.stdout
    assert "differs from the line indexed" in bad.stdout
    assert "CHANGED" in bad.stdout


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Decode a non-interlaced 8-bit RGB/RGBA PNG into rows of pixel bytes (stdlib only)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, chunk = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _c, _f, interlace = struct.unpack(">IIBBBBB", chunk)
            assert (depth, interlace) == (8, 0)
            assert colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        filt, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = prev[x]
            c = prev[x - channels] if x >= channels else 0
            if filt == 1:
                line[x] = (line[x] + a) & 0xFF
            elif filt == 2:
                line[x] = (line[x] + b) & 0xFF
            elif filt == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif filt == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 0xFF
        rows.append(bytes(line) if channels == 3 else bytes(v for i, v in enumerate(line) if i % 4 != 3))
        prev = line
    return width, height, rows


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
def test_report_renders_in_headless_chromium_with_a_chart(pack: tuple[str, Path], tmp_path: Path) -> None:
    """Chromium screenshots report.html; the page is not blank and the chart region has drawn bars and
    the red alert line."""
    _alert, out = pack
    shot = tmp_path / "report.png"
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1100,700",
            "--hide-scrollbars",
            (out / "report.html").as_uri(),
        ],
        capture_output=True,
        timeout=180,
        check=False,
    )
    assert shot.is_file(), done.stderr.decode()[-2000:]
    width, height, rows = _png_pixels(shot.read_bytes())
    assert (width, height) == (1100, 700)
    bar, red = _rgb(BAR_COLOUR), _rgb(ALERT_COLOUR)
    bar_pixels = red_pixels = ink = 0
    bar_rows: set[int] = set()
    for y, row in enumerate(rows):
        for x in range(0, len(row), 3):
            px = (row[x], row[x + 1], row[x + 2])
            if px != (255, 255, 255):
                ink += 1
            if all(abs(p - q) <= 8 for p, q in zip(px, bar, strict=True)):
                bar_pixels += 1
                bar_rows.add(y)
            elif all(abs(p - q) <= 8 for p, q in zip(px, red, strict=True)):
                red_pixels += 1
    assert ink > 5000, "the page drew"
    assert bar_pixels > 30, "the chart's bars drew"
    assert red_pixels > 50, "the alert line drew"
    assert max(bar_rows) < 400, "the chart is at the top of the page, above the fold"
