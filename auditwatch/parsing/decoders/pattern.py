"""The pattern decoder: record types tried in order, each one compiled regex; the first match wins."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from auditwatch.parsing.compile import CompiledPattern
from auditwatch.parsing.decoders import DecodeError, Decoder


def pattern_decoder(records: Sequence[tuple[str, CompiledPattern]]) -> Decoder:
    entries = [
        (index, compiled.regex.fullmatch, compiled.prefix, compiled.simple, compiled.captures)
        for index, (_, compiled) in enumerate(records)
    ]
    tried = ", ".join(name for name, _ in records)
    failure = f"pattern: no record type matched (tried {tried})"

    def decode_pattern(text: str) -> tuple[int, dict[str, Any]]:
        for index, fullmatch, prefix, simple, captures in entries:
            if prefix and not text.startswith(prefix):
                continue
            match = fullmatch(text)
            if match is None:
                continue
            if simple:
                return index, match.groupdict()
            out: dict[str, Any] = {}
            for capture in captures:
                value = None
                for group in capture.groups:
                    value = match.group(group)
                    if value is not None:
                        break
                out[capture.field] = value if capture.post is None else capture.post(value)
            return index, out
        raise DecodeError(failure)

    return decode_pattern
