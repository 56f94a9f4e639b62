"""The pattern decoder: record types tried in order, each one compiled regex; the first match wins."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from auditwatch.parsing.compile import CompiledPattern
from auditwatch.parsing.decoders import DecodeError, Decoder


def pattern_decoder(records: Sequence[tuple[str, CompiledPattern]]) -> Decoder:
    entries = [
        (index, compiled.regex.fullmatch, compiled.prefix, compiled.renames, compiled.posts)
        for index, (_, compiled) in enumerate(records)
    ]
    tried = ", ".join(name for name, _ in records)
    failure = f"pattern: no record type matched (tried {tried})"

    def decode_pattern(text: str) -> tuple[int, dict[str, Any]]:
        for index, fullmatch, prefix, renames, posts in entries:
            if prefix and not text.startswith(prefix):
                continue
            match = fullmatch(text)
            if match is None:
                continue
            parsed: dict[str, Any] = match.groupdict()
            for group, field in renames:  # a field captured in several places: the first that matched
                value = parsed.pop(group)
                if parsed.get(field) is None:
                    parsed[field] = value
            for field, post in posts:
                parsed[field] = post(parsed[field])
            return index, parsed
        raise DecodeError(failure)

    return decode_pattern
