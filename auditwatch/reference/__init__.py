"""Reference data (HR, watchlists, integrity register, assignments, case links, roster) and the
per-event view detection rules read.

    cfg = read_reference_config(root_reader.section("reference"))
    snapshot, warnings = load_reference(cfg)        # ConfigError if an export is broken
    result = load_sources(cfg, previous)            # each export judged on its own (the daemon)
    view = EventView(snapshot, event.fields, event.timestamp)
    view.value("user.status"); view.match("subject_is_staff")   # -> Evidence | None
    view.hit("subject_is_staff")                                 # -> bool, no evidence built
"""

from auditwatch.reference.config import KINDS, ReferenceConfig, SourceConfig, read_reference_config
from auditwatch.reference.enrich import MATCHES, VALUES, EventView, Evidence, MatchInfo
from auditwatch.reference.reload import ReferenceHolder
from auditwatch.reference.snapshot import (
    ReferenceLoad,
    ReferenceSnapshot,
    empty_reference,
    load_reference,
    load_sources,
)

__all__ = [
    "KINDS",
    "MATCHES",
    "VALUES",
    "EventView",
    "Evidence",
    "MatchInfo",
    "ReferenceConfig",
    "ReferenceHolder",
    "ReferenceLoad",
    "ReferenceSnapshot",
    "SourceConfig",
    "empty_reference",
    "load_reference",
    "load_sources",
    "read_reference_config",
]
