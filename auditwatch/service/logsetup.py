"""Logging: one structlog pipeline for auditwatch and every library it uses, never per event.

auditwatch logs through structlog; libraries (elasticsearch's transport, apscheduler, watchdog) log
through the standard `logging` module, whose records are rendered by the same processors through
`structlog.stdlib.ProcessorFormatter`: one JSON object per line for the journal, or console text for
people. Chatty libraries are held at WARNING unless the level is `debug`.
"""

from __future__ import annotations

import logging
import sys
from typing import Final, TextIO

import structlog

from auditwatch.errors import ConfigError

# Libraries that log each request or job run at INFO: useful only when debugging.
_CHATTY: Final = ("elastic_transport", "elasticsearch", "apscheduler", "watchdog", "urllib3")


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a record is emitted (tests swap it), not at set-up."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure_logging(level: str = "info", fmt: str = "json", *, libraries: str = "warning") -> None:
    """`libraries` is the floor for chatty libraries (one-shot commands pass "error": their own
    one-line error already says what the transport would repeat)."""
    numeric = logging.getLevelNamesMapping()[level.upper()]
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    floor = logging.getLevelNamesMapping()[libraries.upper()]
    quiet = numeric if numeric <= logging.DEBUG else max(numeric, floor)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(quiet)


def problems_for_log(error: ConfigError) -> list[str]:
    """A ConfigError's problems as plain strings, one per problem, for a structured log field."""
    return [str(p) for p in error.problems]
