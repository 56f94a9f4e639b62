"""Delivery survives rotation and SIGKILL: every line in Elasticsearch exactly once."""

from __future__ import annotations

import os
import random
import signal
import time

from auditwatch.testing.logwriter import NumberedLogWriter

KILLS = int(os.environ.get("AUDITWATCH_SOAK_KILLS", "22"))
RATE = int(os.environ.get("AUDITWATCH_SOAK_RATE", "1500"))


def test_sigkill_during_rotation_loses_and_duplicates_nothing(daemon_setup):
    """Lines written across rename and copytruncate rotations while the daemon is SIGKILLed >= 20 times."""
    rng = random.Random(20261125)
    writer = NumberedLogWriter(
        daemon_setup.logs / "audit.log", rotate_every=2500, rotations=("rename", "copytruncate")
    )
    writer.start(lines_per_second=RATE)
    try:
        for _ in range(KILLS):
            proc = daemon_setup.start()
            time.sleep(rng.uniform(0.4, 2.5))  # on purpose: SIGKILL at a random moment
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    finally:
        writer.close()
    assert writer.rotated >= 4, "the run must cross several rotations of both kinds"

    done = daemon_setup.run_until_idle()
    assert done.returncode == 0, done.stderr.decode()[-3000:]

    events = daemon_setup.all_events()
    seqs = [int(str(e["auditwatch.record.id"])) for e in events]
    copies: dict[int, list[tuple[object, object]]] = {}
    for e in events:
        place = (e["log.file.path"], e["log.offset"])
        copies.setdefault(int(str(e["auditwatch.record.id"])), []).append(place)
    twice = {seq: places for seq, places in copies.items() if len(places) > 1}
    assert twice == {}, f"{len(twice)} lines indexed more than once, e.g. {sorted(twice.items())[:5]}"
    assert len(seqs) == writer.written, f"{len(seqs)} indexed for {writer.written} written"
    assert sorted(seqs) == list(range(1, writer.written + 1))
    assert daemon_setup.dead_letters() == []
