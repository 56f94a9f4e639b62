"""A real PostgreSQL 15 with pgaudit writes audit lines; the shipped pgaudit parser must read every one.

Needs Debian's packages (`apt-get install -y postgresql-15 postgresql-15-pgaudit`, done by the
project bootstrap). Without them the test FAILS, saying so: it is never skipped.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from auditwatch.model import AccessEvent, DeadLetter, RawLine
from auditwatch.parsing import CompiledParser, load_parser
from auditwatch.timefmt import iso_utc

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PGAUDIT_LIB = Path("/usr/lib/postgresql/15/lib/pgaudit.so")
PARSER_FILE = Path(__file__).resolve().parents[2] / "parsers" / "pgaudit.yml"
INSTALL_HINT = "apt-get install -y postgresql-15 postgresql-15-pgaudit (add it to the bootstrap)"

SQL_SETUP = """
CREATE ROLE alice LOGIN;
CREATE DATABASE policedb OWNER alice;
"""
SQL_RESET = """
DROP TABLE occurrence;
DROP TABLE person;
"""
SQL_AS_ALICE = """
CREATE TABLE person (id int PRIMARY KEY, surname text, forenames text);
CREATE TABLE occurrence (id int PRIMARY KEY, person_id int, summary text);
INSERT INTO person VALUES (1, 'Smith', 'John'), (2, 'Jones', 'Alan');
INSERT INTO occurrence VALUES (10, 1, 'theft');
SELECT surname FROM person WHERE id = 1;
SELECT p.surname, o.summary FROM person p JOIN occurrence o ON o.person_id = p.id;
UPDATE person SET surname = 'O''Brien', forenames = 'Sean' WHERE id = 2;
SELECT 1;
"""


def _read_now() -> str:
    """The time the server's lines are read: now (they carry today's date, and a date far after the
    time a line was read is refused by the parser's timestamp_window)."""
    return iso_utc(time.time())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(args: list[str], stdin: str | None = None) -> None:
    command = ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(args[:1])} failed ({done.returncode}): {done.stderr.strip()}")


class Cluster:
    """One initdb'd data directory; `run` starts the server with given log settings, runs the workload
    and stops it, returning the log file it wrote."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.data = base / "data"
        self.runs = 0
        self.ready = False

    def run(self, prefix: str, timezone: str, application_name: str = "") -> Path:
        self.runs += 1
        log = self.base / f"server-{self.runs}.log"
        port = _free_port()
        options = " ".join(
            [
                f"-c port={port}",
                "-c listen_addresses=''",
                f"-c unix_socket_directories={self.base}",
                "-c shared_preload_libraries=pgaudit",
                "-c pgaudit.log=read,write",
                "-c pgaudit.log_relation=on",
                f"-c log_timezone={timezone}",
                "-c logging_collector=off",
                f"-c log_line_prefix='{prefix}'",
            ]
        )
        _as_postgres(
            [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(log), "-o", options, "-w", "start"]
        )
        try:
            psql = [
                str(PG_BIN / "psql"),
                "-h",
                str(self.base),
                "-p",
                str(port),
                "-v",
                "ON_ERROR_STOP=1",
                "-q",
            ]
            if not self.ready:
                _as_postgres([*psql, "-U", "postgres", "-d", "postgres"], stdin=SQL_SETUP)
                self.ready = True
            else:
                _as_postgres([*psql, "-U", "alice", "-d", "policedb"], stdin=SQL_RESET)
            conninfo = "dbname=policedb user=alice"
            if application_name:
                conninfo += f" application_name='{application_name}'"
            _as_postgres([*psql, "-d", conninfo], stdin=SQL_AS_ALICE)
        finally:
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])
        return log


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A throwaway PostgreSQL 15 data directory with pgaudit available."""
    missing = [
        str(p) for p in (PG_BIN / "initdb", PG_BIN / "pg_ctl", PG_BIN / "psql", PGAUDIT_LIB) if not p.exists()
    ]
    if missing:
        pytest.fail(
            f"PostgreSQL 15 with pgaudit is not installed (missing {', '.join(missing)}): {INSTALL_HINT}"
        )
    base = Path(tempfile.mkdtemp(prefix="auditwatch-pg-", dir="/tmp"))
    base.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    try:
        _as_postgres(
            [str(PG_BIN / "initdb"), "-D", str(base / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        )
        yield Cluster(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def server_log(cluster: Cluster) -> Path:
    """The server's log with Debian's default prefix and log_timezone UTC."""
    return cluster.run("%m [%p] %q%u@%d ", "UTC")


@pytest.fixture(scope="module")
def parser() -> CompiledParser:
    return load_parser(PARSER_FILE)


def _audit_events(log: Path, parser: CompiledParser) -> list[AccessEvent]:
    events: list[AccessEvent] = []
    offset = 0
    for line in log.read_bytes().splitlines(keepends=True):
        data = line.rstrip(b"\n")
        raw = RawLine("pg", str(log), "pg-log", offset, offset + len(line), data, len(data))
        offset += len(line)
        if b" AUDIT: " not in data:
            continue
        result = parser.parse(raw, _read_now())
        assert isinstance(result, AccessEvent), f"{getattr(result, 'reason', 'skipped')}: {data!r}"
        events.append(result)
    return events


def test_every_real_audit_line_parses_into_the_expected_events(
    server_log: Path, parser: CompiledParser
) -> None:
    """Each AUDIT line PostgreSQL wrote becomes an event with user, class, command and table."""
    events = _audit_events(server_log, parser)
    seen = [
        (
            e.fields["user.id"],
            e.fields["event.action"],
            e.fields.get("auditwatch.function_code"),
            e.fields.get("auditwatch.record.id"),
        )
        for e in events
    ]
    assert seen == [
        ("alice", "write", "INSERT", "public.person"),
        ("alice", "write", "INSERT", "public.occurrence"),
        ("alice", "read", "SELECT", "public.person"),
        ("alice", "read", "SELECT", "public.person"),
        ("alice", "read", "SELECT", "public.occurrence"),
        ("alice", "write", "UPDATE", "public.person"),
        ("alice", "read", "SELECT", None),
    ]
    assert all(e.fields["service.name"] == "policedb" for e in events)
    assert {e.fields["event.type"][0] for e in events} == {"access", "change"}  # type: ignore[index]
    assert len({e.id for e in events}) == len(events)


def test_every_other_server_line_is_skipped_not_dead_lettered(
    server_log: Path, parser: CompiledParser
) -> None:
    """PostgreSQL's own lines (start-up, shutdown, checkpoints) are skipped: no event, no dead letter."""
    outcomes: dict[str, int] = {"event": 0, "dead": 0, "skipped": 0}
    offset = 0
    for line in server_log.read_bytes().splitlines(keepends=True):
        data = line.rstrip(b"\n")
        raw = RawLine("pg", str(server_log), "pg-log", offset, offset + len(line), data, len(data))
        offset += len(line)
        result = parser.parse(raw, _read_now())
        if result is None:
            outcomes["skipped"] += 1
            assert b" AUDIT: " not in data
        else:
            assert not isinstance(result, DeadLetter), f"{result.reason}: {data!r}"
            outcomes["event"] += 1
    assert outcomes["event"] == 7
    assert outcomes["skipped"] >= 3  # at least start-up, ready and shutdown lines


def test_real_audit_timestamps_are_utc_and_ordered(server_log: Path, parser: CompiledParser) -> None:
    """The server's %m timestamps become ISO UTC @timestamp values in log order."""
    events = _audit_events(server_log, parser)
    stamps = [e.timestamp for e in events]
    assert stamps == sorted(stamps)
    assert all(str(e.fields["@timestamp"]).endswith("Z") for e in events)
    for event in events:
        original = str(event.fields["event.original"])
        assert original[:10] == str(event.fields["@timestamp"])[:10]
        assert original[11:23] == str(event.fields["@timestamp"])[11:23]


def test_quoted_statement_with_commas_and_quotes_parses(server_log: Path, parser: CompiledParser) -> None:
    """The UPDATE (quoted by pgaudit because of its comma and quotes) still maps to the right table."""
    update = [
        e for e in _audit_events(server_log, parser) if e.fields.get("auditwatch.function_code") == "UPDATE"
    ]
    assert len(update) == 1
    assert "O''Brien" in str(update[0].fields["event.original"])
    assert update[0].fields["event.type"] == ["change"]


# (log_line_prefix, log_timezone, application_name): the common forms, with local time zones whose
# offsets differ from UTC today (abbreviations and numeric offsets) and application names with spaces
PREFIX_FORMS = [
    ("%m [%p] %q%u@%d %a ", "Europe/Berlin", "records app 2.1"),
    ("%m [%p-%l] %q%u@%d/%a ", "America/New_York", "pgAdmin 4 - DB:policedb"),
    ("%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ", "Europe/London", "psql"),
    ("%t:%r:%u@%d:[%p]:", "Asia/Kathmandu", ""),
    ("%m %u@%d [%p] %a ", "America/Sao_Paulo", "intel-sync"),
    ("%m [%p] %q%u@%d ", "Australia/Adelaide", ""),
]


@pytest.mark.parametrize(("prefix", "timezone", "app"), PREFIX_FORMS, ids=[f[1] for f in PREFIX_FORMS])
def test_common_prefixes_and_local_time_zones_parse_with_correct_utc(
    cluster: Cluster, parser: CompiledParser, prefix: str, timezone: str, app: str
) -> None:
    """With each common log_line_prefix and a local log_timezone, every AUDIT line the real server
    writes parses, with the right user and database, at the UTC instant its local time stands for."""
    before = datetime.now(UTC).timestamp() - 1
    log = cluster.run(prefix, timezone, app)
    after = datetime.now(UTC).timestamp() + 1
    events = _audit_events(log, parser)
    assert [(e.fields["user.id"], e.fields["event.action"]) for e in events] == [
        ("alice", "write"),
        ("alice", "write"),
        ("alice", "read"),
        ("alice", "read"),
        ("alice", "read"),
        ("alice", "write"),
        ("alice", "read"),
    ]
    assert {e.fields["service.name"] for e in events} == {"policedb"}
    zone = ZoneInfo(timezone)
    for event in events:
        assert before <= event.timestamp <= after, (
            event.fields["@timestamp"],
            event.fields["event.original"],
        )
        local = datetime.fromtimestamp(event.timestamp, zone).strftime("%Y-%m-%d %H:%M:%S")
        assert str(event.fields["event.original"]).startswith(local), (local, event.fields["event.original"])
    offset = 0
    for line in log.read_bytes().splitlines(keepends=True):  # the server's own lines: skipped, not dead
        data = line.rstrip(b"\n")
        raw = RawLine("pg", str(log), "pg-log", offset, offset + len(line), data, len(data))
        offset += len(line)
        if b" AUDIT: " not in data:
            assert parser.parse(raw, _read_now()) is None, data
    if "%p" in prefix and not prefix.startswith("%m %u"):
        assert all(str(e.fields.get("auditwatch.session.id", "")).isdigit() for e in events)
