"""Helpers for testing rules and the engine (used by auditwatch's own tests; handy for rule authors)."""

from __future__ import annotations

from typing import Any, cast

from auditwatch.model import AccessEvent, Alert, RawLine

BASE_TIME = 1_767_607_200.0  # 2026-01-05T10:00:00Z, a Monday

RULE_HEADER = """\
id: {id}
title: Test rule
description: A rule written by a test.
severity: medium
risk_score: 50
reasons: ["{{user.id}} did it"]
"""


def make_event(n: int, at: float = 0.0, **fields: object) -> AccessEvent:
    """Event `ev{n}` at `at` seconds after BASE_TIME; keyword names use `__` for dots (`user__id`)."""
    doc: dict[str, object] = {k.replace("__", "."): v for k, v in fields.items()}
    doc.setdefault("@timestamp", f"t+{at}")
    doc.setdefault("event.original", f"line {n}")
    raw = RawLine("test", "/logs/audit.log", "key", n * 100, n * 100 + 99, b"x", 99)
    return AccessEvent(f"ev{n}", BASE_TIME + at, doc, raw)


def alert_section(alert: Alert) -> Any:
    """The `auditwatch.alert` part of an alert document."""
    return cast(Any, alert.fields)["auditwatch"]["alert"]
