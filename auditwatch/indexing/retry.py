"""Retrying: capped exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff
And Jitter"), and `release`, which frees what a failed request's exception keeps alive."""

from __future__ import annotations

import random
import traceback


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


def release(exc: BaseException) -> None:
    """Drop the tracebacks of `exc` and of every exception chained to it, clearing their frames.

    A failed request's exception chain (urllib3 -> elastic_transport -> elasticsearch) forms
    reference cycles through its frames, whose locals hold the request body; with the daemon's
    frozen, high-threshold collector those cycles were never collected while Elasticsearch stayed
    unreachable (4.3 GB after 4 minutes). Without the frames the chain is freed by reference
    counting as soon as the caller lets go of `exc`."""
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        item = stack.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if item.__traceback__ is not None:
            traceback.clear_frames(item.__traceback__)  # skips frames still running (the caller's)
            item.__traceback__ = None
        stack.append(item.__cause__)
        stack.append(item.__context__)
        stack.extend(item.args)
        errors = getattr(item, "errors", ())
        if isinstance(errors, tuple | list):
            stack.extend(errors)
