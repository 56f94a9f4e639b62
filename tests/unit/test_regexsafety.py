"""The load-time regex check: the shapes Python's backtracking engine hangs on are refused, the usual
safe idioms pass, and whatever passes runs in bounded time on adversarial text (property test)."""

from __future__ import annotations

import re

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from auditwatch.regexsafety import UnsafeRegex, check_regex, linear_search
from auditwatch.testing.fuzzing import PROPERTY

UNSAFE = [
    ("(a+)+$", False, "nested"),
    ("(?:a+)+b", True, "nested"),
    ("^(?:\\w+\\s?)+$", False, "nested"),
    ("(x\\w+)+y", True, "nested"),
    ("(?:a|a)*b", True, "alternatives"),
    ("\\s+.{8}\\s+x", True, "adjacent"),  # loose blanks around a fixed-width column
    ("[\\w.@+-]+@\\S+\\s+LOG", True, "adjacent"),  # the old pgaudit user@db
    ("(.*?)\\s(.*?)\\sx", True, "line break"),  # '.' runs next to each other (without (?s))
    ("(?s)(.*?)\\s(.*?)\\sx", True, "adjacent"),
    ("(?s)(.*)(.*)x", True, "adjacent"),
    ("\\d+x", False, "adjacent"),  # a search tries every start: quadratic on a run of digits
    ("\\s*,.*$", False, "adjacent"),
    (",.*$", False, "line break"),  # '.' stops at a line break: every comma is a new try
    ("(a)\\1", False, "backreferences"),
]
SAFE = [
    ('"[^"\\\\]*(?:\\\\.[^"\\\\]*)*"', True),  # the unrolled quoted string
    ('"[^"]*(?:""[^"]*)*"|[^,]*', True),  # a CSV field with doubled quotes
    ("\\S+\\s+\\S+", True),
    ("a++b", True),
    ("(?>a+)+b", True),
    ("[A-Z*][A-Z' *-]*", True),
    ("(?:RSN=(\\w+))?\\s+x", True),
    ("[0-9A-Za-z](?:[0-9A-Za-z-]{0,62})(?:\\.[0-9A-Za-z](?:[0-9A-Za-z-]{0,62}))*\\.?", True),
    ("(?s)(.*)\\s*", True),
    ("^[^,]*,?\\s*", False),
    ("\\d+", False),
    ("(?s),.*$", False),
    ("(?i)^smith$", False),
    ("^\\d{4}-\\d{2}-\\d{2} [\\d:.]+ \\S+ \\[\\d+\\] (?:[^\\s@]*@\\S* )?[A-Z]+\\d?:  (?!AUDIT: )", False),
]


@pytest.mark.parametrize(("pattern", "full", "word"), UNSAFE)
def test_a_backtracking_shape_is_refused_with_its_name(pattern: str, full: bool, word: str) -> None:
    """Each shape is refused, and the message names it (so the user knows what to rewrite)."""
    with pytest.raises(UnsafeRegex, match=word):
        check_regex(pattern, full_match=full)


@pytest.mark.parametrize(("pattern", "full"), SAFE)
def test_a_safe_idiom_passes(pattern: str, full: bool) -> None:
    """The idioms the shipped parsers and rules rely on are not refused."""
    check_regex(pattern, full_match=full)


def test_linear_search_uses_re_when_safe_and_re2_otherwise() -> None:
    """A safe regex keeps Python's engine; an unsafe one runs on RE2 with the same answers."""
    safe = linear_search("^SMI", re.IGNORECASE)
    assert getattr(safe, "__self__", None).__class__ is re.Pattern
    assert safe("smith") is not None
    unsafe = linear_search("(a+)+$", re.IGNORECASE)
    assert getattr(unsafe, "__self__", None).__class__ is not re.Pattern
    assert unsafe("xAAA") is not None
    assert unsafe("aaab") is None
    with pytest.raises(ValueError, match="invalid regex"):
        linear_search("(")


TOKENS = ["a", "b", " ", "+", "*", "?", "(", ")", "(?:", "|", "\\d", "\\s", "\\w", "\\S", "."]
TOKENS += ["{2,}", "{1,3}", "[ab]", "[^a]", "++", "*+", "(?>", "^", "$", "@"]


@PROPERTY
@given(
    parts=st.lists(st.sampled_from(TOKENS), min_size=1, max_size=10),
    full=st.booleans(),
    piece=st.text(alphabet="ab @1\n", min_size=1, max_size=4),
    times=st.integers(1, 5000),
    tail=st.sampled_from(["", "!", "b", " ", "\n"]),
)
def test_what_the_check_accepts_runs_in_bounded_time(
    parts: list[str], full: bool, piece: str, times: int, tail: str
) -> None:
    """Random regexes: any the check accepts matches a long repetitive text within the deadline
    (the property that makes the check worth having; refusing is always allowed)."""
    pattern = "".join(parts)
    try:
        compiled = re.compile(pattern)
        check_regex(pattern, full_match=full)
    except (re.error, UnsafeRegex, OverflowError, RecursionError):
        event("refused or invalid")
        return
    event("accepted")
    text = piece * times + tail
    if full:
        compiled.fullmatch(text)
    else:
        compiled.search(text)
