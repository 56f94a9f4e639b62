"""One record type's field mapping generated as straight-line Python, compiled once per parser.

The generated function takes a decoded record (a flat dict: source field -> parsed value) and the
reference time, and returns the event time, the document and the `id:` field's value, or raises
FieldError with the dead-letter reason. What it does, in this order (the order of the document's
keys and of the checks, so outputs and reasons are those of the field-by-field loop it replaces):
the @timestamp getter and the timestamp window; the static part copied and @timestamp set; plain
copies; memoised fields; the other fields. Every source name is a constant in the code and every
closure a cell, so nothing is interpreted per event.

Memoised fields (a pure function of one string) share one cache per source field: a string seen
before costs one dict lookup for all the fields made from it (a record type mapping `action` to
both `event.action` and `event.type` looks `action` up once). A cached entry holds each field's
value, or the reason the field fails (raised when that field's turn comes, so the first failing
field in mapping order is the one reported, as before).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from auditwatch.normalise import MEMO_KEY_MAX
from auditwatch.parsing.decoders.json import MAX_DEPTH
from auditwatch.parsing.mapping import MEMO_LIMIT, FieldError, Getter, to_keyword
from auditwatch.timefmt import iso_utc

# decoded record, reference epoch -> (event time, document, value of the `id:` field)
Fill = Callable[[dict[str, Any], float], tuple[float, dict[str, Any], Any]]


class Failed:
    """A cached field failure: the dead-letter reason."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RecordPlan:
    """What one record type's generated function does (see the module docstring)."""

    static: dict[str, Any]
    timestamp_source: str | None  # None: a constant @timestamp (the getter ignores its value)
    timestamp: Getter
    window: Callable[[float, float], str | None]  # (epoch, reference) -> why outside, or None
    earliest: float
    max_future: float
    # every source present and a string (pattern and CSV decoders): one C-level pick, else None
    pick: Callable[[dict[str, Any]], tuple[Any, ...]] | None
    copies: tuple[tuple[str, str], ...]  # (target, source): optional keywords copied as they are
    memos: tuple[tuple[str, str, Getter], ...]  # (target, source, getter): pure functions of a string
    getters: tuple[tuple[str, str, Getter], ...]  # (target, source, getter): the rest
    id_field: str | None


_MISSING: Final[dict[str, Any]] = {}


def _memo_fill(
    cache: dict[str, tuple[Any, ...]], getters: tuple[Getter, ...]
) -> Callable[[str], tuple[Any, ...]]:
    """Compute, store and return the values (or Failed reasons) of one source string's fields."""

    def fill(text: str) -> tuple[Any, ...]:
        out: list[Any] = []
        for getter in getters:
            try:
                out.append(getter(text, 0.0))
            except FieldError as exc:
                out.append(Failed(str(exc)))
        values = tuple(out)
        if len(text) <= MEMO_KEY_MAX:
            if len(cache) >= MEMO_LIMIT:
                cache.clear()
            cache[text] = values
        return values

    return fill


class _Source:
    """Accumulates generated lines and the objects they refer to (as closure cells)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.cells: dict[str, Any] = {}

    def cell(self, prefix: str, value: Any) -> str:
        name = f"{prefix}{len(self.cells)}"
        self.cells[name] = value
        return name

    def add(self, indent: int, *lines: str) -> None:
        self.lines.extend("    " * indent + line for line in lines)

    def build(self, name: str, params: str) -> Any:
        cells = ", ".join(self.cells)
        body = "\n".join(self.lines)
        code = f"def _make({cells}):\n    def {name}({params}):\n{body}\n    return {name}\n"
        namespace: dict[str, Any] = {}
        exec(compile(code, f"<auditwatch parser: {name}>", "exec"), namespace)
        return namespace["_make"](**self.cells)


def _sources(plan: RecordPlan) -> list[str]:
    """Every source field the plan reads."""
    names = [s for _, s in plan.copies] + [s for _, s, _ in plan.memos] + [s for _, s, _ in plan.getters]
    for extra in (plan.timestamp_source, plan.id_field):
        if extra is not None:
            names.append(extra)
    return names


def generate(plan: RecordPlan) -> Fill:
    """The straight-line function for `plan` over a flat decoded record (see the module docstring)."""
    src = _Source()
    src.add(2, "get = P.get")
    _body(src, plan, lambda source: f"get({source!r})")
    fill: Fill = src.build("fill", "P, reference")
    return fill


# a JSON object as decoded (nested), reference epoch, the line's text -> as Fill, or None when the
# object is not of the shape the nested reading is exact for (then flatten and use the Fill)
NestedFill = Callable[[dict[str, Any], float, str], tuple[float, dict[str, Any], Any] | None]


def generate_nested(plan: RecordPlan) -> NestedFill | None:
    """For JSON records: the same function reading the mapped paths straight from the nested object,
    without flattening it; None when the mapping cannot be read that way (a source that is also the
    parent of another source, or nested deeper than the JSON decoder allows).

    Flattening joins nested keys with "." (the last of equal joined names wins), so reading
    `user.staff_no` as `obj["user"]["staff_no"]` is exact when no key contains a dot and no object
    holds a key the mapping does not walk through: then every joined name has one spelling. The
    function checks that at every object it walks through (its keys a subset of the names the
    mapped paths continue with there) and that the text holds no other object (as many `{` as
    objects walked through; a `{` inside a string only makes it fall back); a leaf that is an object
    is then impossible, as is nesting beyond the decoder's depth limit. Otherwise it returns None."""
    if plan.pick is not None:
        return None
    paths = {source: tuple(source.split(".")) for source in _sources(plan)}
    nodes: dict[tuple[str, ...], set[str]] = {(): set()}  # object path -> the keys allowed in it
    for parts in paths.values():
        for depth in range(len(parts)):
            nodes.setdefault(parts[:depth], set()).add(parts[depth])
    if any(parts in nodes for parts in paths.values()) or max(map(len, nodes)) >= MAX_DEPTH:
        return None
    src = _Source()
    add = src.add
    variable: dict[tuple[str, ...], str] = {(): "P"}
    add(2, f"if not P.keys() <= {src.cell('keys', frozenset(nodes[()]))}:", "    return None", "n = 1")
    empty = src.cell("EMPTY", _MISSING)
    for node in sorted(nodes, key=len):
        if not node:
            continue
        name = variable[node] = f"n{len(variable)}"
        add(
            2,
            f"{name} = {variable[node[:-1]]}.get({node[-1]!r})",
            f"if {name}.__class__ is dict:",
            f"    if not {name}.keys() <= {src.cell('keys', frozenset(nodes[node]))}:",
            "        return None",
            "    n += 1",
            "else:",
            f"    {name} = {empty}",
        )
    add(2, "if text.count('{') != n:", "    return None", "get = P.get")

    def fetch(source: str) -> str:
        parts = paths[source]
        if len(parts) == 1:
            return f"get({parts[0]!r})"
        return f"{variable[parts[:-1]]}.get({parts[-1]!r})"

    _body(src, plan, fetch)
    nested: NestedFill = src.build("fill_nested", "P, reference, text")
    return nested


def _body(src: _Source, plan: RecordPlan, fetch: Callable[[str], str]) -> None:
    add = src.add
    ts = src.cell("ts", plan.timestamp)
    value = "None" if plan.timestamp_source is None else fetch(plan.timestamp_source)
    window = src.cell("window", plan.window)
    earliest = src.cell("earliest", plan.earliest)
    max_future = src.cell("max_future", plan.max_future)
    static = src.cell("static", plan.static)
    iso = src.cell("iso", iso_utc)
    error = src.cell("FieldError", FieldError)
    add(
        2,
        f"epoch = {ts}({value}, reference)",
        f"if not {earliest} <= epoch <= reference + {max_future}:",
        f"    raise {error}({window}(epoch, reference) or 'out of range')",
        f"doc = {static}.copy()",
        f"doc['@timestamp'] = {iso}(epoch)",
    )
    if plan.pick is not None:
        _picked(src, plan)
    else:
        keyword = src.cell("to_keyword", to_keyword)
        for target, source in plan.copies:
            add(
                2,
                f"v = {fetch(source)}",
                "if v.__class__ is str:",
                "    if v:",
                f"        doc[{target!r}] = v",
                "elif v is not None:",
                f"    v = {keyword}(v)",
                "    if v is not None:",
                f"        doc[{target!r}] = v",
            )
    _memos(src, plan.memos, error, fetch)
    for target, source, getter in plan.getters:
        add(
            2,
            f"v = {src.cell('get', getter)}({fetch(source)}, reference)",
            "if v is not None:",
            f"    doc[{target!r}] = v",
        )
    audit_id = "None" if plan.id_field is None else fetch(plan.id_field)
    add(2, f"return epoch, doc, {audit_id}")


def _picked(src: _Source, plan: RecordPlan) -> None:
    """Every copy's source is present and a string: one itemgetter, one update, then unset the empty."""
    pick = src.cell("pick", plan.pick)
    targets = src.cell("targets", tuple(t for t, _ in plan.copies))
    src.add(
        2,
        f"values = {pick}(P)",
        f"doc.update(zip({targets}, values, strict=True))",
        "if None in values or '' in values:",
        f"    for target, v in zip({targets}, values, strict=True):",
        "        if v is None or v == '':",
        "            del doc[target]",
    )


def _memos(
    src: _Source, memos: Sequence[tuple[str, str, Getter]], error: str, fetch: Callable[[str], str]
) -> None:
    """Memoised fields in mapping order; each source's cache is looked up where it is first needed."""
    groups: dict[str, list[int]] = {}
    for index, (_, source, _) in enumerate(memos):
        groups.setdefault(source, []).append(index)
    variable: dict[str, str] = {}
    failed = src.cell("Failed", Failed)
    for index, (target, source, getter) in enumerate(memos):
        members = groups[source]
        position = members.index(index)
        if source not in variable:
            cache: dict[str, tuple[Any, ...]] = {}
            fill = _memo_fill(cache, tuple(memos[i][2] for i in members))
            s = variable[source] = f"s{len(variable)}"
            t = "t" + s[1:]
            src.add(
                2,
                f"{s} = {fetch(source)}",
                f"if {s}.__class__ is str:",
                f"    {t} = {src.cell('cache', cache)}.get({s})",
                f"    if {t} is None:",
                f"        {t} = {src.cell('fill', fill)}({s})",
                "else:",
                f"    {t} = None",
            )
        s = variable[source]
        t = "t" + s[1:]
        src.add(
            2,
            f"if {t} is not None:",
            f"    v = {t}[{position}]",
            f"    if v.__class__ is {failed}:",
            f"        raise {error}(v.reason)",
            "else:",
            f"    v = {src.cell('get', getter)}({s}, reference)",
            "if v is not None:",
            f"    doc[{target!r}] = v",
        )
