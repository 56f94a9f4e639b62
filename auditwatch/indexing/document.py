"""The event document both ways: what an `AccessEvent` becomes in the events index, and the event a
stored document (a search hit) reads back as.

The document is the event's `fields` under the event's `id` (encoded by `body.encode_fields`, sent
by `body.BodyBuilder`); the raw record travels inside it: `event.original` (the text),
`auditwatch.line.original_b64` (the exact bytes when they were not UTF-8), `log.file.path`,
`log.offset`, and, for a capped record, `auditwatch.line.size` and `event.hash` (the SHA-1 of the
whole record). Two things of the `RawLine` are not stored: the input's name (read back as the
event's `event.dataset`) and the file identity (read back empty); nothing downstream of parsing
needs either.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from auditwatch.indexing.body import encode_fields
from auditwatch.model import AccessEvent, RawLine

#: the order `search_after` pages events in: time, then the record (hash, offset) to break ties
EVENT_SORT: Final = ({"@timestamp": "asc"}, {"event.hash": "asc"}, {"log.offset": "asc"})


def event_document(event: AccessEvent) -> tuple[str, bytes]:
    """(`_id`, the JSON document) the events index stores for `event`."""
    return event.id, encode_fields(event.fields)


def event_from_hit(hit: Mapping[str, Any]) -> AccessEvent:
    """The event a search hit of the events index holds (`_id` and `_source`)."""
    return event_from_document(str(hit["_id"]), hit["_source"])


def event_from_document(doc_id: str, source: Mapping[str, Any]) -> AccessEvent:
    """The event stored as `source` under `doc_id`: its fields, its time and the raw record."""
    fields: dict[str, object] = dict(source)
    original_b64 = fields.get("auditwatch.line.original_b64")
    if isinstance(original_b64, str):
        data = base64.b64decode(original_b64)
    else:
        data = str(fields.get("event.original", "")).encode("utf-8", "surrogateescape")
    offset = int(str(fields.get("log.offset", 0)))
    size = fields.get("auditwatch.line.size")
    full_size = size if isinstance(size, int) and not isinstance(size, bool) else len(data)
    digest = fields.get("event.hash")
    raw = RawLine(
        source=str(fields.get("event.dataset", "")),
        path=str(fields.get("log.file.path", "")),
        file_key="",
        offset=offset,
        end=offset + full_size + 1,
        data=data,
        full_size=full_size,
        full_sha1=digest if full_size > len(data) and isinstance(digest, str) else None,
    )
    when = datetime.fromisoformat(str(fields["@timestamp"]).replace("Z", "+00:00")).timestamp()
    return AccessEvent(id=doc_id, timestamp=when, fields=fields, raw=raw)
