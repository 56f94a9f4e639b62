"""Reference data (HR, watchlists, integrity register, assignments, case links, roster) and the
per-event view detection rules read.

    cfg = read_reference_config(root_reader.section("reference"))
    snapshot, warnings = load_reference(cfg)        # ConfigError if an export is broken
    view = EventView(snapshot, event.fields, event.timestamp)
    view.value("user.status"); view.match("subject_is_staff")   # -> Evidence | None
    view.hit("subject_is_staff")                                 # -> bool, no evidence built
"""

from auditwatch.reference.config import KINDS, ReferenceConfig, SourceConfig, read_reference_config
from auditwatch.reference.enrich import MATCHES, VALUES, EventView, Evidence, MatchInfo
from auditwatch.reference.reload import ReferenceHolder
from auditwatch.reference.snapshot import ReferenceSnapshot, empty_reference, load_reference

__all__ = [
    "KINDS",
    "MATCHES",
    "VALUES",
    "EventView",
    "Evidence",
    "MatchInfo",
    "ReferenceConfig",
    "ReferenceHolder",
    "ReferenceSnapshot",
    "SourceConfig",
    "empty_reference",
    "load_reference",
    "read_reference_config",
]
