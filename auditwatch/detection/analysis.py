"""What a condition tree says before it is compiled: the cost class of each part (the compiler
tests cheap conjuncts first), the prefilter (a field and the values it must take, so the engine runs
a rule only on events that can match), the residual condition once the prefilter holds, and the
reference matches a rule cannot fire without.
"""

from __future__ import annotations

from collections.abc import Collection

from auditwatch.detection import nodes as n
from auditwatch.schema import EVENT_FIELDS


def bare_text(operand: n.Operand) -> n.Operand:
    """On the right of a comparison a bare word without a dot is text: `event.action == person_view`,
    `weekday == sat` (every field name has a dot)."""
    if isinstance(operand, n.Field) and "." not in operand.name and not operand.name.startswith("@"):
        return n.Literal(operand.name)
    return operand


PREFILTER_PREFERENCE = ("event.action", "event.type", "auditwatch.record.type", "event.category")


def cost(node: n.Node, values: Collection[str]) -> int:
    """Rough cost class of evaluating `node`: 0 event fields only, 1 time / allow-lists / regexes,
    2 reference values, 3 reference matches."""
    if isinstance(node, n.And | n.Or):
        return max(cost(p, values) for p in node.operands)
    if isinstance(node, n.Not):
        return cost(node.operand, values)
    if isinstance(node, n.Truthy):
        operand = node.operand
        if isinstance(operand, n.Field) and "." not in operand.name:  # `assigned_to_linked_case`
            return 3
        return _operand_cost(operand, values)
    if isinstance(node, n.Between):
        return max(_operand_cost(o, values) for o in (node.value, node.low, node.high))
    return max(
        _operand_cost(node.left, values), _operand_cost(node.right, values), 1 if node.op == "matches" else 0
    )


def _operand_cost(operand: n.Operand, values: Collection[str]) -> int:
    if isinstance(operand, n.Field):
        return 2 if operand.name in values else 0
    if isinstance(operand, n.Call):
        if operand.func == "match":
            return 3
        if operand.func in ("exists", "fold"):
            return 2 if operand.arg in values else 0
        return 0 if operand.func == "list" else 1
    return 0


def residual(node: n.Node, values: Collection[str]) -> n.Node | None:
    """`node` without the top-level conjunct `prefilter` reads (None: nothing else to test). The
    engine only runs a rule on events its prefilter admits, so that conjunct is already known true."""
    chosen = _prefilter_parts(node, values)
    if chosen is None:
        return node
    index = chosen[2]
    if not isinstance(node, n.And):
        return None
    rest = tuple(p for i, p in enumerate(node.operands) if i != index)
    return rest[0] if len(rest) == 1 else n.And(rest)


def prefilter(node: n.Node, values: Collection[str]) -> tuple[str, frozenset[str]] | None:
    """A field and the values it must take for `node` to be true, if a top-level conjunct says so."""
    chosen = _prefilter_parts(node, values)
    return None if chosen is None else (chosen[0], chosen[1])


def _prefilter_parts(node: n.Node, values: Collection[str]) -> tuple[str, frozenset[str], int] | None:
    """(field, values, index of the conjunct) of the prefilter."""
    conjuncts = node.operands if isinstance(node, n.And) else (node,)
    found: dict[str, tuple[frozenset[str], int]] = {}
    for index, part in enumerate(conjuncts):
        if not isinstance(part, n.Compare) or not isinstance(part.left, n.Field):
            continue
        name, right = part.left.name, bare_text(part.right)
        if name not in EVENT_FIELDS or name in values:
            continue
        if part.op == "==" and isinstance(right, n.Literal) and isinstance(right.value, str):
            found[name] = (frozenset((right.value,)), index)
        elif (
            part.op == "in"
            and isinstance(right, n.ListLiteral)
            and all(isinstance(i, str) for i in right.items)
        ):
            found[name] = (frozenset(i for i in right.items if isinstance(i, str)), index)
    if not found:
        return None
    for name in PREFILTER_PREFERENCE:
        if name in found:
            return name, *found[name]
    name = sorted(found)[0]
    return name, *found[name]


def required_matches(node: n.Node, matches: Collection[str]) -> frozenset[str]:
    """Reference matches `node` cannot be true without: its top-level conjuncts `match(x)` (or a bare
    match name). The engine skips the rule for users for whom one of them can never hold."""
    if isinstance(node, n.And):
        found: frozenset[str] = frozenset()
        for part in node.operands:
            found |= required_matches(part, matches)
        return found
    if isinstance(node, n.Truthy):
        operand = node.operand
        if isinstance(operand, n.Call) and operand.func == "match" and operand.arg in matches:
            return frozenset((operand.arg,))
        if isinstance(operand, n.Field) and operand.name in matches:
            return frozenset((operand.name,))
    return frozenset()
