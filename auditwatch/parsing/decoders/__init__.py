"""Decoders turn one record's text into parsed fields (a flat dict); `DecodeError` says why not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auditwatch.errors import AuditwatchError


class DecodeError(AuditwatchError, ValueError):
    """The text is not in the decoder's format; the message is the dead-letter reason."""


class NotARecord(AuditwatchError):
    """The text is not a record at all (a CSV header line): skipped, neither event nor dead letter."""


# text -> (record type index, parsed fields); record type index is 0 except for the pattern decoder
Decoder = Callable[[str], tuple[int, dict[str, Any]]]
