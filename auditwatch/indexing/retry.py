"""Capped exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter")."""

from __future__ import annotations

import random


class Backoff:
    """Delay before retry `attempt` (0-based): uniform in [0, min(maximum, initial * 2**attempt)]."""

    def __init__(self, initial: float, maximum: float, rng: random.Random | None = None) -> None:
        if initial <= 0 or maximum < initial:
            raise ValueError("need 0 < initial <= maximum")
        self.initial = initial
        self.maximum = maximum
        self._rng = rng if rng is not None else random.Random()

    def ceiling(self, attempt: int) -> float:
        """The largest delay `attempt` may draw."""
        return min(self.maximum, self.initial * 2.0 ** min(attempt, 62))

    def delay(self, attempt: int) -> float:
        return self._rng.uniform(0.0, self.ceiling(attempt))
