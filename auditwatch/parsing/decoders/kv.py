"""key=value records: configurable separators, quoted values with backslash escapes."""

from __future__ import annotations

import re
from typing import Any

from auditwatch.parsing.decoders import DecodeError, Decoder

_ESCAPE = re.compile(r"\\(.)")


def kv_decoder(value_separator: str = "=", pair_separator: str = " ", quotes: str = "\"'") -> Decoder:
    sep = re.escape(value_separator)
    pair = r"\s+" if pair_separator.isspace() else rf"\s*{re.escape(pair_separator)}\s*"
    quoted = "|".join(rf"{re.escape(q)}(?:[^{re.escape(q)}\\]|\\.)*{re.escape(q)}" for q in quotes)
    plain = rf"(?:(?!{pair})[^\s])*" if not pair_separator.isspace() else r"\S*"
    value = f"(?:{quoted})|{plain}" if quotes else plain
    pair_rx = re.compile(rf"([^\s{sep}]+){sep}({value})(?:{pair}|\s*$)", re.DOTALL)
    quote_chars = frozenset(quotes)

    def decode_kv(text: str) -> tuple[int, dict[str, Any]]:
        out: dict[str, Any] = {}
        pos = len(text) - len(text.lstrip())
        end = len(text.rstrip())
        if end == 0:
            raise DecodeError("kv: empty record")
        while pos < end:
            match = pair_rx.match(text, pos)
            if match is None:
                raise DecodeError(f"kv: expected key{value_separator}value at column {pos + 1}")
            key, val = match.group(1), match.group(2)
            if val and val[0] in quote_chars and len(val) >= 2 and val[-1] == val[0]:
                val = val[1:-1]
                if "\\" in val:
                    val = _ESCAPE.sub(r"\1", val)
            out[key] = val
            pos = match.end()
        return 0, out

    return decode_kv
