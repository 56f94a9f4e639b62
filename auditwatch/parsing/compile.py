"""Compile a parsed pattern (nodes from `pattern.py`) into one Python regex plus capture post-processing.

Built-in primitives are plain regexes; user definitions are patterns themselves (they may
reference each other, cycles are reported). A captured field becomes a named group; fields that
need work after the match (fixed width: trimmed; QUOTEDSTRING: unquoted; a field captured in two
places) are listed in `CompiledPattern.fixups` so the runtime touches only those.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from auditwatch.errors import PATTERN_SYNTAX, REGEX_REFUSED, AuditwatchError
from auditwatch.parsing.pattern import Node, Opt, PatternSyntaxError, Ref, Text, parse_pattern
from auditwatch.regexsafety import InvalidRegex, UnsafeRegex, check_regex

_IPV4: Final = r"(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)"
_IPV6: Final = r"(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|" + _IPV4 + ")"
# the unrolled form of "(?:[^"\\]|\\.|"")*" (the same matches, no alternation per character)
# (possessive: the pieces cannot overlap, so giving characters back never helps, and sre runs the
# loop several times faster without keeping backtracking state)
_QUOTED: Final = r"\"[^\"\\]*+(?:(?:\\.|\"\")[^\"\\]*+)*+\"|'[^'\\]*+(?:(?:\\.|'')[^'\\]*+)*+'"

PRIMITIVES: Final[Mapping[str, str]] = {
    "WORD": r"\w+",
    "NOTSPACE": r"\S+",
    "SPACE": r"\s*",
    "INT": r"[+-]?\d+",
    "POSINT": r"\d+",
    "NUMBER": r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)",
    "DATA": r".*?",
    "GREEDYDATA": r".*",
    "QUOTEDSTRING": _QUOTED,
    "IPV4": _IPV4,
    "IPV6": _IPV6,
    "IP": f"(?:{_IPV6}|{_IPV4})",
    "HOSTNAME": r"[0-9A-Za-z](?:[0-9A-Za-z-]{0,62})(?:\.[0-9A-Za-z](?:[0-9A-Za-z-]{0,62}))*\.?",
    "IPORHOST": f"(?:{_IPV4}|{_IPV6}|[0-9A-Za-z][0-9A-Za-z.-]*)",
    "USERNAME": r"[\w.@+-]+",
    "UUID": r"[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}",
    "EMAILADDRESS": r"[\w.+-]+@[0-9A-Za-z][0-9A-Za-z.-]*",
    "TIMESTAMP_ISO8601": (
        r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?"
    ),
    "DATE_DMY": r"\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})",
    "DATE_YMD": r"\d{4}[/.-]\d{1,2}[/.-]\d{1,2}",
    "TIME": r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?",
    "MONTH": r"(?:[Jj]an|[Ff]eb|[Mm]ar|[Aa]pr|[Mm]ay|[Jj]un|[Jj]ul|[Aa]ug|[Ss]ep|[Oo]ct|[Nn]ov|[Dd]ec)[a-z]*",
    "SYSLOGTIMESTAMP": r"[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}",
    "LOGLEVEL": r"[A-Za-z]+",
    "POSTCODE_UK": r"[A-Za-z]{1,2}\d[A-Za-z\d]? *\d[A-Za-z]{2}",
}

_QUOTED_PRIMITIVES: Final = frozenset({"QUOTEDSTRING"})
# primitives that are one unbounded character-class run: (possessive form, the class); used
# possessively when the text after them starts with a character outside the class, where giving
# characters back could never help (so a failing line costs one pass, not one per split)
_RUNS: Final[Mapping[str, tuple[str, re.Pattern[str]]]] = {
    "WORD": (r"\w++", re.compile(r"\w")),
    "NOTSPACE": (r"\S++", re.compile(r"\S")),
    "POSINT": (r"\d++", re.compile(r"\d")),
    "INT": (r"[+-]?\d++", re.compile(r"\d")),
    "USERNAME": (r"[\w.@+-]++", re.compile(r"[\w.@+-]")),
    "LOGLEVEL": (r"[A-Za-z]++", re.compile(r"[A-Za-z]")),
}
_GROUP_SAFE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def unquote(value: str | None) -> str | None:
    """Strip one pair of surrounding quotes and undo backslash and doubled-quote escapes."""
    if value is None or len(value) < 2 or value[0] not in "\"'" or value[-1] != value[0]:
        return value
    quote = value[0]
    inner = value[1:-1]
    if "\\" in inner:
        inner = re.sub(r"\\(.)", r"\1", inner)
    return inner.replace(quote * 2, quote)


def _trim(value: str | None) -> str | None:
    return None if value is None else value.strip()


@dataclass(frozen=True, slots=True)
class CompiledPattern:
    """One record type's regex. ``match.groupdict()`` is the parsed record once `renames` (extra or
    non-identifier group names -> field) and `posts` (trim fixed widths, unquote) are applied."""

    regex: re.Pattern[str]
    renames: tuple[tuple[str, str], ...]
    posts: tuple[tuple[str, Callable[[str | None], str | None]], ...]
    prefix: str  # literal text every match starts with ("" when none): a cheap pre-filter
    fields: tuple[str, ...]


class DefinitionError(AuditwatchError, ValueError):
    """A problem inside a user definition (`name`), or a cycle between definitions; `column`: 1-based
    in the definition's text, when the problem is at one place in it."""

    code = PATTERN_SYNTAX

    def __init__(self, name: str, message: str, column: int | None = None) -> None:
        super().__init__(message if column is None else f"column {column}: {message}")
        self.name = name
        self.message = message
        self.column = column


class RefusedPattern(PatternSyntaxError):
    """A pattern whose regex could backtrack super-linearly (column 1: the pattern as a whole)."""

    code = REGEX_REFUSED


class _Compiler:
    def __init__(
        self, definitions: Mapping[str, str], regexes: Mapping[str, str], loose_whitespace: bool
    ) -> None:
        self.definitions = definitions
        self.regexes = regexes
        self.loose = loose_whitespace
        self.parsed: dict[str, tuple[Node, ...]] = {}
        self.groups: list[tuple[str, str, Callable[[str | None], str | None] | None]] = []
        self.optional_depth = 0  # inside [ ... ] a group may not take part in a match (None)

    def definition_nodes(self, name: str) -> tuple[Node, ...]:
        if name not in self.parsed:
            try:
                self.parsed[name] = parse_pattern(self.definitions[name])
            except PatternSyntaxError as exc:
                raise DefinitionError(name, exc.message, exc.column) from None
        return self.parsed[name]

    def nodes(self, nodes: tuple[Node, ...], stack: tuple[str, ...]) -> str:
        out: list[str] = []
        for index, node in enumerate(nodes):
            before = nodes[index - 1] if index else None
            after = nodes[index + 1] if index + 1 < len(nodes) else None
            out.append(self.node(node, stack, before, after))
        return "".join(out)

    def node(self, node: Node, stack: tuple[str, ...], before: Node | None, after: Node | None) -> str:
        if isinstance(node, Text):
            if not self.loose:
                return re.escape(node.text)
            parts = [part for part in re.split(r"(\s+)", node.text) if part]
            out = []
            for index, part in enumerate(parts):
                # blanks beside a fixed-width column are exact: columns are positions, and a loose
                # run there could be split against the column's own blanks every way
                beside_column = (index == 0 and _fixed(before)) or (index == len(parts) - 1 and _fixed(after))
                if not part.isspace() or beside_column:
                    out.append(re.escape(part))
                elif index + 1 < len(parts):  # text follows: blanks given back could never match it
                    out.append(r"\s++")
                else:
                    out.append(r"\s+")
            return "".join(out)
        if isinstance(node, Opt):
            self.optional_depth += 1
            inner = self.nodes(node.items, stack)
            self.optional_depth -= 1
            return f"(?:{inner})?"
        return self.ref(node, stack, after)

    def ref(self, ref: Ref, stack: tuple[str, ...], after: Node | None = None) -> str:
        post: Callable[[str | None], str | None] | None = None
        if ref.width:
            body = f".{{{ref.width}}}"
            post = _trim if self.optional_depth else str.strip  # type: ignore[assignment]
        elif ref.name in self.definitions:
            if ref.name in stack:
                cycle = " -> ".join((*stack[stack.index(ref.name) :], ref.name))
                raise DefinitionError(ref.name, f"definitions refer to each other in a cycle: {cycle}")
            body = self.nodes(self.definition_nodes(ref.name), (*stack, ref.name))
        elif ref.name in self.regexes:
            body = f"(?:{self.regexes[ref.name]})"
        elif ref.name in PRIMITIVES:
            body = PRIMITIVES[ref.name]
            run = _RUNS.get(ref.name)
            if run is not None and isinstance(after, Text) and run[1].match(after.text[:1]) is None:
                body = run[0]
            if ref.name in _QUOTED_PRIMITIVES:
                post = unquote
        else:
            known = ", ".join(sorted(set(PRIMITIVES) | set(self.definitions) | set(self.regexes)))
            message = f"unknown pattern name '{ref.name}' (known: {known})"
            if stack:
                raise DefinitionError(stack[-1], message, ref.column)
            raise PatternSyntaxError(ref.column, message)
        if not ref.field:
            return f"(?:{body})"
        group = f"_g{len(self.groups)}"
        self.groups.append((group, ref.field, post))
        return f"(?P<{group}>{body})"


def _fixed(node: Node | None) -> bool:
    return isinstance(node, Ref) and node.width > 0


def check_regex_definition(regex: str) -> str:
    """`regex` if it compiles, captures nothing (captures are named in patterns) and cannot backtrack
    super-linearly (`auditwatch.regexsafety`); else ValueError saying why."""
    try:
        compiled = re.compile(regex)
    except re.error as exc:
        raise InvalidRegex(f"invalid regex: {exc}") from None
    except RecursionError:
        raise InvalidRegex("invalid regex: groups nested too deeply") from None
    if compiled.groups:
        raise ValueError("a regex definition must not capture: write (?:...) instead of (...)")
    try:
        check_regex(regex)
    except RecursionError:
        raise InvalidRegex("invalid regex: groups nested too deeply") from None
    except UnsafeRegex as exc:
        raise UnsafeRegex(f"regex refused (it could hang on a crafted line): {exc}") from None
    return regex


def compile_pattern(
    pattern: str,
    definitions: Mapping[str, str],
    loose_whitespace: bool = True,
    regexes: Mapping[str, str] | None = None,
) -> CompiledPattern:
    """Compile `pattern` (matched against the whole record); PatternSyntaxError / DefinitionError.

    `definitions` are named sub-patterns in the pattern language, `regexes` named plain regexes."""
    nodes = parse_pattern(pattern)
    compiler = _Compiler(definitions, regexes or {}, loose_whitespace)
    body = compiler.nodes(nodes, ())
    renames: list[tuple[str, str]] = []
    posts: dict[str, Callable[[str | None], str | None]] = {}
    named: set[str] = set()
    for group, field, post in compiler.groups:
        if field not in named and _GROUP_SAFE.fullmatch(field) and not field.startswith("_g"):
            body = body.replace(f"(?P<{group}>", f"(?P<{field}>", 1)
        else:
            renames.append((group, field))
        named.add(field)
        if post is not None:
            posts.setdefault(field, post)
    prefix = nodes[0].text if isinstance(nodes[0], Text) and not nodes[0].text.isspace() else ""
    if loose_whitespace:
        prefix = re.split(r"\s", prefix, maxsplit=1)[0]
    try:
        regex = re.compile(body + r"\s*", re.DOTALL)
    except re.error as exc:  # e.g. a definition that is fine alone but not in this position
        raise PatternSyntaxError(1, f"compiles to an invalid regex: {exc}") from None
    except RecursionError:
        raise PatternSyntaxError(1, "compiles to a regex nested too deeply") from None
    try:
        check_regex(regex.pattern, re.DOTALL, full_match=True)
    except RecursionError:
        raise PatternSyntaxError(1, "compiles to a regex nested too deeply") from None
    except UnsafeRegex as exc:
        raise RefusedPattern(1, f"refused: it could hang on a crafted line: {exc}") from None
    return CompiledPattern(regex, tuple(renames), tuple(posts.items()), prefix, tuple(sorted(named)))
