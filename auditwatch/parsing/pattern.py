"""The pattern language's grammar (pyparsing, load time only) producing a small tree of nodes.

    %{NAME:field}   a built-in primitive or a user definition, captured as `field`
    %{NAME}         the same, not captured
    %{8:field}      exactly 8 characters, captured trimmed (fixed-width mainframe columns)
    %{8}            skip exactly 8 characters
    [ ... ]         an optional part
    \\[ \\] \\% \\\\   literal bracket, percent sign, backslash
    anything else   literal text; a run of blanks matches one or more blanks (with the default
                    `whitespace: loose`), except beside a fixed-width column, where it matches
                    exactly the blanks written: columns are positions

`parse_pattern` raises `PatternSyntaxError` (column + plain message); pyparsing's own exceptions
never leave this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyparsing as pp

from auditwatch.errors import PATTERN_SYNTAX, AuditwatchError


@dataclass(frozen=True, slots=True)
class Text:
    """Literal text."""

    text: str


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference to a primitive/definition (`name`) or a fixed width (`width`), maybe captured."""

    name: str
    width: int
    field: str
    column: int  # 1-based column of the `%{` in the pattern


@dataclass(frozen=True, slots=True)
class Opt:
    """An optional group."""

    items: tuple[Text | Ref | Opt, ...]


Node = Text | Ref | Opt


class PatternSyntaxError(AuditwatchError, ValueError):
    """A pattern that does not follow the grammar; `column` is 1-based."""

    code = PATTERN_SYNTAX

    def __init__(self, column: int, message: str) -> None:
        super().__init__(f"column {column}: {message}")
        self.column = column
        self.message = message


def _ref_action(text: str, loc: int, tokens: pp.ParseResults) -> Ref:
    target = tokens["target"]
    field = tokens["field"] if "field" in tokens else ""  # noqa: SIM401 (ParseResults.get is untyped)
    if target.isdigit():
        return Ref("", int(target), field, loc + 1)
    return Ref(target, 0, field, loc + 1)


def _build_grammar() -> pp.ParserElement:
    name = pp.Word(pp.alphas + "_", pp.alphanums + "_") | pp.Word(pp.nums)
    field = pp.Word(pp.alphas + "_@", pp.alphanums + "_.@-")
    ref = (
        pp.Suppress("%{") + name("target") + pp.Optional(pp.Suppress(":") + field("field")) + pp.Suppress("}")
    ).set_parse_action(_ref_action)
    escape = pp.Regex(r"\\[\[\]%\\]").set_parse_action(lambda t: Text(t[0][1]))
    text = pp.Regex(r"(?:[^%\[\]\\]|%(?!\{))+").set_parse_action(lambda t: Text(t[0]))
    optional = pp.Forward()
    element = ref | optional | escape | text
    optional <<= (pp.Suppress("[") + pp.ZeroOrMore(element) + pp.Suppress("]")).set_parse_action(
        lambda t: Opt(tuple(t))
    )
    grammar = pp.ZeroOrMore(element) + pp.StringEnd()
    for part in (name, field, ref, escape, text, optional, element, grammar):
        part.leave_whitespace()
    return grammar.parse_with_tabs()


_GRAMMAR = _build_grammar()


def parse_pattern(pattern: str) -> tuple[Node, ...]:
    """The pattern as a tuple of nodes; PatternSyntaxError naming the column of the first problem."""
    try:
        result = _GRAMMAR.parse_string(pattern, parse_all=True)
    except pp.ParseBaseException as exc:
        column, message = _explain(pattern, exc.loc)
        raise PatternSyntaxError(column, message) from None
    nodes = tuple(result)
    if not nodes:
        raise PatternSyntaxError(1, "the pattern is empty")
    return nodes


def _explain(pattern: str, loc: int) -> tuple[int, str]:
    """A plain-language message for where the grammar stopped (pyparsing's wording stays inside)."""
    depth = 0
    opened: list[int] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if pattern.startswith("%{", i):
            end = pattern.find("}", i)
            inner = pattern[i + 2 : end] if end >= 0 else pattern[i + 2 :]
            problem = _bad_reference(inner, end >= 0)
            if problem:
                return i + 1, problem
            i = end + 1 if end >= 0 else len(pattern)
            continue
        if char == "[":
            depth += 1
            opened.append(i)
        elif char == "]":
            if depth == 0:
                return i + 1, "']' without a matching '[' (write \\] for a literal bracket)"
            depth -= 1
            opened.pop()
        i += 1
    if opened:
        return opened[-1] + 1, "'[' is never closed (write \\[ for a literal bracket)"
    if pattern.endswith("\\"):
        return len(pattern), "a trailing backslash escapes nothing"
    return loc + 1, "unexpected text"


def _bad_reference(inner: str, closed: bool) -> str:
    if not closed:
        return "'%{' is never closed with '}'"
    target, _, field = inner.partition(":")
    if not target:
        return "empty reference: expected %{NAME}, %{NAME:field} or %{WIDTH:field}"
    name_ok = (target[0].isalpha() or target[0] == "_") and target.replace("_", "a").isalnum()
    if not (target.isdigit() or name_ok):
        return f"bad name {target!r} in reference: use letters, digits and '_' (or a width in digits)"
    if ":" in inner and not field:
        return f"reference %{{{inner}}} has ':' but no field name"
    field_ok = not field or (
        (field[0].isalpha() or field[0] in "_@") and all(c.isalnum() or c in "_.@-" for c in field)
    )
    if not field_ok:
        return f"bad field name {field!r}: use letters, digits, '_', '.', '@' and '-'"
    return ""


# Regex syntax that the pattern language reads as literal text (a definition meant as a regex).
# (A lone `|` is not counted: pipe-delimited logs use it literally.)
_REGEX_LOOK = re.compile(r"\\[dDwWsSbB.+*?(){}^$|]|\(\?|\.[*+?]|[)][*+?]|\{\d+(?:,\d*)?\}")
_CLASS_LOOK = re.compile(r"^(?:\^|[A-Za-z0-9]-[A-Za-z0-9]|\\[dws])")  # [A-Z], [0-9a-f], [\d]: a class


def literal_regex_syntax(pattern: str) -> str | None:
    """The first piece of `pattern` that looks like regex syntax but is literal text (or an optional
    part) in the pattern language, e.g. ``\\d+``, ``.*``, ``[A-Z]+``; None when there is none (or the
    pattern does not parse: that is reported elsewhere)."""
    try:
        nodes = parse_pattern(pattern)
    except PatternSyntaxError:
        return None
    return _regex_look(nodes)


def _regex_look(nodes: tuple[Node, ...]) -> str | None:
    previous: Node | None = None
    for node in nodes:
        if isinstance(node, Text):
            found = _REGEX_LOOK.search(node.text)
            if found is not None:
                return found.group()
            if isinstance(previous, Opt) and node.text[:1] in ("+", "*", "?", "{"):
                return "]" + node.text[:1]
        elif isinstance(node, Opt):
            first = node.items[0] if node.items else None
            if isinstance(first, Text) and len(node.items) == 1 and _CLASS_LOOK.match(first.text):
                return f"[{first.text}]"
            inner = _regex_look(node.items)
            if inner is not None:
                return inner
        previous = node
    return None
