"""CSV records: configurable delimiter and quote, named columns, an optional header line recognised
(`NotARecord`: skipped, not dead-lettered)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import Any

from auditwatch.parsing.decoders import DecodeError, Decoder, NotARecord


def csv_decoder(
    columns: Sequence[str], delimiter: str = ",", quote: str = '"', skip_header: bool = False
) -> Decoder:
    names = tuple(columns)
    header = tuple(c.strip().casefold() for c in names)
    dialect = {"delimiter": delimiter, "quotechar": quote, "doublequote": True, "strict": True}
    want = len(names)
    first = header[0] if skip_header and header else None
    reader = csv.reader

    def decode_csv(text: str) -> tuple[int, dict[str, Any]]:
        if "\x00" in text:
            raise DecodeError("csv: the record contains a NUL byte")
        try:
            rows = list(reader((text,), **dialect))  # type: ignore[arg-type]
        except csv.Error as exc:
            raise DecodeError(f"csv: {exc}") from None
        if len(rows) != 1:
            raise DecodeError("csv: empty record")
        cells = rows[0]
        if len(cells) != want:
            raise DecodeError(f"csv: {len(cells)} columns, expected {want} ({', '.join(names)})")
        if (
            first is not None
            and cells[0].strip().casefold() == first
            and (tuple(c.strip().casefold() for c in cells) == header)
        ):
            raise NotARecord("csv: header line")
        return 0, dict(zip(names, cells, strict=True))

    return decode_csv
