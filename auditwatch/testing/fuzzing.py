"""Hypothesis settings and strategies shared by the property tests (parsers, patterns, conditions).

The suite runs a short, deterministic version; ``deploy/dev/fuzz.sh`` (or the environment variable
``AUDITWATCH_FUZZ_EXAMPLES=N``) runs the same properties with N random examples each.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Final

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

_EXAMPLES: Final = os.environ.get("AUDITWATCH_FUZZ_EXAMPLES")

#: per-test settings: 200 deterministic examples in the suite, N random ones in the long fuzz; the
#: deadline is a generous safety bound per input (a backtracking regex takes seconds to hours)
PROPERTY: Final = settings(
    max_examples=int(_EXAMPLES) if _EXAMPLES else 200,
    deadline=timedelta(seconds=1),
    derandomize=_EXAMPLES is None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


def mutated(seeds: list[str], alphabet: str) -> st.SearchStrategy[str]:
    """Lines made from a good line by edits that find backtracking: a piece of structural
    characters repeated many times spliced in, characters replaced, the line cut."""

    @st.composite
    def build(draw: st.DrawFn) -> str:
        line = draw(st.sampled_from(seeds))
        for _ in range(draw(st.integers(1, 3))):
            where = draw(st.integers(0, len(line)))
            kind = draw(st.sampled_from(["repeat", "insert", "replace", "cut"]))
            if kind == "repeat":
                piece = draw(st.text(alphabet=alphabet, min_size=1, max_size=4))
                line = line[:where] + piece * draw(st.integers(1, 3000)) + line[where:]
            elif kind == "insert":
                line = line[:where] + draw(st.text(alphabet=alphabet, max_size=8)) + line[where:]
            elif kind == "replace" and line:
                end = min(len(line), where + draw(st.integers(1, 8)))
                line = line[:where] + draw(st.text(alphabet=alphabet, max_size=8)) + line[end:]
            else:
                line = line[:where]
        return line

    return build()
