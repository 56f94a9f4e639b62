"""Plain-language reason templates (`"{user.id} opened {subject.staff_id}"`), split once at load time."""

from __future__ import annotations

import string
from collections.abc import Callable, Collection
from dataclasses import dataclass

from auditwatch.schema import EVENT_FIELDS

WINDOW_PLACEHOLDERS = frozenset(
    {"window.count", "window.distinct", "window.start", "window.end", "window.days"}
)


@dataclass(frozen=True, slots=True)
class Template:
    text: str
    parts: tuple[tuple[str, str | None], ...]  # (literal text, placeholder or None)

    def render(self, lookup: Callable[[str], object]) -> str:
        out: list[str] = []
        for literal, name in self.parts:
            out.append(literal)
            if name is not None:
                out.append(_show(lookup(name)))
        return "".join(out)


def _show(value: object) -> str:
    if value is None or value in ("", ()):
        return "(unknown)"
    if isinstance(value, list | tuple | frozenset):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def compile_template(
    text: str, values: Collection[str], matches: Collection[str]
) -> tuple[Template, list[str]]:
    """The template and the problems with it (unknown placeholders, format errors)."""
    problems: list[str] = []
    parts: list[tuple[str, str | None]] = []
    try:
        pieces = list(string.Formatter().parse(text))
    except ValueError as exc:
        return Template(text, ((text, None),)), [f"invalid template: {exc} (write {{{{ for a literal brace)"]
    for literal, name, spec, conv in pieces:
        if name is not None:
            if spec or conv:
                problems.append(f"placeholder '{{{name}}}' takes no format spec or conversion")
            if not _known(name, values, matches):
                problems.append(
                    f"unknown placeholder '{{{name}}}': use an event field, a reference value, "
                    "match.NAME, or window.count/distinct/start/end/days"
                )
        parts.append((literal, name if name else None))
    return Template(text, tuple(parts)), problems


def _known(name: str, values: Collection[str], matches: Collection[str]) -> bool:
    if name in EVENT_FIELDS or name in values or name in WINDOW_PLACEHOLDERS:
        return True
    return name.startswith("match.") and name[6:] in matches
