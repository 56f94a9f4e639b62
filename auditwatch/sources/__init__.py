"""Files -> raw records: discovery, tailing, rotation, decompression, fingerprints, multi-line
records; and the change watcher the daemon reloads rules and reference data through."""

from auditwatch.sources.changes import ChangeWatcher, files_signature
from auditwatch.sources.config import InputConfig
from auditwatch.sources.tail import Tailer

__all__ = ["ChangeWatcher", "InputConfig", "Tailer", "files_signature"]
