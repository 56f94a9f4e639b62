"""The checkpoint cannot be written (a full state disk): the daemon stops with a clear message,
and once there is room a restart resumes exactly once."""

from __future__ import annotations

import resource
import subprocess

from auditwatch.testing.logwriter import NumberedLogWriter

LIMIT = 256 * 1024  # bytes any file of the daemon may reach: the checkpoint's WAL outgrows it first


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))  # writes past it fail with EFBIG


def test_full_state_disk_stops_the_daemon_cleanly_and_a_restart_resumes_exactly_once(daemon_setup):
    """Lines keep coming; the checkpoint write fails; exit 3 naming the file; restart: all lines once."""
    writer = NumberedLogWriter(daemon_setup.logs / "audit.log")
    writer.start(lines_per_second=1000)
    try:
        done = subprocess.run(
            daemon_setup.command("run"),
            capture_output=True,
            timeout=300,
            check=False,
            preexec_fn=_limit_file_size,
        )
    finally:
        writer.close()
    stderr = done.stderr.decode(errors="replace")
    assert done.returncode == 3, stderr[-3000:]
    assert "checkpoint.sqlite: cannot write the checkpoint" in stderr, stderr[-3000:]
    assert "Traceback" not in stderr

    again = daemon_setup.run_until_idle()
    assert again.returncode == 0, again.stderr.decode()[-3000:]
    daemon_setup.assert_exactly_once(writer.written)
