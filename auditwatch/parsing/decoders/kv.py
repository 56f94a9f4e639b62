"""key=value records: configurable separators, quoted values with backslash escapes.

With the default blank pair separator a plain value runs to the next blank; with another pair
separator (``;``) it runs to that separator and is trimmed, so it may contain blanks.
"""

from __future__ import annotations

import re
from typing import Any

from auditwatch.parsing.decoders import DecodeError, Decoder

_ESCAPE = re.compile(r"\\(.)")


def kv_decoder(
    value_separator: str = "=", pair_separator: str = " ", quotes: str = "\"'", *, fast: bool = True
) -> Decoder:
    """The decoder; `fast=False` (tests only) always takes the pair-by-pair loop."""
    sep = re.escape(value_separator)
    blank_pairs = pair_separator.isspace()
    literal_pair = re.escape(pair_separator.strip() or pair_separator)
    pair = r"\s+" if blank_pairs else rf"\s*{literal_pair}\s*"
    # a quoted value: the unrolled form of (?:[^"\\]|\\.)* (the same strings, no alternation per character)
    bodies = [rf"[^{re.escape(q)}\\]*(?:\\.[^{re.escape(q)}\\]*)*" for q in quotes]
    quoted = "|".join(rf"{re.escape(q)}{body}{re.escape(q)}" for q, body in zip(quotes, bodies, strict=True))
    plain = r"\S*" if blank_pairs else rf"(?:(?!{literal_pair}).)*?"
    if quotes:  # an opening quote must be closed: an unquoted value cannot start with one
        plain = f"(?![{re.escape(quotes)}]){plain}"
    value = f"(?:{quoted})|{plain}" if quotes else plain
    key = rf"[^\s{sep}{literal_pair if not blank_pairs else ''}]+"
    around = "" if blank_pairs else r"\s*"  # blanks around the separator only when blanks don't split pairs
    pair_rx = re.compile(rf"({key}){around}{sep}{around}({value})(?:{pair}|\s*$)", re.DOTALL)
    opening = re.compile(rf"({key}){around}{sep}{around}[{re.escape(quotes)}]") if quotes else None
    quote_chars = frozenset(quotes)
    # Fast path: one C-level check that the whole record is a run of pairs, then one findall. A pair
    # can be read only one way, so this is exactly what the pair-by-pair loop below reads.
    bare_pair = rf"{key}{around}{sep}{around}(?:{value})(?:{pair}|\s*$)"  # no groups: a cheaper check
    whole = re.compile(rf"\s*(?:{bare_pair})+", re.DOTALL).fullmatch
    findall = pair_rx.findall
    # blank-separated pairs without backslashes: the same pairs with each quoted value's inside in a
    # group of its own, so a pair's value is the one group that matched (the others are empty)
    split_values = None
    if blank_pairs:
        inside = "".join(
            f"|{re.escape(q)}({body}){re.escape(q)}" for q, body in zip(quotes, bodies, strict=True)
        )
        split_rx = re.compile(
            rf"({key}){sep}(?:{inside[1:]}{'|' if quotes else ''}({plain}))(?:\s+|\s*$)", re.DOTALL
        )
        split_values = split_rx.findall
    escape = _ESCAPE.sub

    def decode_kv(text: str) -> tuple[int, dict[str, Any]]:
        if fast and whole(text) is not None:
            if split_values is not None and "\\" not in text:
                return 0, {pair[0]: "".join(pair[1:]) for pair in split_values(text)}
            out = dict(findall(text))
            for name, val in out.items():
                if val and val[0] in quote_chars and len(val) >= 2 and val[-1] == val[0]:
                    inner = val[1:-1]
                    out[name] = escape(r"\1", inner) if "\\" in inner else inner
                elif not blank_pairs:
                    out[name] = val.strip()
            return 0, out
        return 0, pairs(text)

    def pairs(text: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        pos = len(text) - len(text.lstrip())
        end = len(text.rstrip())
        if end == 0:
            raise DecodeError("kv: empty record")
        while pos < end:
            match = pair_rx.match(text, pos)
            if match is None:
                unclosed = opening.match(text, pos) if opening is not None else None
                if unclosed is not None:
                    raise DecodeError(
                        f"kv: the quoted value of '{unclosed.group(1)}' at column {pos + 1} is not closed"
                    )
                raise DecodeError(f"kv: expected key{value_separator}value at column {pos + 1}")
            name, val = match.group(1), match.group(2)
            if val and val[0] in quote_chars and len(val) >= 2 and val[-1] == val[0]:
                val = val[1:-1]
                if "\\" in val:
                    val = _ESCAPE.sub(r"\1", val)
            elif not blank_pairs:
                val = val.strip()
            out[name] = val
            pos = match.end()
        return out

    return decode_kv
