"""Rotation order: which files of an input form one chain (a live file and its rotated copies), and
how old each is, so a chain is read oldest first: `audit.log.2.gz`, `audit.log.1`, `audit.log`.

Names give the order: a numbered suffix (`.1`, `.2.gz`: higher is older) or a date suffix
(`-20261201`, `.2026-12-01`, `-20261201-1733`: earlier is older) marks a rotated copy of the file
without it, which is the newest. A compression suffix (`.gz`) is ignored. Between files whose names
rank alike, the first event time in their content decides (see `Tailer(first_time=...)`).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import NamedTuple

_COMPRESSED = re.compile(r"\.(?:gz|bz2|xz|zst)$")
_NUMBERED = re.compile(r"^(?P<base>.+?)\.(?P<n>\d{1,6})$")
_DATED = re.compile(r"^(?P<base>.+?)[.\-_](?P<date>\d{4}-?\d{2}-?\d{2}(?:[-_T]?\d{2,6})?)$")

LIVE = (2, 0.0)  # the file rotated copies are made from: newest in its chain


class Rotation(NamedTuple):
    chain: str  # the live file's path: every file of one chain shares it
    age: tuple[int, float]  # ascending = oldest first


@lru_cache(maxsize=4096)
def rotation_of(path: str) -> Rotation:
    """The chain a path belongs to and its place in it (pure function of the name)."""
    name = _COMPRESSED.sub("", path)
    directory, base = os.path.split(name)
    numbered = _NUMBERED.match(base)
    if numbered is not None:
        return Rotation(os.path.join(directory, numbered["base"]), (1, -float(numbered["n"])))
    dated = _DATED.match(base)
    if dated is not None:
        digits = re.sub(r"\D", "", dated["date"]).ljust(14, "0")[:14]
        return Rotation(os.path.join(directory, dated["base"]), (0, float(digits)))
    return Rotation(name, LIVE)
