"""How rare a surname is, 0 (very common) .. 1 (rarest), for weighing same-surname lookups.

With a configured frequency table (kind `surnames`) the count comes from it. Without one, the
count is estimated from a built-in list of common surnames in Great Britain (in rough order of
frequency, the count falling off with rank) and from the HR directory: a surname borne by k of N
staff is estimated to be borne by (k - 1) / N of the population (the user's own entry does not
count, so a surname only the user bears in HR is treated as rare unless the built-in list knows it).
Rarity = 1 - log(1 + count) / log(1 + count of the commonest surname).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Final

from auditwatch.normalise import fold_name

POPULATION: Final = 67_000_000
_TOP_COUNT: Final = 550_000.0  # bearers of the commonest surname (Smith) in GB, roughly

# Common surnames in Great Britain, most frequent first (approximate order).
_COMMON_TEXT: Final = """
Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson
Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner
Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott
Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson
Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams
Singh Begum Wilkinson Foster Chapman Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell
Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd Butler Russell Barker Fisher Stevens
Jenkins Murray Dixon Harvey Graham Pearson Ahmed Fletcher Walsh Kaur Gibson Howard Andrews
Stewart Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks West Lawrence Cole Atkinson
Bradley Spencer Gill Dawson Ball Burton O'Brien Watts Rose Booth Perry Ryan Grant Wells
Armstrong Francis Rees Hayes Hart Hudson Newman Barrett Webster Hunter Gregory Carr Lowe Page
Marsh Riley Dunn Woods Parsons Berry Stone Reid Holland Hawkins Harding Porter Robertson Newton
Oliver Reed Kennedy Williamson Bird Gardner Shah Dean Lane Cooke Bates Henderson Parry Burgess
Bishop Walton Burns Nicholson Shepherd Ross Cross Long Freeman Warren Nicholls Hamilton Byrne
Sutton McDonald Yates Hodgson Robson Curtis Hopkins O'Connor Harper Coleman Watkins Moss
McCarthy Chambers O'Neill Griffin Sharp Hardy Wheeler Potter Osborne Johnston Gordon Doyle
Wallace George Jordan Hutchinson Rowe Burke May Pritchard Gilbert Willis Higgins Read Miles
Stevenson Stephenson Hammond Arnold Buckley Walters Hewitt Barber Nelson Slater Austin Sullivan
Whitehead Mann Frost Lambert Stephens Blake Akhtar Lynch Goodwin Barton Woodward Thomson
Cunningham Quinn Barnett Baxter Bibi Clayton Nash Greenwood Jennings Holt Kemp Poole Gallagher
Bond Stokes Tucker Davidson Fowler Heath Norman Middleton Lees Banks French Jarvis Rahman Iqbal
"""
COMMON_SURNAMES: Final = tuple(_COMMON_TEXT.split())


@lru_cache(maxsize=1)
def _builtin() -> dict[str, float]:
    counts: dict[str, float] = {}
    for rank, name in enumerate(COMMON_SURNAMES, start=1):
        counts.setdefault(fold_name(name), _TOP_COUNT * rank**-0.75)
    return counts


class SurnameRarity:
    """Rarity of folded surnames, computed once per snapshot and cached per surname."""

    def __init__(
        self,
        table: Mapping[str, float] | None,
        table_max: float,
        staff_counts: Mapping[str, int],
        staff_total: int,
    ) -> None:
        self._table = table
        self._staff_counts = staff_counts
        self._staff_total = max(staff_total, 1)
        self._top = table_max if table is not None else _TOP_COUNT
        self._log_top = math.log1p(max(self._top, 1.0))
        self._cache: dict[str, float] = {}

    def estimate(self, folded: str) -> float:
        """Estimated number of bearers in the population."""
        if self._table is not None:
            return self._table.get(folded, 0.0)
        staff = self._staff_counts.get(folded, 0)
        from_staff = max(staff - 1, 0) / self._staff_total * POPULATION
        return min(max(_builtin().get(folded, 0.0), from_staff), self._top)

    def __call__(self, folded: str) -> float:
        cached = self._cache.get(folded)
        if cached is None:
            value = 1.0 - math.log1p(self.estimate(folded)) / self._log_top
            cached = round(min(max(value, 0.0), 1.0), 4)
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[folded] = cached
        return cached
