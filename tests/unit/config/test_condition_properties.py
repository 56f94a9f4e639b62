"""Property test: any sequence of condition-language tokens parses and compiles, or is a located
ConditionSyntaxError; never another exception, and within a hard time bound."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from auditwatch.detection.compile import Scope, compile_condition
from auditwatch.detection.grammar import ConditionSyntaxError, parse_condition
from auditwatch.reference import MATCHES, VALUES

TOKENS = [
    "not ", "(", ")", " and ", " or ", " == ", " != ", " < ", " >= ", " in ", "[", "]", ",",
    "user.id", "event.action", "auditwatch.subject.surname", '"x"', "'y'", '"unterminated', "1", "-2.5",
    "true", "null", " matches ", "/a+/", "/(/i", "/x/s", " between ", " contains ", " startswith ",
    "exists(user.id)", "hour(Europe/London)", "hour", "weekday", "list(x)", "allowlist(y)",
    "match(subject_is_staff)", "fold(user.id)", "\n", " ", "\\", "/", "@", "\u00e9", "\x00",
]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join))
def test_condition_tokens_parse_and_compile_or_are_a_located_syntax_error(text: str) -> None:
    """Unknown names are compile-time scope errors, bad syntax a ConditionSyntaxError with a column."""
    started = time.perf_counter()
    try:
        node = parse_condition(text)
    except ConditionSyntaxError as exc:
        error: ConditionSyntaxError | None = exc
    else:
        error = None
    assert time.perf_counter() - started < 1.0
    if error is not None:
        assert 1 <= error.lineno <= text.count("\n") + 1
        assert 1 <= error.column <= len(text) + 1
        return
    scope = Scope(VALUES, MATCHES, {}, {}, "fuzz", "UTC")
    compile_condition(node, scope)
    assert all(0 <= loc <= len(text) for loc, _ in scope.errors)
