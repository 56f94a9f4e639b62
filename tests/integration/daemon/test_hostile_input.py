"""Hostile lines never stop the daemon; each bad line is dead-lettered with its reason."""

from __future__ import annotations

import base64
import json


def test_hostile_corpus_is_indexed_or_dead_lettered(daemon_setup):
    """Invalid UTF-8, NUL, a 5 MB line, truncated JSON, reordered fields, empty lines, and poison
    timestamps (year 0001 and 9999, which used to stop ingestion for good or move detection's clock
    to 9999): each bad line is a dead letter with its reason and the lines after it are indexed."""
    good = [
        b'{"ts":"2026-11-25T10:00:00Z","user":"MP000001","seq":"00000001"}',
        b'{"seq":"00000002","user":"MP000002","ts":"2026-11-25T10:00:01Z"}',  # field order differs
        b'{"ts":"2026-11-25T10:00:02Z","user":"MP00\xc3\xa90003","seq":"00000003"}',  # UTF-8 accent
    ]
    bad = {
        b'{"ts":"2026-11-25T10:00:03Z","user":"MP\xff\xfe04","seq":"00000004"': "invalid UTF-8 at byte 39",
        b'{"ts":"2026-11-25T10:00:04Z","user":"MP000005","seq":"000\x0000005"': "control character U+0000",
        b'{"ts":"2026-11-25T10:00:05Z","user":"MP000006","seq":"' + b"x" * (5 << 20) + b'"}': "truncated",
        b'{"ts":"2026-11-25T10:00:06Z","user":"MP000007"': "json",  # truncated JSON
        b'{"ts":"not a time","user":"MP000008","seq":"00000008"}': "@timestamp",
        b'{"ts":"2026-11-25T10:00:08Z","seq":"00000009"}': "user.id",  # required field missing
        b'{"ts":"0001-01-01T00:00:00Z","user":"MP000010","seq":"00000010"}': "timestamp_window.earliest",
        b'{"ts":"9999-12-31T23:59:59Z","user":"MP000011","seq":"00000011"}': "timestamp_window.max_future",
    }
    lines = [good[0], *bad.keys(), b"", good[1], b"   ", good[2]]
    (daemon_setup.logs / "audit.log").write_bytes(b"\n".join(lines) + b"\n")

    done = daemon_setup.run_until_idle()
    assert done.returncode == 0, done.stderr.decode()[-3000:]

    seqs = sorted(str(e["auditwatch.record.id"]) for e in daemon_setup.all_events())
    assert seqs == ["00000001", "00000002", "00000003"]
    letters = daemon_setup.dead_letters()
    by_hash = {}
    for letter in letters:
        assert letter["error.message"], letter
        by_hash[letter["event.hash"]] = letter
    import hashlib

    for line, reason_word in bad.items():
        letter = by_hash.get(hashlib.sha1(line).hexdigest())
        assert letter is not None, f"no dead letter for {line[:60]!r}"
        assert reason_word.lower() in json.dumps(letter).lower(), (reason_word, letter["error.message"])
        if b"\xff" in line:  # exact bytes kept when the line is not UTF-8
            assert base64.b64decode(str(letter["auditwatch.line.original_b64"])) == line
