"""Compile field mappings (`FieldDef`) into small closures: parsed record -> canonical value.

Order for a `from` field: missing or empty -> `default` (else nothing); a string is normalised,
then looked up in `map` (unknown -> `default`, else unchanged), then converted to the field's
Elasticsearch type (long, boolean, ip, date, keyword lists); a value that does not convert
dead-letters the line when the field is `required`, and is left out otherwise. Constants
(`value`) are not closures at all: they are folded into each record type's static document part.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from auditwatch import schema
from auditwatch.errors import AuditwatchError
from auditwatch.parsing.fields import FieldDef
from auditwatch.timefmt import iso_utc

# the source field's parsed value (None when missing), reference epoch (receive time, for year-less
# timestamps) -> the document value or None
Getter = Callable[[Any, float], Any]

_TRUE: Final = frozenset({"true", "yes", "y", "1", "t", "on"})
_FALSE: Final = frozenset({"false", "no", "n", "0", "f", "off"})
_IP: Final = re.compile(r"[0-9A-Fa-f:.]{2,45}")
_INT: Final = re.compile(r"\s*[+-]?\d{1,18}\s*")


class FieldError(AuditwatchError, ValueError):
    """A field could not be filled: the message is the dead-letter reason."""


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def constant(spec: FieldDef) -> Any:
    """The document value of a constant field (`value:`)."""
    value = spec.value
    if spec.target in schema.LIST_FIELDS:
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]
    if spec.kind == schema.LONG and not isinstance(value, bool) and isinstance(value, int):
        return value
    if spec.kind == schema.BOOLEAN and isinstance(value, bool):
        return value
    return str(value)


def is_plain_copy(spec: FieldDef) -> bool:
    """True when the field is an optional keyword copied as it is: the runtime inlines these."""
    return (
        spec.source is not None
        and not spec.required
        and spec.normaliser is None
        and spec.table is None
        and not spec.has_default
        and spec.kind == schema.KEYWORD
        and spec.target not in schema.LIST_FIELDS
    )


def to_keyword(value: Any) -> Any:
    """A non-string parsed value as a keyword: lists element-wise, booleans lower-case."""
    if isinstance(value, list):
        return [str(v) for v in value if v is not None] or None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


MEMO_LIMIT: Final = 20_000  # entries per memo cache (cleared when full: the values repeat)


def is_memoisable(spec: FieldDef) -> bool:
    """Worth caching: a non-date field whose string goes through a normaliser or a table, or becomes
    a number (pure and comparatively costly; identifiers, codes and counts repeat)."""
    return (
        spec.source is not None
        and spec.timestamp is None
        and (spec.normaliser is not None or spec.table is not None or spec.kind == schema.LONG)
    )


def compile_getter(spec: FieldDef) -> Getter:
    """The closure that turns the value of `spec.source` in a parsed record (None when missing) into
    the value of `spec.target` (None: not set; FieldError when the line must fail)."""
    source = spec.source
    assert source is not None
    target = spec.target
    required = spec.required
    has_default = spec.has_default
    default = spec.default
    normaliser = spec.normaliser
    table = spec.table
    convert = _converter(spec)
    missing = f"field {target}: missing (from '{source}')"
    if spec.timestamp is not None and normaliser is None and table is None and not has_default:
        return _timestamp_getter(spec, missing)

    if (
        normaliser is None
        and table is None
        and not has_default
        and spec.kind == schema.KEYWORD
        and (target not in schema.LIST_FIELDS)
    ):
        # the common case, kept lean: a keyword copied as it is
        def plain(value: Any, reference: float) -> Any:
            if value is None or value == "":
                if required:
                    raise FieldError(missing)
                return None
            return value if value.__class__ is str else convert(value, reference)

        return plain

    if normaliser is None and table is None and not has_default and not required and spec.contains_any:
        # a wildcard flag on free text (rarely repeats): one regex search
        search = re.compile("|".join(map(re.escape, spec.contains_any))).search

        def contains(value: Any, reference: float) -> Any:
            if value is None or value in ("", []):
                return None
            return search(value if value.__class__ is str else str(value)) is not None

        return contains

    keyword = spec.kind == schema.KEYWORD and target not in schema.LIST_FIELDS

    def general(value: Any, reference: float) -> Any:
        if value is None or value in ("", []):
            value = default if has_default else None
        else:
            if normaliser is not None:
                value = normaliser(value) if value.__class__ is str else _normalise(normaliser, value)
            if table is not None and value is not None:
                key = value if isinstance(value, str) else str(value)
                if key in table:
                    value = table[key]
                elif has_default:
                    value = default
        if value is None or value == "":
            if required:
                raise FieldError(missing)
            return None
        if keyword and value.__class__ is str:
            return value
        if required:
            return convert(value, reference)
        try:
            return convert(value, reference)
        except FieldError:  # an optional field with a bad value is left out; event.original keeps it
            return None

    return general


def _timestamp_getter(spec: FieldDef, missing: str) -> Getter:
    """Date fields, the hot one being @timestamp: one closure straight to the compiled formats."""
    source, target, required, parser = spec.source, spec.target, spec.required, spec.timestamp
    assert parser is not None
    parse, explain = parser.fast, parser.explain
    assert source is not None
    as_epoch = target == "@timestamp"

    def timestamp(value: Any, reference: float) -> Any:
        if value is None or value == "":
            if required:
                raise FieldError(missing)
            return None
        text = value if value.__class__ is str else str(value)
        epoch = parse(text, reference)
        if epoch is None:
            if required:
                raise FieldError(f"field {target}: {explain(text, reference)}")
            return None
        return epoch if as_epoch else _iso_or_fail(epoch, target, text)

    return timestamp


def _iso_or_fail(epoch: float, target: str, text: str) -> str:
    try:
        return iso_utc(epoch)
    except (OverflowError, OSError, ValueError):  # beyond what a datetime can hold
        raise FieldError(f"field {target}: {text[:60]!r} is out of range") from None


def _normalise(normaliser: Callable[[str], str | None], value: Any) -> Any:
    if isinstance(value, list):
        out = [normaliser(str(v)) for v in value if v is not None]
        return [v for v in out if v] or None
    if isinstance(value, bool | dict):
        return value
    return normaliser(value if isinstance(value, str) else str(value))


def _converter(spec: FieldDef) -> Callable[[Any, float], Any]:
    target = spec.target
    kind = spec.kind
    if spec.timestamp is not None:
        parse = spec.timestamp

        def to_epoch(value: Any, reference: float) -> Any:
            text = value if isinstance(value, str) else str(value)
            epoch = parse(text, reference)
            if epoch is None:
                raise FieldError(f"field {target}: {parse.explain(text)}")
            return epoch if target == "@timestamp" else _iso_or_fail(epoch, target, text)

        return to_epoch
    if target in schema.LIST_FIELDS:

        def to_list(value: Any, reference: float) -> Any:
            if isinstance(value, list):
                return [str(v) for v in value if v is not None and v != ""] or None
            return [str(value)]

        return to_list
    if kind == schema.LONG:

        def to_long(value: Any, reference: float) -> Any:
            if value.__class__ is int:
                return value
            if value.__class__ is str and _INT.fullmatch(value):
                return int(value)
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise FieldError(f"field {target}: {_show(value)} is not a whole number")

        return to_long
    if kind == schema.BOOLEAN:
        pattern = "|".join(map(re.escape, spec.contains_any))
        needles = re.compile(pattern).search if pattern else None

        def to_bool(value: Any, reference: float) -> Any:
            if needles is not None:
                return needles(value if value.__class__ is str else str(value)) is not None
            if isinstance(value, bool):
                return value
            folded = str(value).strip().lower()
            if folded in _TRUE:
                return True
            if folded in _FALSE:
                return False
            raise FieldError(f"field {target}: {_show(value)} is not true or false")

        return to_bool
    if kind == schema.IP:

        def to_ip(value: Any, reference: float) -> Any:
            text = str(value).strip()
            if _IP.fullmatch(text) and ("." in text or ":" in text):
                return text
            raise FieldError(f"field {target}: {_show(value)} is not an IP address")

        return to_ip

    def keyword(value: Any, reference: float) -> Any:
        return to_keyword(value)

    return keyword
