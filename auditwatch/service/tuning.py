"""The interpreter's performance switches, in one place: the loops enter `throughput()`.

The daemon's main loop and the batch path (`scan`, `backfill`) run inside `throughput()`; the stages
never touch global interpreter state. Everything it changes is put back on exit (also on error), so
a test, or a command that runs a scan and then does something else, leaves the process as it found it.

The cyclic garbage collector. Reference tables and compiled config are millions of long-lived
objects, and events, alerts and rule state make no reference cycles:

- on entry, one full collection, then `gc.freeze()` (everything alive moves to the permanent
  generation, which collections never scan) and a young-generation threshold of 100,000
  allocations instead of 700 (measured 20-35 % more throughput on the parsing path);
- `settle()` freezes again once new long-lived objects exist (a reference reload);
- `batch()` pauses the collector while one batch is detected or the rule state is serialised: a
  collection in the middle of it would cost about half its time and find nothing to free;
- on exit, the thresholds, the frozen objects (unfrozen unless they already were) and whether the
  collector was enabled are restored.

`collector_paused()` outside the loop: the daemon's first reference load runs under it. The load builds
millions of long-lived objects and no cycles; with the collector on, its full collections rescan all
that was built so far, about a fifth of the load's time (measured at 50k staff / 2M persons), to free
nothing.

Packrat parsing (pyparsing's memo) is not a loop setting: only the rule condition grammar needs it,
so it is switched on while a condition is parsed (`detection.grammar`) and off again after.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: young-generation threshold 100k allocations; the older generations as CPython's defaults scale
THRESHOLDS = (100_000, 50, 100)


class Throughput:
    """What the loop calls inside `throughput()`."""

    __slots__ = ()

    def settle(self) -> None:
        """New long-lived objects exist (reference tables reloaded): keep collections off them."""
        gc.freeze()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """The collector paused for one batch (or one state serialisation), as it was after."""
        with collector_paused():
            yield


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off inside the scope; on again after it if it was on before."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def throughput() -> Iterator[Throughput]:
    """The collector tuned for a long run over many batches; restored as it was on exit."""
    thresholds = gc.get_threshold()
    enabled = gc.isenabled()
    already_frozen = gc.get_freeze_count() > 0
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    try:
        yield Throughput()
    finally:
        gc.set_threshold(*thresholds)
        if not already_frozen:
            gc.unfreeze()
        if enabled:
            gc.enable()
        else:
            gc.disable()
