"""Columnar storage (compact.py) against plain dicts, and a reload that swaps in each large export as it
is rebuilt (the old version no longer held) while keeping the identity index when it can."""

from __future__ import annotations

import os
import random
from pathlib import Path

from auditwatch.reference import ReferenceConfig, ReferenceHolder, ReferenceSnapshot, load_sources
from auditwatch.reference.compact import (
    HINT_MAX,
    CodedColumn,
    KeyIndex,
    PairLists,
    TextColumn,
    expected_rows,
)
from auditwatch.reference.groups import HashGroups


def _keys(count: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    # short, long, non-ASCII and empty-looking keys; duplicates on purpose
    pool = [f"P{rng.randrange(count):07d}" for _ in range(count)]
    return [*pool, "Ünïcødé-1", "x" * 300, " ", "P0000001"]


def test_key_index_finds_every_key_and_reports_duplicates_as_a_dict_would() -> None:
    keys = TextColumn()
    index = KeyIndex(keys)  # no size hint: it grows from its smallest table
    first_row: dict[str, int] = {}
    for key in _keys(5000):
        keys.append(key)
        earlier = index.add(key)
        if key in first_row:
            assert earlier == first_row[key]
            keys.pop()
        else:
            assert earlier == -1
            first_row[key] = len(keys) - 1
    index.finish()
    assert len(keys) == len(first_row)
    assert all(index.find(key) == row and keys.get(row) == key for key, row in first_row.items())
    assert index.find("P9999999") == -1
    assert index.find("") == -1


def test_hash_groups_list_rows_per_computed_key_in_the_order_added() -> None:
    names = ["smith|jane|1990-01-01", "brown|sean|1988-02-03", "smith|jane|1990-01-01", "jones|al|2000-05-05"]
    aliases = {3: ["brown|sean|1988-02-03"]}  # row 3 also bears row 1's key

    def keys_of(row: int) -> list[str]:
        return [names[row], *aliases.get(row, [])]

    groups = HashGroups()
    for row, key in enumerate(names):
        groups.add(key, row, keys_of)
    groups.add("brown|sean|1988-02-03", 3, keys_of)
    groups.add("brown|sean|1988-02-03", 3, keys_of)  # a row is listed once per key
    assert groups.rows("smith|jane|1990-01-01", keys_of) == [0, 2]
    assert groups.rows("brown|sean|1988-02-03", keys_of) == [1, 3]
    assert groups.rows("jones|al|2000-05-05", keys_of) == [3]
    assert groups.rows("nobody|at|all", keys_of) == []


def test_pair_lists_match_a_dict_of_flat_tuples() -> None:
    rng = random.Random(5)
    cases = [f"CR/{i:04d}" for i in range(50)]
    roles = ["", "victim", "suspect"]
    expected: dict[str, tuple[str, ...]] = {}
    pairs = PairLists(cases, roles, expected=10)  # a low hint: it must grow
    for _ in range(3000):
        key, case, role = f"P{rng.randrange(400)}", rng.randrange(50), rng.randrange(3)
        pairs.add(key, case, role)
        expected[key] = (*expected.get(key, ()), cases[case], roles[role])
    pairs.finish()
    assert dict(pairs) == expected
    assert sorted(pairs) == sorted(expected)
    assert pairs.get("P-none") is None
    assert "P-none" not in pairs


def test_coded_columns_share_values_and_shrink_their_codes() -> None:
    column: CodedColumn[str] = CodedColumn()
    for value in ["a", None, "b", "a"]:
        column.append(value)
    column.finish()
    assert [column.get(i) for i in range(4)] == ["a", None, "b", "a"]
    assert column.codes.typecode == "H"  # three distinct values fit in two bytes


def _rewrite(path: Path) -> None:
    """Same content, a new file version (what a nightly export job does)."""
    later = path.stat().st_mtime + 60
    os.utime(path, (later, later))


def test_a_reload_publishes_each_large_export_as_it_is_rebuilt(exports: Path, cfg: ReferenceConfig) -> None:
    first = load_sources(cfg).snapshot
    for name in ("hr.csv", "assignments.csv", "case_links.csv", "roster.csv"):
        _rewrite(exports / name)
    published: list[ReferenceSnapshot] = []
    result = load_sources(cfg, first, publish=published.append)
    kinds = [{s.table.kind: s.table for s in snap.sources} for snap in published]
    old = {s.table.kind: s.table for s in first.sources}
    new = {s.table.kind: s.table for s in result.snapshot.sources}
    # one snapshot per large export rebuilt, each holding it new and the ones not yet reloaded old
    assert len(published) == 3
    assert [k["assignments"] is new["assignments"] for k in kinds] == [True, True, True]
    assert [k["case_links"] is new["case_links"] for k in kinds] == [False, True, True]
    assert [k["roster"] is new["roster"] for k in kinds] == [False, False, True]
    assert all(k["case_links"] is old["case_links"] for k in kinds[:1])
    # the small exports (HR here) load first and go out with the first publication
    assert kinds[0]["staff"] is new["staff"] is not old["staff"]
    assert [s.table.kind for s in result.snapshot.sources] == [s.table.kind for s in first.sources]
    assert result.warnings == load_sources(cfg).warnings


def test_the_identity_index_is_reused_when_its_tables_are(exports: Path, cfg: ReferenceConfig) -> None:
    holder = ReferenceHolder(cfg)
    holder.reload()
    before = holder.current
    _rewrite(exports / "case_links.csv")
    holder.reload()
    assert holder.current is not before
    assert holder.current.identity is before.identity
    assert holder.current.rarity is before.rarity
    _rewrite(exports / "hr.csv")
    holder.reload()
    assert holder.current.identity is not before.identity


def test_a_crafted_size_hint_reserves_no_more_than_the_cap(tmp_path: Path) -> None:
    """A newline-dense head on a huge (sparse) file promises billions of rows; the hint is capped, so
    the indexes sized from it stay small, and real rows beyond it still grow them."""
    path = tmp_path / "persons.csv"
    with path.open("wb") as f:
        f.write(b"\n" * 65536)
        f.truncate(1 << 40)  # 1 TiB, sparse: no disk used
    assert expected_rows(str(path)) == HINT_MAX
    assert len(KeyIndex(TextColumn(), expected_rows(str(path))).slots) <= 4 * HINT_MAX
