"""Group keys to and from JSON, in a deterministic order, for state snapshots."""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import chain
from typing import Any, TypeVar

import orjson

V = TypeVar("V")

# Characters whose JSON form sorts differently from the character itself: those orjson escapes
# (controls, '"'), plus ' ' and '!', which sort below the closing quote that ends a shorter string.
_UNSAFE = re.compile("[\x00-\x22\x7f]").search


def key_to_json(key: tuple[object, ...]) -> tuple[object, ...]:
    return key  # orjson writes (nested) tuples as JSON arrays


def key_from_json(data: list[Any]) -> tuple[object, ...]:
    return tuple(tuple(k) if isinstance(k, list) else k for k in data)


def sorted_by_key(pairs: Iterable[tuple[tuple[object, ...], V]]) -> list[tuple[tuple[object, ...], V]]:
    """`pairs` in the byte order of their keys' JSON."""
    items = list(pairs)
    texts = _sort_texts([kv[0] for kv in items])
    if texts is None:
        return sorted(items, key=lambda kv: orjson.dumps(kv[0]))
    return [items[i] for i in sorted(range(len(items)), key=texts.__getitem__)]


def _sort_texts(keys: list[tuple[object, ...]]) -> list[str] | None:
    """Per key, a string whose order is the byte order of the key's JSON, built at C speed; None
    when the keys are not all tuples of one length whose every position holds either "safe"
    strings only or None only.

    Safe strings keep their order in JSON (UTF-8 keeps code point order; a string that is a prefix
    of another ends in '"', below every safe character); an all-None position is equal everywhere
    and is left out; the parts are joined with NUL, below every safe character, so a shorter part
    still sorts first."""
    if not keys or set(map(type, keys)) != {tuple}:
        return None
    widths = set(map(len, keys))
    if len(widths) != 1:
        return None
    width = widths.pop()
    flat = list(chain.from_iterable(keys))
    columns: list[list[str]] = []
    for j in range(width):
        column = flat[j::width]
        nones = column.count(None)
        if nones == len(column):
            continue
        if nones:
            return None
        try:
            text = "#".join(column)  # type: ignore[arg-type]  # TypeError: not all strings
        except TypeError:
            return None
        if _UNSAFE(text) is not None:
            return None
        columns.append(column)  # type: ignore[arg-type]  # all strings, checked above
    if not columns:
        return [""] * len(keys)
    if len(columns) == 1:
        return columns[0]
    return list(map("\x00".join, zip(*columns, strict=True)))
