"""The loops' performance switches (service/tuning.py): set inside the scope, put back after it."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator

import pyparsing as pp
import pytest

from auditwatch.detection import grammar
from auditwatch.detection.grammar import parse_condition
from auditwatch.service.tuning import THRESHOLDS, collector_paused, throughput


@pytest.fixture(autouse=True)
def _collector_as_found() -> Iterator[None]:
    thresholds, enabled, frozen = gc.get_threshold(), gc.isenabled(), gc.get_freeze_count()
    yield
    gc.set_threshold(*thresholds)
    if not frozen:
        gc.unfreeze()
    (gc.enable if enabled else gc.disable)()


def test_throughput_tunes_the_collector_and_restores_it() -> None:
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    with throughput():
        assert gc.get_threshold() == THRESHOLDS
        assert gc.get_freeze_count() > 0  # what was alive on entry is out of the collector's way
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()


def test_throughput_restores_on_error_and_keeps_what_was_frozen_before() -> None:
    gc.freeze()
    before = gc.get_freeze_count()
    gc.set_threshold(500, 5, 5)
    gc.disable()
    with pytest.raises(RuntimeError), throughput():
        raise RuntimeError("the loop failed")
    assert gc.get_threshold() == (500, 5, 5)
    assert gc.get_freeze_count() >= before > 0  # frozen by someone else: left frozen
    assert not gc.isenabled()


def test_settle_freezes_what_was_built_since() -> None:
    with throughput() as tuned:
        frozen = gc.get_freeze_count()
        kept = [[i] for i in range(1000)]  # a reloaded reference table
        tuned.settle()
        assert gc.get_freeze_count() >= frozen + len(kept)


def test_batch_pauses_the_collector_and_restores_it_also_on_error() -> None:
    gc.enable()
    with throughput() as tuned:
        with tuned.batch():
            assert not gc.isenabled()
        assert gc.isenabled()
        with pytest.raises(ValueError, match="a batch failed"), tuned.batch():
            raise ValueError("a batch failed")
        assert gc.isenabled()
        gc.disable()
        with tuned.batch():
            assert not gc.isenabled()
        assert not gc.isenabled()  # it was off before the batch: stays off
        gc.enable()


def test_collector_paused_outside_the_loop_restores_it_also_on_error() -> None:
    gc.enable()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError, match="a load failed"), collector_paused():
        raise ValueError("a load failed")
    assert gc.isenabled()
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
    gc.enable()


def test_importing_the_grammar_leaves_packrat_off() -> None:
    code = "import pyparsing as pp, auditwatch.detection; print(pp.ParserElement._packratEnabled)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_packrat_is_on_only_while_a_condition_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    real = grammar.condition

    class Spy:
        def parse_string(self, text: str, parse_all: bool) -> pp.ParseResults:
            seen.append(pp.ParserElement._packratEnabled)
            result: pp.ParseResults = real.parse_string(text, parse_all=parse_all)
            return result

    monkeypatch.setattr(grammar, "condition", Spy())
    was = pp.ParserElement._packratEnabled
    try:
        pp.ParserElement.disable_memoization()
        parse_condition("event.action == view and (user.id == 'a' or not user.id == 'b')")
        assert seen == [True]
        assert not pp.ParserElement._packratEnabled
        pp.ParserElement.enable_packrat()
        parse_condition("event.action == view")
        assert pp.ParserElement._packratEnabled  # switched on by someone else: left on
    finally:
        if not was:
            pp.ParserElement.disable_memoization()
