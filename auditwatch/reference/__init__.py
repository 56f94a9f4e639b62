"""Reference data (HR, watchlists, integrity register, assignments, case links, roster) and the
per-event view detection rules read.

    cfg = read_reference_config(root_reader.section("reference"))
    snapshot, warnings = load_reference(cfg)        # ConfigError if an export is broken
    result = load_sources(cfg, previous)            # each export judged on its own (the daemon)
    view = EventView(snapshot, event.fields, event.timestamp)
    view.value("user.status"); view.match("subject_is_staff")   # -> Evidence | None
    view.hit("subject_is_staff")                                 # -> bool, no evidence built
    matcher("subject_is_staff")(view); value_getter("user.status")(view)   # the same, for compiled rules

Layout: config (the `reference:` section), readers (export files -> rows), converters (rows ->
canonical values), keys (matching keys), tables and builders (rows -> immutable tables), identity
(staff, watchlists, associates joined to subject keys), snapshot (all exports at one moment), reload;
view (`EventView`), subject (who the subject is), matches (one record per match: its test in proofs,
its evidence in evidence), values (one record per value).
"""

from auditwatch.reference.compact import release_free_memory
from auditwatch.reference.config import KINDS, ReferenceConfig, SourceConfig, read_reference_config
from auditwatch.reference.evidence import Evidence
from auditwatch.reference.matches import MATCHES, MatchInfo
from auditwatch.reference.reload import ReferenceHolder
from auditwatch.reference.snapshot import (
    ReferenceLoad,
    ReferenceSnapshot,
    empty_reference,
    load_reference,
    load_sources,
)
from auditwatch.reference.values import VALUES
from auditwatch.reference.view import EventView, matcher, value_getter

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
    "matcher",
    "read_reference_config",
    "release_free_memory",
    "value_getter",
]
