"""Reference data never goes silently blind: exports judged one by one, no blind start, status per export."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from structlog.testing import capture_logs

from auditwatch.commands.cli import main
from auditwatch.config.daemon import load_config
from auditwatch.daemon import Daemon
from auditwatch.errors import ConfigError
from auditwatch.jobs.schedule import Hooks, scheduled_jobs
from auditwatch.reference import ReferenceConfig, ReferenceHolder, SourceConfig, load_sources
from auditwatch.testing.waiting import wait_until

REPO = Path(__file__).resolve().parents[3]


def _empty_assignments(exports: Path) -> None:
    (exports / "assignments.csv").write_text("officer,case,start date,end date\n")


def test_one_rejected_export_at_the_first_load_leaves_the_others_in_force(
    exports: Path, cfg: ReferenceConfig
) -> None:
    """An empty assignments file (min_rows 1) is missing; HR, watchlist and the rest still load."""
    _empty_assignments(exports)
    holder = ReferenceHolder(cfg)
    problems = holder.reload()
    assert [s.kind for s in holder.missing()] == ["assignments"]
    assert any("only 0 usable rows (min_rows: 1)" in p.message for p in problems)
    kinds = sorted(s.table.kind for s in holder.current.sources)
    assert kinds == ["associates", "case_links", "roster", "staff", "watchlist"]
    assert holder.current.staff
    assert holder.current.watchlists
    states = {d["kind"]: d["state"] for d in holder.describe()}
    assert states == dict.fromkeys(kinds, "in force") | {"assignments": "missing"}


def test_describe_gives_rows_as_of_and_age_of_each_export(exports: Path, cfg: ReferenceConfig) -> None:
    """Status says how old each export in force is, from the file version loaded."""
    hr = exports / "hr.csv"
    mtime = 1_764_000_000.0  # 2025-11-24T16:00:00Z
    os.utime(hr, (mtime, mtime))
    result = load_sources(cfg)
    staff = next(d for d in result.snapshot.describe(now=mtime + 5 * 3600) if d["kind"] == "staff")
    assert staff == {
        "kind": "staff",
        "source": str(hr),
        "as_of": "2025-11-24",
        "rows": staff["rows"],
        "age_hours": 5.0,
    }
    assert isinstance(staff["rows"], int)
    assert staff["rows"] > 0


def test_nothing_changed_returns_the_same_snapshot(cfg: ReferenceConfig) -> None:
    """A poll that finds no change does not make the daemon swap (and re-freeze) an equal snapshot."""
    first = load_sources(cfg).snapshot
    assert load_sources(cfg, first).snapshot is first


def _daemon_config(tmp_path: Path, exports: Path, optional: bool) -> Path:
    config = tmp_path / "auditwatch.yml"
    config.write_text(
        textwrap.dedent(
            f"""\
            inputs: [{{name: rms, paths: ["{tmp_path}/rms.jsonl"], parser: rms_json}}]
            parsers_dir: {REPO / "parsers"}
            rules_dir: {REPO / "rules"}
            state_dir: {tmp_path / "state"}
            elasticsearch: {{hosts: ["http://127.0.0.1:9"]}}
            reference:
              max_bad_rows_percent: 20
              sources:
                - {{kind: staff, path: {exports / "hr.csv"}, delimiter: ";",
                   columns: {{staff_id: Staff Number, surname: last name}}}}
                - kind: assignments
                  path: {exports / "assignments.csv"}
                  columns: {{staff_id: officer, case_ref: case, from: start date, to: end date}}
                  optional: {"true" if optional else "false"}
            """
        )
    )
    return config


@pytest.fixture
def cli_logging() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def test_daemon_refuses_to_start_without_a_usable_required_export(
    tmp_path: Path, exports: Path, capsys: pytest.CaptureFixture[str], cli_logging: None
) -> None:
    """`auditwatch run` exits 2 naming the export, rather than running with rules blind."""
    _empty_assignments(exports)
    config = _daemon_config(tmp_path, exports, optional=False)
    with pytest.raises(ConfigError) as caught:
        Daemon(load_config(config))
    assert [(p.file, p.line) for p in caught.value.problems] == [(str(exports / "assignments.csv"), None)]
    assert "assignments export (declared at" in caught.value.problems[0].message
    assert main(["run", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert f"{exports / 'assignments.csv'}: AW401 assignments export" in err
    assert "optional: true" in err


def test_an_optional_export_may_be_missing_at_start(
    tmp_path: Path, exports: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Marked `optional: true`, the daemon starts with the other exports and says which one is missing."""
    _empty_assignments(exports)
    daemon = Daemon(load_config(_daemon_config(tmp_path, exports, optional=True)))
    states = {d["kind"]: d["state"] for d in daemon._reference.describe()}
    assert states == {"staff": "in force", "assignments": "missing (optional)"}
    assert "reference_export_missing" in capsys.readouterr().out


def test_check_config_lists_exports_in_force_and_rejected(
    tmp_path: Path, exports: Path, capsys: pytest.CaptureFixture[str], cli_logging: None
) -> None:
    """check-config prints rows, as-of and age per export, and names the one that is not in force."""
    _empty_assignments(exports)
    config = _daemon_config(tmp_path, exports, optional=False)
    assert main(["check-config", "--config", str(config)]) == 2
    out = capsys.readouterr()
    assert "reference data: 1 of 2 export(s) in force" in out.out
    assert f"  staff {exports / 'hr.csv'}: " in out.out
    assert " rows, as of " in out.out
    assert f"  assignments {exports / 'assignments.csv'}: NOT IN FORCE (rejected)" in out.out
    assert "only 0 usable rows" in out.err
    config.write_text(config.read_text().replace("optional: false", "optional: true"))
    assert main(["check-config", "--config", str(config)]) == 0  # an optional export: a warning
    assert "NOT IN FORCE (rejected, optional)" in capsys.readouterr().out


def test_heartbeat_says_which_exports_are_in_force_and_how_old(tmp_path: Path, exports: Path) -> None:
    """The scheduled heartbeat log lists each export: state, rows, as-of date and age."""
    _empty_assignments(exports)
    config_path = _daemon_config(tmp_path, exports, optional=True)
    config_path.write_text(
        config_path.read_text() + "pipeline: {heartbeat_interval: 0.1}\njobs: {heartbeat_index: false}\n"
    )
    daemon = Daemon(load_config(config_path))
    hooks = Hooks(lambda: {"records": 0}, lambda alerts: None, daemon._reference.describe)
    with capture_logs() as logs, scheduled_jobs(daemon.config, daemon._names, daemon._activity, hooks):
        wait_until(lambda: any(e["event"] == "heartbeat" for e in logs), 10, interval=0.05)
    reference = next(e for e in logs if e["event"] == "heartbeat")["reference"]
    staff = next(r for r in reference if r["kind"] == "staff")
    assert staff["state"] == "in force"
    assert isinstance(staff["rows"], int)
    assert staff["rows"] > 0
    assert {"as_of", "age_hours"} <= set(staff)
    assert {
        "kind": "assignments",
        "source": str(exports / "assignments.csv"),
        "state": "missing (optional)",
        "rows": 0,
    } in reference


def test_an_export_whose_reader_raises_is_rejected_alone(
    cfg: ReferenceConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader bug on one export is that export's problem (named by file); the others still load."""
    from auditwatch.reference import snapshot as snapshot_module

    real = snapshot_module._load_one

    def flaky(source: SourceConfig, cfg: ReferenceConfig, fingerprint: tuple[int, int, int]) -> object:
        if source.kind == "roster":
            raise KeyError("surprise")
        return real(source, cfg, fingerprint)

    monkeypatch.setattr(snapshot_module, "_load_one", flaky)
    result = load_sources(cfg)
    assert [(s.kind, [p.message for p in found]) for s, found in result.rejected] == [
        ("roster", ["could not be loaded: KeyError: 'surprise'"])
    ]
    assert result.rejected[0][1][0].file.endswith("roster.csv")
    assert len(result.snapshot.sources) == len(cfg.sources) - 1
