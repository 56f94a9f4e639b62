"""Logging: structlog for operational events (never per event), JSON for the service, console for humans."""

from __future__ import annotations

import logging
import sys

import structlog

from auditwatch.errors import ConfigError


def configure_logging(level: str = "info", fmt: str = "json") -> None:
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def problems_for_log(error: ConfigError) -> list[str]:
    """A ConfigError's problems as plain strings, one per problem, for a structured log field."""
    return [str(p) for p in error.problems]
