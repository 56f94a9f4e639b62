"""Property tests: any text, YAML-shaped noise or mutated rule file gives a document or a located
ConfigError (never another exception), in bounded time."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditwatch.config.yamlsource import YamlDocument, load_yaml_text
from auditwatch.detection.lists import Lists
from auditwatch.detection.rulefile import load_rule_file
from auditwatch.errors import ConfigError, Problem

RULES = sorted((Path(__file__).resolve().parents[3] / "rules").glob("*.yml"))
RULE_TEXTS = [p.read_text() for p in RULES]
TOKENS = [
    "[",
    "]",
    "{",
    "}",
    ":",
    ": ",
    "- ",
    ",",
    "? ",
    "\n",
    "  ",
    "\t",
    "#",
    "'",
    '"',
    "\\",
    "|",
    ">",
    "&a ",
    "*a",
    "&b ",
    "*b",
    "<<: ",
    "<<: *a",
    "---\n",
    "...\n",
    "!!int ",
    "!!str ",
    "!!binary ",
    "!!python/object:os.system ",
    "!x ",
    "%YAML 1.1\n",
    "x",
    "key",
    "1",
    "-1.5e9",
    "9" * 40,
    "2026-13-45",
    "0x1F",
    "~",
    "null",
    "true",
    ".inf",
    "\u00e9",
    "\x00",
    "\ufeff",
    "\U0001f600",
]
BOUND_SECONDS = 1.0  # a hard safety bound per input, not a performance target

yaml_noise = st.lists(st.sampled_from(TOKENS), max_size=120).map("".join)


def _load(text: str) -> YamlDocument | ConfigError:
    started = time.perf_counter()
    try:
        result: YamlDocument | ConfigError = load_yaml_text(text, "fuzz.yml")
    except ConfigError as exc:
        result = exc
    assert time.perf_counter() - started < BOUND_SECONDS
    return result


def _located(problem: Problem, text: str) -> bool:
    return problem.file == "fuzz.yml" and (problem.line is None or 1 <= problem.line <= text.count("\n") + 2)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_loads_or_is_a_located_config_error(text: str) -> None:
    """Arbitrary Unicode text never raises anything but ConfigError, whose lines are in the document."""
    result = _load(text)
    if isinstance(result, ConfigError):
        assert result.problems
        assert all(_located(p, text) for p in result.problems)


@settings(max_examples=500, deadline=None)
@given(yaml_noise)
def test_yaml_shaped_noise_loads_or_is_a_located_config_error(text: str) -> None:
    """Brackets, anchors, aliases, merges, tags, odd scalars in any order: a document or a located error."""
    result = _load(text)
    if isinstance(result, ConfigError):
        assert all(_located(p, text) for p in result.problems)
    else:
        for path, line in result.lines.items():
            assert 1 <= line <= text.count("\n") + 1, (path, line)


@st.composite
def mutated_rule(draw: st.DrawFn) -> str:
    """A shipped rule file with a few slices deleted, duplicated or replaced by YAML tokens."""
    text = draw(st.sampled_from(RULE_TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 40)))
        kind = draw(st.sampled_from(["delete", "repeat", "insert"]))
        if kind == "delete":
            text = text[:start] + text[end:]
        elif kind == "repeat":
            text = text[:end] + text[start:end] * draw(st.integers(2, 50)) + text[end:]
        else:
            text = text[:start] + draw(yaml_noise) + text[start:]
    return text


_WORK = Path(tempfile.mkdtemp(prefix="aw-yaml-fuzz-"))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_rule())
def test_mutated_rule_files_give_a_rule_or_located_problems(text: str) -> None:
    """The rule reader on a broken rule file: a rule, or problems naming the file; never an exception."""
    path = _WORK / "rule.yml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    problems: list[Problem] = []
    started = time.perf_counter()
    rule = load_rule_file(path, Lists({}, {}), problems)
    assert time.perf_counter() - started < BOUND_SECONDS
    if rule is not None:
        assert not [p for p in problems if p.level == "error"]
    assert all(p.file == str(path) for p in problems)
    assert all(p.line is None or 1 <= p.line <= text.count("\n") + 2 for p in problems)
