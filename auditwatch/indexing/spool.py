"""The last resort: a local JSON-lines file for documents even the dead-letter index refused."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import orjson


class Spool:
    """Appends records durably (fsync per batch) to one file; an operator replays or inspects it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, records: Sequence[dict[str, object]]) -> int:
        if not records:
            return 0
        data = b"".join(orjson.dumps(r) + b"\n" for r in records)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        return len(records)
