"""JSON lines: one object per record; nested objects are flattened to dotted keys."""

from __future__ import annotations

from typing import Any, Final

import orjson

from auditwatch.parsing.decoders import DecodeError

MAX_DEPTH = 32
# "key" -> {"inner": "key.inner"}: the dotted names of the usual two-level keys, built once (a
# cached name is hashed already, which also makes storing it cheaper); bounded, as keys are input
_JOINED: dict[str, dict[str, str]] = {}
_JOINED_LIMIT: Final = 1_000


def _flatten(obj: dict[str, Any], prefix: str, out: dict[str, Any], depth: int = 2) -> None:
    if depth > MAX_DEPTH:
        raise DecodeError(f"json: objects nested deeper than {MAX_DEPTH} levels")
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
    joined = _JOINED
    for key, value in obj.items():  # two levels inline: most audit records nest only one level
        if value.__class__ is dict:
            names = joined.get(key)
            if names is None:
                if len(joined) >= _JOINED_LIMIT:
                    joined.clear()
                names = joined[key] = {}
            for inner, leaf in value.items():
                if leaf.__class__ is dict:
                    _flatten(leaf, key + "." + inner + ".", out, 3)
                else:
                    name = names.get(inner)
                    if name is None:
                        if len(names) >= _JOINED_LIMIT:
                            names.clear()
                        name = names[inner] = key + "." + inner
                    out[name] = leaf
        else:
            out[key] = value
    return 0, out
