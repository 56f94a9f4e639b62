"""key=value records: configurable separators, quoted values with backslash escapes.

With the default blank pair separator a plain value runs to the next blank; with another pair
separator (``;``) it runs to that separator and is trimmed, so it may contain blanks.

Strict (the default): a key or an unquoted value that contains a quote character (``user=MP1"23``)
and a key given twice are `DecodeError`s; lenient (``lenient=True``) reads such a value as it
stands and keeps the last of repeated keys. Control characters are refused before any decoder
runs (`auditwatch.parsing.runtime`). Every regex here is linear-time (possessive runs; checked by
`auditwatch.regexsafety` in the tests).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from auditwatch.parsing.decoders import DecodeError, Decoder

_ESCAPE = re.compile(r"\\(.)")


class KvRegexes(NamedTuple):
    pair: re.Pattern[str]  # one pair: (key, raw value)
    whole: re.Pattern[str]  # the whole record as a run of pairs (no groups)
    split: re.Pattern[str] | None  # blank-separated pairs: (key, one group per quote, plain value)
    opening: re.Pattern[str] | None  # a pair whose value opens a quote (to word the dead letter)
    plain_is_run: bool  # blank-separated pairs (a plain value is a run of non-blanks)


def kv_regexes(value_separator: str, pair_separator: str, quotes: str, lenient: bool) -> KvRegexes:
    """The decoder's regexes, compiled once per parser (all linear-time: possessive runs)."""
    sep = re.escape(value_separator)
    blank_pairs = pair_separator.isspace()
    literal = pair_separator.strip() or pair_separator
    literal_pair = re.escape(literal)
    # the end of a pair: the separator, or the end of the record (blanks around it possessive: a value
    # never ends in blanks it could give back, so a failing record costs one pass)
    end_of_pair = r"(?:\s++|$)" if blank_pairs else rf"\s*+(?:{literal_pair}\s*+|$)"
    # a quoted value: the unrolled form of (?:[^"\\]|\\.)* (the same strings, no alternation per character)
    bodies = [rf"[^{re.escape(q)}\\]*+(?:\\.[^{re.escape(q)}\\]*+)*+" for q in quotes]
    quoted = "|".join(rf"{re.escape(q)}{body}{re.escape(q)}" for q, body in zip(quotes, bodies, strict=True))
    no_quote = "" if lenient or not quotes else re.escape(quotes)
    if blank_pairs:
        plain = rf"[^\s{no_quote}]*+"
    else:  # runs to the pair separator (trimmed afterwards), so it may hold blanks
        first = re.escape(literal[0])
        rest = rf"(?!{literal_pair}){first}" if len(literal) > 1 else "(?!)"
        plain = rf"[^{first}{no_quote}]*+(?:{rest}[^{first}{no_quote}]*+)*+"
    if quotes:  # an opening quote must be closed: an unquoted value cannot start with one
        plain = f"(?![{re.escape(quotes)}]){plain}"
    value = f"(?:{quoted})|{plain}" if quotes else plain
    key = rf"[^\s{sep}{literal_pair if not blank_pairs else ''}{no_quote}]++"
    around = "" if blank_pairs else r"\s*+"  # blanks around the separator only when blanks don't split pairs
    pair_rx = re.compile(rf"({key}){around}{sep}{around}({value}){end_of_pair}", re.DOTALL)
    opening = re.compile(rf"({key}){around}{sep}{around}[{re.escape(quotes)}]") if quotes else None
    bare_pair = rf"{key}{around}{sep}{around}(?:{value}){end_of_pair}"  # no groups: a cheaper check
    whole = re.compile(rf"\s*+(?:{bare_pair})++", re.DOTALL)
    split_rx = None
    if blank_pairs:
        inside = "".join(
            f"|{re.escape(q)}({body}){re.escape(q)}" for q, body in zip(quotes, bodies, strict=True)
        )
        split_rx = re.compile(
            rf"({key}){sep}(?:{inside[1:]}{'|' if quotes else ''}({plain})){end_of_pair}", re.DOTALL
        )
    return KvRegexes(pair_rx, whole, split_rx, opening, blank_pairs)


def kv_decoder(
    value_separator: str = "=",
    pair_separator: str = " ",
    quotes: str = "\"'",
    *,
    lenient: bool = False,
    fast: bool = True,
) -> Decoder:
    """The decoder; `fast=False` (tests only) always takes the pair-by-pair loop."""
    pair_rx, whole_rx, split_rx, opening, blank_pairs = kv_regexes(
        value_separator, pair_separator, quotes, lenient
    )
    no_quote = bool(quotes) and not lenient
    quote_chars = frozenset(quotes)
    # Fast path: one C-level check that the whole record is a run of pairs, then one findall. A pair
    # can be read only one way, so this is exactly what the pair-by-pair loop below reads.
    whole = whole_rx.fullmatch
    findall = pair_rx.findall
    # blank-separated pairs without backslashes: the same pairs with each quoted value's inside in a
    # group of its own, so a pair's value is the one group that matched (the others are empty)
    split_values = split_rx.findall if split_rx is not None else None
    escape = _ESCAPE.sub

    def unique(text: str, out: dict[str, Any], count: int) -> dict[str, Any]:
        if len(out) == count or lenient:
            return out
        seen: set[str] = set()
        for match in pair_rx.finditer(text):
            if match.group(1) in seen:
                raise DecodeError(f"kv: the key '{match.group(1)}' is given twice")
            seen.add(match.group(1))
        return out  # not reached: `count` pairs and fewer keys means a repeat

    def decode_kv(text: str) -> tuple[int, dict[str, Any]]:
        if fast and whole(text) is not None:
            if split_values is not None and "\\" not in text:
                found = split_values(text)
                return 0, unique(text, {pair[0]: "".join(pair[1:]) for pair in found}, len(found))
            found = findall(text)
            out = dict(found)
            for name, val in out.items():
                if val and val[0] in quote_chars and len(val) >= 2 and val[-1] == val[0]:
                    inner = val[1:-1]
                    out[name] = escape(r"\1", inner) if "\\" in inner else inner
                elif not blank_pairs:
                    out[name] = val.strip()
            return 0, unique(text, out, len(found))
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
                if no_quote and any(q in text[pos : pos + 200].split(None, 1)[0] for q in quotes):
                    raise DecodeError(
                        f"kv: a quote character inside an unquoted key or value at column {pos + 1} "
                        "(quote the value, or set the parser's lenient: true)"
                    )
                raise DecodeError(f"kv: expected key{value_separator}value at column {pos + 1}")
            name, val = match.group(1), match.group(2)
            if val and val[0] in quote_chars and len(val) >= 2 and val[-1] == val[0]:
                val = val[1:-1]
                if "\\" in val:
                    val = _ESCAPE.sub(r"\1", val)
            elif not blank_pairs:
                val = val.strip()
            if name in out and not lenient:
                raise DecodeError(f"kv: the key '{name}' is given twice")
            out[name] = val
            pos = match.end()
        return out

    return decode_kv
