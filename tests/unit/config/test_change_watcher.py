"""One change watcher for rules and reference exports: the signature poll decides, watchdog only wakes."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest
from structlog.testing import capture_logs
from watchdog.observers.api import BaseObserver

from auditwatch.config.daemon import load_config
from auditwatch.daemon import Daemon
from auditwatch.detection.testing import RULE_HEADER
from auditwatch.reference import ReferenceConfig, ReferenceHolder, SourceConfig
from auditwatch.sources.changes import ChangeWatcher, files_signature
from auditwatch.testing import hostile
from auditwatch.testing.waiting import wait_until

REPO = Path(__file__).resolve().parents[3]
HR = "staff_id,surname,status\nMP000001,Reid,active\n"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class InotifyLimitObserver(BaseObserver):
    """An observer that fails like inotify does when the per-user instance limit is reached."""

    def __init__(self) -> None:
        super().__init__(emitter_class=object)  # type: ignore[arg-type]  # never emits

    def schedule(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        raise OSError(errno.EMFILE, "inotify instance limit reached")


def _holder(tmp_path: Path, poll: float = 5.0, debounce: float = 0.0) -> ReferenceHolder:
    hr = tmp_path / "hr.csv"
    hr.write_text(HR)
    source = SourceConfig(kind="staff", path=str(hr))
    cfg = ReferenceConfig(sources=(source,), reload_poll_seconds=poll, reload_debounce_seconds=debounce)
    holder = ReferenceHolder(cfg)
    holder.reload()
    return holder


def _rewrite(path: Path, text: str) -> None:
    """Rewrite in place keeping size and mtime second: only the ns mtime (or inode) can tell."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def test_without_watchdog_a_changed_export_is_picked_up_by_the_poll(tmp_path: Path) -> None:
    """No inotify (NFS/CIFS, or watchdog disabled): the reload comes at the next poll, not before."""
    holder = _holder(tmp_path)
    clock = FakeClock()
    watcher = ChangeWatcher(use_watchdog=False, clock=clock)
    holder.watch(watcher)
    first = holder.current
    _rewrite(tmp_path / "hr.csv", HR.replace("active", "suspended"))
    clock.now += 1.0
    assert watcher.check() == pytest.approx(4.0)
    assert holder.current is first  # not due yet: nothing woke the watcher
    clock.now += 4.0
    watcher.check()
    assert holder.current is not first
    assert holder.current.staff[0].rows == 1


def test_debounce_waits_until_the_files_are_quiet(tmp_path: Path) -> None:
    """A file still being written is not read: the reload waits for `debounce` seconds without change."""
    holder = _holder(tmp_path, poll=1.0, debounce=2.0)
    reloads: list[float] = []
    clock = FakeClock()
    watcher = ChangeWatcher(use_watchdog=False, clock=clock)
    watcher.add(
        "reference",
        lambda: files_signature([tmp_path / "hr.csv"]),
        [tmp_path],
        lambda: reloads.append(clock.now),
        poll=1.0,
        debounce=2.0,
    )
    _rewrite(tmp_path / "hr.csv", HR + "MP000002,Khan,active\n")
    for step in (1.0, 1.0):  # seen at 1001; still settling at 1002
        clock.now += step
        watcher.check()
    _rewrite(tmp_path / "hr.csv", HR + "MP000002,Khan,active\nMP000003,Lee,active\n")
    for _ in range(6):
        clock.now += 1.0
        watcher.check()
    assert reloads == [1005.0]  # changed again at 1003, quiet for 2 s at 1005
    assert holder.current is not None


def test_inotify_failure_at_start_is_logged_and_polling_goes_on(tmp_path: Path) -> None:
    """An inotify limit when the watcher starts does not propagate: a warning, then polling finds changes."""
    holder = _holder(tmp_path, poll=0.05)
    watcher = ChangeWatcher(observer_factory=InotifyLimitObserver)
    holder.watch(watcher)
    first = holder.current
    with capture_logs() as logs:
        watcher.start()
        try:
            assert watcher.watchdog_active is False
            _rewrite(tmp_path / "hr.csv", HR.replace("active", "left"))
            wait_until(lambda: holder.current is not first, 10, interval=0.02, what="a reload")
        finally:
            watcher.stop()
    assert holder.current is not first
    warnings = [e for e in logs if e["event"] == "watchdog_unavailable_polling"]
    assert warnings
    assert "inotify instance limit reached" in warnings[0]["error"]


def test_a_failing_reload_is_logged_and_watching_continues(tmp_path: Path) -> None:
    """A callback that raises is logged with the set's name; the next change is still reloaded."""
    calls: list[int] = []

    def flaky() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")

    clock = FakeClock()
    watcher = ChangeWatcher(use_watchdog=False, clock=clock)
    target = tmp_path / "x.yml"
    target.write_text("a: 1\n")
    watcher.add("rules", lambda: files_signature([target]), [tmp_path], flaky, poll=1.0)
    with capture_logs() as logs:
        target.write_text("a: 22\n")
        clock.now += 1.0
        watcher.check()
        target.write_text("a: 333\n")
        clock.now += 1.0
        watcher.check()
    assert len(calls) == 2
    assert [e["watched"] for e in logs if e["event"] == "reload_failed"] == ["rules"]


def test_request_reloads_now_without_a_change(tmp_path: Path) -> None:
    """SIGHUP's request reloads the named set on the next round, changed or not."""
    calls: list[str] = []
    watcher = ChangeWatcher(use_watchdog=False, clock=FakeClock())
    watcher.add("rules", lambda: (), [tmp_path], lambda: calls.append("rules"), poll=60.0)
    watcher.add("reference", lambda: (), [tmp_path], lambda: calls.append("reference"), poll=60.0)
    watcher.check()
    watcher.request("rules")
    watcher.check()
    watcher.request()
    watcher.check()
    assert calls == ["rules", "rules", "reference"]


def _daemon(tmp_path: Path) -> Daemon:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "good.yml").write_text(RULE_HEADER.format(id="good") + 'condition: user.id == "MP000001"\n')
    config = tmp_path / "auditwatch.yml"
    config.write_text(
        f"inputs: [{{name: rms, paths: ['{tmp_path}/rms.jsonl'], parser: rms_json}}]\n"
        f"parsers_dir: {REPO / 'parsers'}\nrules_dir: {rules}\nstate_dir: {tmp_path / 'state'}\n"
        "elasticsearch: {hosts: ['http://127.0.0.1:9']}\n"
    )
    return Daemon(load_config(config))


@pytest.mark.parametrize("bad", hostile.every_hostile_file(), ids=lambda h: h.name)
def test_a_hostile_rule_file_on_reload_is_refused_with_file_and_line(
    tmp_path: Path, bad: hostile.HostileFile
) -> None:
    """The daemon's reload refuses each hostile file, naming file:line, within a second; rules stay."""
    # one good rule beside it, so the time measured is the refusal, not loading the shipped rules
    daemon = _daemon(tmp_path)
    before = daemon._ruleset
    (tmp_path / "rules" / bad.name).write_text(bad.text)
    with capture_logs() as logs:
        started = time.perf_counter()
        assert daemon.reload_rules() is False
        elapsed = time.perf_counter() - started
    rejected = [e for e in logs if e["event"] == "rules_reload_rejected"]
    assert any(p.startswith(f"{tmp_path / 'rules' / bad.name}:{bad.line}:") for p in rejected[0]["problems"])
    assert daemon._pending_rules is None
    assert daemon._ruleset is before
    assert elapsed < 1.0


def test_any_exception_in_a_rule_reload_keeps_the_running_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even an error that is not a ConfigError (a loader bug, memory) is logged and the old rules kept."""
    daemon = _daemon(tmp_path)

    def broken(*_args: object) -> object:
        raise MemoryError("simulated")

    monkeypatch.setattr("auditwatch.daemon.load_ruleset", broken)
    with capture_logs() as logs:
        assert daemon.reload_rules() is False
    failed = [e for e in logs if e["event"] == "rules_reload_failed"]
    assert failed[0]["rules_dir"] == str(tmp_path / "rules")
    assert failed[0]["kept"] == "previous rule set"
    assert daemon._pending_rules is None
