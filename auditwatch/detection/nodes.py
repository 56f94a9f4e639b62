"""The condition language's syntax tree: frozen values built by the grammar, read by the compiler."""

from __future__ import annotations

from dataclasses import dataclass

Scalar = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Field:
    """A field of the event or a reference value (`user.id`, `user.surname`)."""

    name: str
    loc: int  # 0-based offset in the condition text, for error messages


@dataclass(frozen=True, slots=True)
class Literal:
    value: Scalar


@dataclass(frozen=True, slots=True)
class ListLiteral:
    items: tuple[Scalar, ...]


@dataclass(frozen=True, slots=True)
class Call:
    """`exists(f)`, `fold(f)`, `match(name)`, `allowlist(name)`, `list(name)`, `hour(tz)`, `weekday(tz)`."""

    func: str
    arg: str  # a field name, a reference/list name, or a timezone ("" for the rule's default zone)
    loc: int


@dataclass(frozen=True, slots=True)
class Regex:
    pattern: str
    flags: str
    loc: int


Operand = Field | Literal | ListLiteral | Call | Regex


@dataclass(frozen=True, slots=True)
class Compare:
    """`left OP right` where OP is a comparison, `in`, `contains`, `startswith`, `endswith`, `matches`."""

    op: str
    left: Operand
    right: Operand
    loc: int


@dataclass(frozen=True, slots=True)
class Between:
    value: Operand
    low: Operand
    high: Operand
    loc: int


@dataclass(frozen=True, slots=True)
class Truthy:
    """A bare operand used as a condition: `exists(x)`, `match(x)`, `auditwatch.search.wildcard`."""

    operand: Operand


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Node, ...]


Node = Compare | Between | Truthy | Not | And | Or
