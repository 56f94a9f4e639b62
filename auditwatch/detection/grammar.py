"""The rule condition language: a pyparsing grammar that builds `nodes` trees. Load time only.

condition  := or-expression of `not`, `and`, `or` and parentheses over comparisons
comparison := operand (== | != | < | <= | > | >=) operand
            | operand in [literal, ...]  |  operand in list(name)
            | operand (contains | startswith | endswith) operand
            | operand matches /regex/flags
            | operand between operand and operand
            | operand                      (true when the value is true: exists(x), match(x), a flag)
operand    := "string" | 'string' | number | true | false | field.name
            | exists(field) | fold(field) | match(name) | allowlist(name)
            | hour | hour(Area/Zone) | weekday | weekday(Area/Zone)
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Final

import pyparsing as pp

from auditwatch.detection import nodes as n
from auditwatch.errors import CONDITION_SYNTAX, AuditwatchError, Code

MAX_CONDITION_CHARS: Final = 20_000  # parsing is linear but not free (~0.2 ms per comparison)
MAX_CONDITION_DEPTH: Final = 32  # parentheses, brackets and `not`s nested in one another


@dataclass(frozen=True, slots=True)
class ConditionSyntaxError(AuditwatchError):
    """The condition text is not valid; `column` and `lineno` are 1-based within the text."""

    message: str
    column: int
    lineno: int
    code: ClassVar[Code | None] = CONDITION_SYNTAX

    def __str__(self) -> str:
        return f"{self.message} (column {self.column})"


def _kw(word: str) -> pp.Keyword:
    return pp.Keyword(word)


AND, OR, NOT, IN, BETWEEN = (_kw(w) for w in ("and", "or", "not", "in", "between"))
TEXT_OPS = _kw("contains") | _kw("startswith") | _kw("endswith")
MATCHES = _kw("matches")
TRUE, FALSE, NULL = _kw("true"), _kw("false"), _kw("null")
RESERVED = AND | OR | NOT | IN | BETWEEN | TEXT_OPS | MATCHES | TRUE | FALSE | NULL
L, R, LB, RB, COMMA = (pp.Suppress(c) for c in "()[],")

_ident = pp.Regex(r"[A-Za-z_@][A-Za-z0-9_@.]*")
_name = pp.Regex(r"[A-Za-z_][A-Za-z0-9_\-]*")
_zone = pp.Regex(r"[A-Za-z][A-Za-z0-9_+\-/]*")

string = (pp.QuotedString('"', esc_char="\\") | pp.QuotedString("'", esc_char="\\")).set_name("string")
number = pp.Regex(r"-?\d+(\.\d+)?").set_name("number")
number.set_parse_action(lambda t: float(t[0]) if "." in t[0] else int(t[0]))
boolean = (TRUE | FALSE | NULL).set_parse_action(lambda t: {"true": True, "false": False}.get(t[0]))
scalar = (string | number | boolean).set_parse_action(lambda t: n.Literal(t[0]))
list_item = string | number | boolean | _ident  # bare words in lists are strings (weekday in [sat, sun])
list_literal = (LB + pp.Optional(pp.DelimitedList(list_item)) + RB).set_parse_action(
    lambda t: n.ListLiteral(tuple(x.value if isinstance(x, n.Literal) else x for x in t))
)


def _call(func: str, arg: pp.ParserElement, optional_arg: bool = False) -> pp.ParserElement:
    args = L + arg + R
    body = _kw(func) + (pp.Optional(args) if optional_arg else args)

    def build(s: str, loc: int, t: pp.ParseResults) -> n.Call:
        return n.Call(func, str(t[1]) if len(t) > 1 else "", loc)

    return body.set_parse_action(build)


call = (
    _call("exists", _ident)
    | _call("fold", _ident)
    | _call("match", _name)
    | _call("allowlist", _name)
    | _call("hour", _zone, optional_arg=True)
    | _call("weekday", _zone, optional_arg=True)
)
named_list = _call("list", _name)
field = (~RESERVED + _ident).set_parse_action(lambda s, loc, t: n.Field(t[0], loc)).set_name("field")
operand = (scalar | call | field).set_name("value")
regex = pp.Regex(r"/((?:[^/\\\n]|\\.)*)/([is]*)").set_name("/regex/")


def _build_regex(s: str, loc: int, t: pp.ParseResults) -> n.Regex:
    text: str = t[0]
    end = text.rindex("/")
    return n.Regex(text[1:end], text[end + 1 :], loc)


regex.set_parse_action(_build_regex)

compare_op = pp.one_of("== != <= >= < >")
comparison = (
    (operand + compare_op + operand)
    | (operand + IN + (list_literal | named_list))
    | (operand + TEXT_OPS + operand)
    | (operand + MATCHES + regex)
    | (operand + BETWEEN + operand + AND.suppress() + operand)
    | operand
)


def _build_comparison(s: str, loc: int, t: pp.ParseResults) -> n.Node:
    if len(t) == 1:
        return n.Truthy(t[0])
    if t[1] == "between":
        return n.Between(t[0], t[2], t[3], loc)
    return n.Compare(str(t[1]), t[0], t[2], loc)


comparison.set_parse_action(_build_comparison)


def _unary(t: pp.ParseResults) -> n.Node:
    return n.Not(t[0][1])


def _nary(cls: type[n.And] | type[n.Or]) -> Any:
    return lambda t: cls(tuple(t[0][0::2]))


condition = pp.infix_notation(  # type: ignore[no-untyped-call]  # pyparsing leaves it untyped
    comparison,
    [
        (NOT, 1, pp.OpAssoc.RIGHT, _unary),
        (AND, 2, pp.OpAssoc.LEFT, _nary(n.And)),
        (OR, 2, pp.OpAssoc.LEFT, _nary(n.Or)),
    ],
)


def parse_condition(text: str) -> n.Node:
    """Parse a condition into a tree; raises ConditionSyntaxError naming the column.

    Conditions longer than MAX_CONDITION_CHARS or nested deeper than MAX_CONDITION_DEPTH are refused
    before pyparsing sees them, so a hostile rule can neither exhaust the stack nor take seconds.
    """
    if not text.strip():
        raise ConditionSyntaxError("empty condition", 1, 1)
    if len(text) > MAX_CONDITION_CHARS:
        raise ConditionSyntaxError(
            f"condition is {len(text)} characters long, more than {MAX_CONDITION_CHARS}", 1, 1
        )
    too_deep = _too_deep_at(text)
    if too_deep is not None:
        raise ConditionSyntaxError(
            f"condition nested more than {MAX_CONDITION_DEPTH} levels deep",
            pp.col(too_deep, text),
            pp.lineno(too_deep, text),
        )
    try:
        with _packrat():
            result = condition.parse_string(text, parse_all=True)
    except pp.ParseBaseException as exc:
        found = text[exc.loc : exc.loc + 12].split("\n", maxsplit=1)[0]
        where = f"unexpected '{found}'" if found else "unexpected end of condition"
        raise ConditionSyntaxError(where, exc.column, exc.lineno) from None
    except RecursionError:  # not expected below MAX_CONDITION_DEPTH; never a traceback for a rule
        raise ConditionSyntaxError("condition too deeply nested to parse", 1, 1) from None
    node = result[0]
    assert isinstance(node, n.Compare | n.Between | n.Truthy | n.Not | n.And | n.Or)
    return node


_PACKRAT = threading.Lock()


@contextmanager
def _packrat() -> Iterator[None]:
    """pyparsing's packrat memo, on while one condition is parsed: the operator-precedence grammar
    tries the same operands again at every precedence level (measured: 16 nested levels parse in
    29 ms with it, 71 ms without). pyparsing only has a process-wide switch, so it is switched on
    here and back off after (unless something else had switched it on), one condition at a time;
    no other grammar is affected."""
    with _PACKRAT:
        was_on = pp.ParserElement._packratEnabled
        pp.ParserElement.enable_packrat()
        try:
            yield
        finally:
            if not was_on:
                pp.ParserElement.disable_memoization()


_TOKEN = re.compile(r"""\s+|"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|[A-Za-z_][A-Za-z0-9_@.\-]*|[()\[\]]|.""")
_REGEX_LITERAL = re.compile(r"\s*/(?:[^/\\\n]|\\.)*/?")


def _too_deep_at(text: str) -> int | None:
    """Offset of the first token nested deeper than MAX_CONDITION_DEPTH, else None.

    Depth is the number of open parentheses/brackets plus the `not`s applied to what follows;
    quoted strings and `/regex/` literals are skipped, so their brackets do not count.
    """
    opened: list[int] = []  # per open bracket: the `not`s pending when it opened
    depth = pending_nots = 0
    pos = 0
    while pos < len(text):
        token = _TOKEN.match(text, pos)
        assert token is not None  # the last alternative matches any character
        word, start, pos = token.group(), token.start(), token.end()
        if word.isspace():
            continue
        if word in ("(", "["):
            depth += pending_nots + 1
            opened.append(pending_nots)
            pending_nots = 0
        elif word in (")", "]"):
            if opened:
                depth -= opened.pop() + 1
            pending_nots = 0
            continue
        elif word == "not":
            pending_nots += 1
        else:
            pending_nots = 0
            if word == "matches":
                literal = _REGEX_LITERAL.match(text, pos)
                pos = literal.end() if literal else pos
            continue
        if depth + pending_nots > MAX_CONDITION_DEPTH:
            return start
    return None
