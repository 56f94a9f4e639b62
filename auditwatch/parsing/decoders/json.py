"""JSON lines: one object per record; nested objects are flattened to dotted keys."""

from __future__ import annotations

from typing import Any

import orjson

from auditwatch.parsing.decoders import DecodeError


def _flatten(obj: dict[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, value in obj.items():
        if isinstance(value, dict):
            _flatten(value, f"{prefix}{key}.", out)
        else:
            out[prefix + key] = value


def decode_json(text: str) -> tuple[int, dict[str, Any]]:
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"json: {exc}") from None
    if not isinstance(obj, dict):
        raise DecodeError(f"json: the record is {type(obj).__name__}, not an object")
    for value in obj.values():
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            _flatten(obj, "", out)
            return 0, out
    return 0, obj
