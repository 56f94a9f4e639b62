"""Incremental rule state: per-key rows, each checkpoint writes only what changed, replay is exact."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from auditwatch.checkpoint import Checkpoint, CheckpointError
from auditwatch.detection import DetectionEngine, RuleSet, load_ruleset, reference_from_rows
from auditwatch.model import AccessEvent, RawLine
from auditwatch.reference.snapshot import ReferenceSnapshot, empty_reference

RULES = Path(__file__).resolve().parents[3] / "rules"


def _stream(count: int, rng: random.Random) -> list[AccessEvent]:
    """Person views (a few subjects looked at often), searches and record views by 200 users, one
    event every 4 s: ~13 hours, so hour windows fill, fire, are suppressed and expire."""
    raw = RawLine("t", "/logs/audit.log", "k", 0, 1, b"", 0)
    out = []
    for i in range(count):
        fields: dict[str, object] = {"@timestamp": "x", "user.id": f"MP{rng.randrange(200):06d}"}
        roll = rng.random()
        if roll < 0.6:
            subject = rng.randrange(40) if rng.random() < 0.3 else rng.randrange(3000)
            fields |= {"event.action": "view", "auditwatch.record.type": "person"}
            fields["auditwatch.subject.person_id"] = f"P-{subject}"
        elif roll < 0.75:
            fields |= {"event.action": "person_search", "auditwatch.search.terms": "SMI*"}
            fields["auditwatch.search.wildcard"] = rng.random() < 0.3
        else:
            fields |= {"event.action": "view", "auditwatch.record.type": rng.choice(["vehicle", "crime"])}
            fields["auditwatch.record.id"] = f"R-{rng.randrange(5000)}"
        fields |= {"event.hash": f"{i:040x}", "log.offset": i * 300}
        out.append(AccessEvent(f"e{i}", 1_767_600_000.0 + i * 4.0, fields, raw))
    return out


@pytest.fixture(scope="module")
def shipped() -> tuple[RuleSet, ReferenceSnapshot, list[AccessEvent]]:
    """The shipped rules, no reference data (nothing explained) and 12,000 events."""
    return load_ruleset(RULES), empty_reference(), _stream(12_000, random.Random(3))


def _checkpointed(
    rules: RuleSet, reference: ReferenceSnapshot, stream: list[AccessEvent], cp: Checkpoint, step: int
) -> tuple[DetectionEngine, int]:
    engine = DetectionEngine(rules, reference)
    alerts = 0
    for i in range(0, len(stream), step):
        alerts += len(engine.process(stream[i : i + step]))
        cp.commit({"f": i}, delta=engine.state_delta())
    return engine, alerts


def test_rows_rebuild_exactly_the_state_the_engine_has(tmp_path: Path, shipped) -> None:
    """Deltas committed every 500 events, read back into a new engine: same snapshot, same alerts next."""
    rules, reference, stream = shipped
    cp = Checkpoint(tmp_path / "cp.sqlite")
    first, alerts = _checkpointed(rules, reference, stream[:10_000], cp, 500)
    assert alerts > 0
    second = DetectionEngine(rules, reference)
    assert second.restore_rows(cp.rule_state()) is True
    assert second.snapshot() == first.snapshot()
    rest = stream[10_000:]
    assert [a.id for a in second.process(rest)] == [a.id for a in first.process(rest)]
    rows, size = cp.state_size()
    assert rows > 100
    assert size > 0


def test_the_log_is_compacted_into_the_rows_without_changing_the_state(tmp_path: Path, shipped) -> None:
    """With a small compaction limit the log is folded into the rows several times; the state read
    back is the engine's at every point, and the log never holds much more than the rows."""
    rules, reference, stream = shipped
    cp = Checkpoint(tmp_path / "cp.sqlite", compact_min_bytes=20_000)
    engine = DetectionEngine(rules, reference)
    folded = 0
    for i in range(0, 12_000, 400):
        engine.process(stream[i : i + 400])
        cp.commit({"f": i}, delta=engine.state_delta())
        logged = cp._db.execute("SELECT count(*) FROM state_log").fetchone()[0]
        folded += logged == 0
        if i % 4000 == 0:
            again = DetectionEngine(rules, reference)
            assert again.restore_rows(cp.rule_state())
            assert again.snapshot() == engine.snapshot()
    assert folded >= 3
    again = DetectionEngine(rules, reference)
    assert again.restore_rows(cp.rule_state())
    assert again.snapshot() == engine.snapshot()


def test_a_checkpoint_writes_only_the_keys_that_changed(tmp_path: Path, shipped) -> None:
    """After 10,000 events, a checkpoint of 20 more events writes a few rows, not the whole state."""
    rules, reference, stream = shipped
    cp = Checkpoint(tmp_path / "cp.sqlite")
    engine, _ = _checkpointed(rules, reference, stream[:10_000], cp, 1000)
    _rows, size = cp.state_size()
    engine.process(stream[10_000:10_020])
    delta = engine.state_delta()
    assert delta.cleared == ()
    assert 0 < len(delta.rows) <= 20 * 3  # at most each event's group in a few stateful rules
    assert delta.size < size / 20
    nothing = engine.state_delta()
    assert (nothing.cleared, nothing.rows) == ((), ())
    assert [name for name, _ in nothing.meta] == [""]  # the engine's watermark only


def test_removed_and_redefined_rules_are_cleared_and_rewritten(tmp_path: Path, shipped) -> None:
    """A rule dropped from the set loses its rows; a rule whose window changed is rewritten whole."""
    rules, reference, stream = shipped
    cp = Checkpoint(tmp_path / "cp.sqlite")
    engine, _ = _checkpointed(rules, reference, stream[:4000], cp, 1000)
    before = cp.rule_state()
    assert ("record-surge", "k") in before.rows
    kept = RuleSet(tuple(r for r in rules if r.id != "record-surge"), rules.lists)
    engine.replace_rules(kept)
    delta = engine.state_delta()
    assert "record-surge" in delta.cleared
    cp.commit({"f": 4000}, delta=delta)
    after = cp.rule_state()
    assert ("record-surge", "k") not in after.rows
    assert "record-surge" not in after.meta
    again = DetectionEngine(kept, reference)
    assert again.restore_rows(after)
    assert again.snapshot() == engine.snapshot()


def test_a_schema_1_checkpoint_is_migrated_and_its_blob_dropped_by_the_first_row_commit(
    tmp_path: Path,
) -> None:
    """Offsets and the old whole-state blob survive the upgrade; a commit of rows with drop removes it."""
    path = tmp_path / "cp.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE offsets (file_key TEXT PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE state (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
        CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
        INSERT INTO meta VALUES ('commits', 3);
        INSERT INTO offsets VALUES ('f', 42);
        INSERT INTO state VALUES ('detection', x'7b7d');
        PRAGMA user_version=1;
        """
    )
    db.close()
    cp = Checkpoint(path)
    assert cp.offsets() == {"f": 42}
    assert cp.state("detection") == b"{}"
    assert cp.rule_state().meta == {}
    (tmp_path / "no-rules").mkdir()
    none = load_ruleset(tmp_path / "no-rules")
    engine = DetectionEngine(none, reference_from_rows({}))
    cp.commit({"f": 50}, delta=engine.state_delta(), drop=("detection",))
    assert cp.state("detection") is None
    assert DetectionEngine(none, reference_from_rows({})).restore_rows(cp.rule_state())


def test_a_full_disk_refuses_the_commit_whole_and_says_so(tmp_path: Path, shipped) -> None:
    """SQLITE_FULL mid-commit: CheckpointError naming the file and the cause, the previous checkpoint
    intact; once there is room again the same delta commits."""
    rules, reference, stream = shipped
    cp = Checkpoint(tmp_path / "cp.sqlite")
    engine = DetectionEngine(rules, reference)
    engine.process(stream[:200])
    cp.commit({"f": 200}, delta=engine.state_delta())
    saved = cp.rule_state()
    pages = cp._db.execute("PRAGMA page_count").fetchone()[0]  # a file system out of space, in SQLite terms
    cp._db.execute(f"PRAGMA max_page_count={pages}")
    engine.process(stream[200:6000])
    delta = engine.state_delta()
    with pytest.raises(
        CheckpointError, match=r"cp\.sqlite: cannot write the checkpoint \(database or disk is full\)"
    ):
        cp.commit({"f": 6000}, delta=delta)
    assert cp.offsets() == {"f": 200}
    assert cp.rule_state() == saved
    cp._db.execute("PRAGMA max_page_count=1073741823")
    cp.commit({"f": 6000}, delta=delta)
    restored = DetectionEngine(rules, reference)
    assert restored.restore_rows(cp.rule_state())
    assert restored.snapshot() == engine.snapshot()
