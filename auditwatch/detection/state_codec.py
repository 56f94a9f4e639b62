"""Group keys to and from JSON, in a deterministic order, for state snapshots."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import orjson

V = TypeVar("V")


def key_to_json(key: tuple[object, ...]) -> tuple[object, ...]:
    return key  # orjson writes (nested) tuples as JSON arrays


def key_from_json(data: list[Any]) -> tuple[object, ...]:
    return tuple(tuple(k) if isinstance(k, list) else k for k in data)


def sorted_by_key(pairs: Iterable[tuple[tuple[object, ...], V]]) -> list[tuple[tuple[object, ...], V]]:
    return sorted(pairs, key=lambda kv: orjson.dumps(kv[0]))
