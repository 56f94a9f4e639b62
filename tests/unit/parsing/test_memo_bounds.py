"""The per-value memo caches keep only short values: a stream of long crafted values (up to
max_line_bytes each) must not be held MEMO_LIMIT times over. Long values are still computed."""

from __future__ import annotations

from typing import Any

from auditwatch import normalise
from auditwatch.normalise import MEMO_KEY_MAX
from auditwatch.parsing.mapping import FieldError
from auditwatch.parsing.specialise import _memo_fill


def _cache_of(function: Any) -> dict[str, Any]:
    cells = [c.cell_contents for c in function.__closure__ or () if isinstance(c.cell_contents, dict)]
    assert len(cells) == 1
    return cells[0]


def test_a_memoised_normaliser_keeps_short_values_only() -> None:
    cached = normalise._memo(str.upper)
    cache = _cache_of(cached)
    assert cached("ab") == "AB"
    long = "x" * (MEMO_KEY_MAX + 1)
    assert cached(long) == long.upper()
    assert set(cache) == {"ab"}


def test_the_generated_mapping_memo_keeps_short_values_only() -> None:
    def getter(text: str, _reference: float) -> Any:
        if text == "bad":
            raise FieldError("bad value")
        return len(text)

    cache: dict[str, tuple[Any, ...]] = {}
    fill = _memo_fill(cache, (getter,))
    assert fill("abc") == (3,)
    long = "y" * (MEMO_KEY_MAX + 1)
    assert fill(long) == (MEMO_KEY_MAX + 1,)
    assert fill("bad")[0].reason == "bad value"
    assert set(cache) == {"abc", "bad"}
