"""Compile a condition tree into a Python closure, once, at load time. Also resolves every name.

Semantics (documented in RULES.md): a missing value makes every comparison false; a list value
(`user.roles`) matches when any element does; `contains` is substring on text and membership on
lists; string comparisons are exact (use `fold(x)` or `/regex/i` for case-insensitive matching).
"""

from __future__ import annotations

import difflib
import operator
import re
import unicodedata
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auditwatch.detection import nodes as n
from auditwatch.detection.analysis import bare_text, cost
from auditwatch.detection.context import WEEKDAYS, EvalContext, Getter, LocalClock, Predicate
from auditwatch.reference import matcher, value_getter
from auditwatch.regexsafety import linear_search
from auditwatch.schema import EVENT_FIELDS

if TYPE_CHECKING:
    from auditwatch.detection.lists import AllowList, NamedList

_SEQ = (list, tuple, frozenset, set)
_Binary = Callable[[object, object], bool]


@dataclass
class Scope:
    """The names a condition may use, and the problems found while compiling it."""

    values: Collection[str]  # reference VALUES names
    matches: Collection[str]  # reference MATCHES names
    lists: Mapping[str, NamedList]
    allowlists: Mapping[str, AllowList]
    rule_id: str
    timezone: str = "UTC"
    errors: list[tuple[int, str]] = field(default_factory=list)
    used_matches: list[str] = field(default_factory=list)
    uses_reference: bool = False

    def error(self, loc: int, message: str) -> None:
        self.errors.append((loc, message))


def closest(name: str, known: Collection[str]) -> str:
    best = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"; did you mean '{best[0]}'?" if best else ""


def compile_condition(node: n.Node, scope: Scope) -> Predicate:
    """A closure for `node`; name problems are appended to `scope.errors` (check it afterwards).

    Operands of `and` / `or` run cheapest first (event fields, then reference values, then reference
    matches): every predicate is a pure function of the event and the reference, so order only
    changes the cost."""
    if isinstance(node, n.And | n.Or):
        operands = sorted(node.operands, key=lambda p: cost(p, scope.values))
        parts = tuple(compile_condition(p, scope) for p in operands)
        return all_of(parts) if isinstance(node, n.And) else any_of(parts)
    if isinstance(node, n.Not):
        inner = compile_condition(node.operand, scope)
        return lambda c: not inner(c)
    if isinstance(node, n.Truthy):
        return _truthy(node.operand, scope)
    if isinstance(node, n.Between):
        return _between(node, scope)
    return _compare(node, scope)


def all_of(parts: tuple[Predicate, ...]) -> Predicate:
    """`and` of `parts`, unrolled for the usual few (a generator per call costs more than the tests)."""
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        a, b = parts
        return lambda c: a(c) and b(c)
    if len(parts) == 3:
        a, b, d = parts
        return lambda c: a(c) and b(c) and d(c)
    if len(parts) == 4:
        a, b, d, e = parts
        return lambda c: a(c) and b(c) and d(c) and e(c)
    return lambda c: all(p(c) for p in parts)


def any_of(parts: tuple[Predicate, ...]) -> Predicate:
    """`or` of `parts` (no parts: never true)."""
    if not parts:
        return lambda c: False
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        a, b = parts
        return lambda c: a(c) or b(c)
    if len(parts) == 3:
        a, b, d = parts
        return lambda c: a(c) or b(c) or d(c)
    if len(parts) == 4:
        a, b, d, e = parts
        return lambda c: a(c) or b(c) or d(c) or e(c)
    if len(parts) == 5:
        a, b, d, e, g = parts
        return lambda c: a(c) or b(c) or d(c) or e(c) or g(c)
    if len(parts) == 6:
        a, b, d, e, g, h = parts
        return lambda c: a(c) or b(c) or d(c) or e(c) or g(c) or h(c)
    return lambda c: any(p(c) for p in parts)


# -- operands ---------------------------------------------------------------------------------


def field_getter(name: str, scope: Scope, loc: int = 0) -> Getter:
    """Read an event field, else a reference value; an event field that is also a reference value
    (`user.roles`) is read from the event when present and from the reference otherwise."""
    in_event, in_ref = name in EVENT_FIELDS, name in scope.values
    if in_ref:
        scope.uses_reference = True
    if in_event and in_ref:
        value = value_getter(name)
        return lambda c: v if (v := c.f.get(name)) is not None else value(c)
    if in_event:
        return lambda c: c.f.get(name)
    if in_ref:
        return value_getter(name)  # an EvalContext is an EventView
    scope.error(loc, f"unknown field '{name}'" + closest(name, [*EVENT_FIELDS, *scope.values]))
    return lambda c: None


def _getter(operand: n.Operand, scope: Scope) -> Getter:
    if isinstance(operand, n.Literal):
        value = operand.value
        return lambda c: value
    if isinstance(operand, n.Field):
        return field_getter(operand.name, scope, operand.loc)
    if isinstance(operand, n.Call):
        return _call(operand, scope)
    loc = operand.loc if isinstance(operand, n.Regex) else 0
    scope.error(loc, "a list or regex cannot be used here")
    return lambda c: None


def _call(call: n.Call, scope: Scope) -> Getter:
    func, arg = call.func, call.arg
    if func == "exists":
        get = field_getter(arg, scope, call.loc)
        return lambda c: get(c) is not None
    if func == "fold":
        get = field_getter(arg, scope, call.loc)
        return lambda c: _fold(get(c))
    if func == "match":
        if arg not in scope.matches:
            scope.error(call.loc, f"unknown match '{arg}'" + closest(arg, scope.matches))
            return lambda c: False
        scope.uses_reference = True
        if arg not in scope.used_matches:
            scope.used_matches.append(arg)
        return matcher(arg)  # an EvalContext is an EventView
    if func == "allowlist":
        allow = scope.allowlists.get(arg)
        if allow is None:
            scope.error(call.loc, f"unknown allow-list '{arg}'" + closest(arg, scope.allowlists))
            return lambda c: False
        return allow.predicate(scope.rule_id)
    if func in ("hour", "weekday"):
        try:
            clock = LocalClock(arg or scope.timezone)
        except (ValueError, KeyError, OSError):
            scope.error(call.loc, f"unknown timezone '{arg or scope.timezone}' (use e.g. Europe/London)")
            return lambda c: None
        if func == "hour":
            return lambda c: clock.hour(c.ts)
        return lambda c: clock.weekday(c.ts)
    scope.error(call.loc, f"{func}(...) can only be used after 'in'")
    return lambda c: None


def _fold(value: object) -> object:
    if isinstance(value, str):
        decomposed = unicodedata.normalize("NFKD", value)
        return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    if isinstance(value, _SEQ):
        return tuple(_fold(v) for v in value)
    return value


def _truthy(operand: n.Operand, scope: Scope) -> Predicate:
    if isinstance(operand, n.Field) and operand.name in scope.matches:  # `assigned_to_linked_case or ...`
        operand = n.Call("match", operand.name, operand.loc)
    if isinstance(operand, n.Call) and operand.func == "exists" and _event_only(operand.arg, scope):
        name = operand.arg  # the common case: one dict lookup
        return lambda c: c.f.get(name) is not None
    if isinstance(operand, n.Call) and operand.func in ("match", "allowlist"):
        return _call(operand, scope)  # type: ignore[return-value]  # already a bool-valued predicate
    get = _getter(operand, scope)
    return lambda c: _is_true(get(c))


def _event_only(name: str, scope: Scope) -> bool:
    return name in EVENT_FIELDS and name not in scope.values


def _is_true(value: object) -> bool:
    if isinstance(value, str):
        return value.lower() not in ("", "false", "0", "no")
    if isinstance(value, _SEQ):
        return any(_is_true(v) for v in value)
    return bool(value)


# -- comparisons ------------------------------------------------------------------------------


def _num(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _ordered(op: Callable[[Any, Any], bool]) -> _Binary:
    def compare(a: object, b: object) -> bool:
        if isinstance(b, int | float) and not isinstance(b, bool):
            x = _num(a)
            return x is not None and op(x, b)
        if isinstance(a, int | float) and not isinstance(a, bool):
            y = _num(b)
            return y is not None and op(a, y)
        return isinstance(a, str) and isinstance(b, str) and op(a, b)

    return compare


def _eq(a: object, b: object) -> bool:
    if a == b:
        return True
    if isinstance(a, str) != isinstance(b, str):  # "5" == 5: numbers written as text in a log
        x, y = _num(a), _num(b)
        return x is not None and x == y
    return False


def _text(op: Callable[[str, str], bool]) -> _Binary:
    return lambda a, b: isinstance(a, str) and isinstance(b, str) and op(a, b)


_BINARY: dict[str, _Binary] = {
    "==": _eq,
    "<": _ordered(operator.lt),
    "<=": _ordered(operator.le),
    ">": _ordered(operator.gt),
    ">=": _ordered(operator.ge),
    "contains": _text(lambda a, b: b in a),
    "startswith": _text(str.startswith),
    "endswith": _text(str.endswith),
}


def _any_pair(fn: _Binary, a: object, b: object) -> bool:
    left = a if isinstance(a, _SEQ) else (a,)
    right = b if isinstance(b, _SEQ) else (b,)
    return any(fn(x, y) for x in left for y in right if x is not None and y is not None)


def _compare(node: n.Compare, scope: Scope) -> Predicate:
    op = node.op
    get = _getter(node.left, scope)
    right = bare_text(node.right)
    if isinstance(node.left, n.Call) and node.left.func == "weekday":
        days = (
            right.items
            if isinstance(right, n.ListLiteral)
            else (right.value,)
            if isinstance(right, n.Literal)
            else ()
        )
        for day in days:
            if day not in WEEKDAYS:
                scope.error(node.loc, f"'{day}' is not a weekday; use {', '.join(WEEKDAYS)}")
    if op == "in":
        return _membership(node.left, get, right, scope)
    if op == "matches":
        assert isinstance(right, n.Regex)
        return _regex(get, right, scope)
    if op == "!=":
        equal = _compare(n.Compare("==", node.left, node.right, node.loc), scope)
        other = _getter(right, scope)
        return lambda c: get(c) is not None and other(c) is not None and not equal(c)
    if op == "contains":
        return _contains(get, right, scope)
    fn = _BINARY[op]
    if isinstance(right, n.Literal):
        lit = right.value
        if lit is None:
            scope.error(node.loc, "compare with null using exists(field) / not exists(field)")
        if op == "==" and isinstance(lit, str):  # the common case, kept to one call
            left = node.left
            if isinstance(left, n.Field) and _event_only(left.name, scope):
                name = left.name
                return lambda c: (v := c.f.get(name)) == lit or (isinstance(v, _SEQ) and lit in v)
            return lambda c: (v := get(c)) == lit or (isinstance(v, _SEQ) and lit in v)
        return lambda c: (
            (v := get(c)) is not None and (_any_pair(fn, v, lit) if isinstance(v, _SEQ) else fn(v, lit))
        )
    other = _getter(right, scope)
    return lambda c: _any_pair(fn, get(c), other(c))


def _contains(get: Getter, right: n.Operand, scope: Scope) -> Predicate:
    other = _getter(right, scope)

    def contains(c: EvalContext) -> bool:
        v, w = get(c), other(c)
        if v is None or w is None:
            return False
        if isinstance(v, _SEQ):
            return any(_eq(x, y) for x in v for y in (w if isinstance(w, _SEQ) else (w,)))
        return _any_pair(_BINARY["contains"], v, w)

    return contains


def _membership(left_node: n.Operand, get: Getter, right: n.Operand, scope: Scope) -> Predicate:
    if isinstance(right, n.ListLiteral):
        items: frozenset[object] = frozenset(right.items)
    elif isinstance(right, n.Call) and right.func == "list":
        named = scope.lists.get(right.arg)
        if named is None:
            scope.error(right.loc, f"unknown list '{right.arg}'" + closest(right.arg, scope.lists))
            return lambda c: False
        items = named.items
    else:
        scope.error(0, "'in' needs a [list] or list(name)")
        return lambda c: False
    if any(not isinstance(i, str) for i in items):  # numbers: compare by value, "5" in [5]
        return lambda c: _any_pair(_eq, get(c), tuple(items))

    if (
        isinstance(left_node, n.Field)
        and left_node.name in EVENT_FIELDS
        and left_node.name not in scope.values
    ):
        left = left_node.name

        def member_field(c: EvalContext) -> bool:
            v = c.f.get(left)
            if isinstance(v, _SEQ):
                return any(x in items for x in v)
            return v in items

        return member_field

    def member(c: EvalContext) -> bool:
        v = get(c)
        if isinstance(v, _SEQ):
            return any(x in items for x in v)
        return v in items

    return member


def _regex(get: Getter, right: n.Regex, scope: Scope) -> Predicate:
    flags = (re.IGNORECASE if "i" in right.flags else 0) | (re.DOTALL if "s" in right.flags else 0)
    try:  # `re` when it cannot backtrack badly, else RE2; refused when neither is safe
        search = linear_search(right.pattern, flags)
    except ValueError as exc:
        scope.error(right.loc, str(exc))
        return lambda c: False

    def matches(c: EvalContext) -> bool:
        v = get(c)
        if isinstance(v, str):
            return search(v) is not None
        return isinstance(v, _SEQ) and any(isinstance(x, str) and search(x) is not None for x in v)

    return matches


def _between(node: n.Between, scope: Scope) -> Predicate:
    get = _getter(node.value, scope)
    low, high = _getter(bare_text(node.low), scope), _getter(bare_text(node.high), scope)
    ge, le = _BINARY[">="], _BINARY["<="]
    return lambda c: (v := get(c)) is not None and ge(v, low(c)) and le(v, high(c))
