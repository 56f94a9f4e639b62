"""Backoff: full jitter below an exponentially growing, capped ceiling."""

from __future__ import annotations

import random

import pytest

from auditwatch.indexing.retry import Backoff


def test_ceiling_doubles_then_caps() -> None:
    """min(max, initial * 2**n), also for absurdly many attempts."""
    b = Backoff(0.5, 30.0)
    assert [b.ceiling(n) for n in range(8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert b.ceiling(10_000) == 30.0


def test_delays_are_jittered_within_the_ceiling() -> None:
    """Draws spread over [0, ceiling] instead of all retrying at the same instant."""
    b = Backoff(1.0, 8.0, random.Random(7))
    draws = [b.delay(3) for _ in range(500)]
    assert all(0.0 <= d <= 8.0 for d in draws)
    assert min(draws) < 1.0
    assert max(draws) > 7.0


def test_rejects_nonsense_bounds() -> None:
    """A maximum below the initial delay is a programming error."""
    with pytest.raises(ValueError, match="initial"):
        Backoff(2.0, 1.0)
