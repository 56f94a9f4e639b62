"""A poison line (year 0001 or 9999) among good lines: dead-lettered, ingestion goes on, restarts work."""

from __future__ import annotations

import hashlib
import json
import signal
import textwrap

from elasticsearch import ApiError

# Exercises every local-time helper that overflowed on year 0001: `hour`/`weekday` in zones either
# side of UTC (LocalClock.local_seconds) and `repeat` days and sweeps.
RULE = """\
id: poison-probe
title: Time helpers on every event
description: Uses hour, weekday and repeat days so every event goes through the local-time code.
severity: low
risk_score: 10
reasons: ["{user.id} looked twice"]
kind: repeat
condition: event.action == view and (hour(Pacific/Kiritimati) >= 0 or weekday(America/Adak) == mon)
group_by: [user.id]
days: 2
window: 5d
timezone: Pacific/Kiritimati
"""

POISON = [
    b'{"ts":"0001-01-01T00:00:00Z","user":"MP000001","seq":"90000001"}',
    b'{"ts":"9999-12-31T23:59:59Z","user":"MP000001","seq":"90000002"}',
]


def _good(first: int, count: int, day: int = 25) -> list[bytes]:
    return [
        f'{{"ts":"2026-11-{day}T10:{n % 60:02d}:00Z","user":"MP{n % 7:06d}","seq":"{n:08d}"}}'.encode()
        for n in range(first, first + count)
    ]


def _append(path, lines: list[bytes]) -> None:
    with open(path, "ab") as handle:
        handle.write(b"".join(line + b"\n" for line in lines))


def test_poison_lines_are_dead_lettered_and_the_daemon_goes_on(daemon_setup, wait_until):
    """Good lines before, between and after two poison lines are all indexed once; each poison line
    is a dead letter with its reason; the daemon keeps running, stops with rc 0 and restarts."""
    (daemon_setup.root / "rules" / "poison-probe.yml").write_text(textwrap.dedent(RULE))
    log = daemon_setup.logs / "audit.log"
    _append(log, [*_good(1, 50), POISON[0], *_good(51, 50, day=26), POISON[1], *_good(101, 50, day=27)])
    proc = daemon_setup.start()
    try:
        wait_until(lambda: daemon_setup.count() == 150)
        assert proc.poll() is None, "the daemon must keep running after a poison line"
        _append(log, _good(151, 50, day=28))  # ingestion goes on
        wait_until(lambda: daemon_setup.count() == 200)
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert proc.returncode == 0

    wait_until(lambda: len(_dead_letters(daemon_setup)) == 2)
    letters = {str(d["event.hash"]): d for d in daemon_setup.dead_letters()}
    for line in POISON:
        letter = letters.get(hashlib.sha1(line).hexdigest())
        assert letter is not None, f"no dead letter for {line!r}"
        assert letter["error.type"] in ("parse", "detect")
        assert "0001" in line.decode() or "9999" in line.decode()
        assert str(letter["error.message"]).strip(), letter
        assert json.loads(str(letter["event.original"]))["seq"] in ("90000001", "90000002")

    # a restart reads past the poison lines (they were checkpointed) and does not crash
    _append(log, _good(201, 10, day=29))
    done = daemon_setup.run_until_idle(timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    seqs = sorted(int(str(e["auditwatch.record.id"])) for e in daemon_setup.all_events())
    assert seqs == list(range(1, 211))
    assert len(daemon_setup.dead_letters()) == 2


def _dead_letters(setup) -> list[dict[str, object]]:
    try:
        letters: list[dict[str, object]] = setup.dead_letters()
    except ApiError:
        return []
    return letters
