"""JSON lines: one object per record; nested objects are flattened to dotted keys."""

from __future__ import annotations

from typing import Any

import orjson

from auditwatch.parsing.decoders import DecodeError

_MAX_DEPTH = 32


def _flatten(obj: dict[str, Any], prefix: str, out: dict[str, Any], depth: int = 2) -> None:
    if depth > _MAX_DEPTH:
        raise DecodeError(f"json: objects nested deeper than {_MAX_DEPTH} levels")
    for key, value in obj.items():
        if value.__class__ is dict:
            _flatten(value, prefix + key + ".", out, depth + 1)
        else:
            out[prefix + key] = value


def decode_json(text: str) -> tuple[int, dict[str, Any]]:
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"json: {exc}") from None
    if not isinstance(obj, dict):
        raise DecodeError(f"json: the record is {type(obj).__name__}, not an object")
    out: dict[str, Any] = {}
    for key, value in obj.items():  # two levels inline: most audit records nest only one level
        if value.__class__ is dict:
            prefix = key + "."
            for inner, leaf in value.items():
                if leaf.__class__ is dict:
                    _flatten(leaf, prefix + inner + ".", out, 3)
                else:
                    out[prefix + inner] = leaf
        else:
            out[key] = value
    return 0, out
