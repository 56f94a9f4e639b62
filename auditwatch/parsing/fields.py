"""Read the `fields:` mapping of a parser file (shared, or a record type's own) into `FieldDef`s:
for each canonical field, where its value comes from (`from` a parsed field or a constant `value`),
`map`, `default`, `normalise`, `required`, and for date fields their `formats` and `timezone`,
compiled here; every problem is reported with its place in the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from auditwatch import schema
from auditwatch.config.spec import Reader
from auditwatch.config.yamlsource import PathKey
from auditwatch.errors import UNKNOWN_FIELD
from auditwatch.normalise import Normaliser, build_normaliser
from auditwatch.timefmt import TimestampParser

_NO_DEFAULT: Final = object()


@dataclass(frozen=True, slots=True)
class FieldDef:
    """How one canonical field is filled from a parsed record."""

    target: str
    kind: str  # the field's Elasticsearch type from auditwatch.schema
    source: str | None  # `from`: a parsed field
    value: Any  # `value`: a constant (when source is None)
    table: Mapping[str, Any] | None  # `map`
    default: Any  # `default`: used when the source is missing/empty or not in `map`; _NO_DEFAULT if absent
    normaliser: Normaliser | None
    required: bool
    timestamp: TimestampParser | None  # date fields
    contains_any: tuple[str, ...]  # boolean fields: true when the source contains any of these

    @property
    def has_default(self) -> bool:
        return self.default is not _NO_DEFAULT


def merge(shared: dict[str, FieldDef], own: dict[str, FieldDef]) -> tuple[FieldDef, ...]:
    return tuple({**shared, **own}.values())


def read_fields(parent: Reader) -> dict[str, FieldDef]:
    section = parent.section("fields")
    out: dict[str, FieldDef] = {}
    for target in list(section.data):
        section.optional(target, object, None)
        where = (*section.path, target)
        if target not in schema.PARSER_SETTABLE:
            section.problem(
                where, f"'{target}' is not a field a parser may set (see auditwatch.schema)", UNKNOWN_FIELD
            )
            continue
        raw = section.data[target]
        if isinstance(raw, str):  # shorthand: `user.id: user` means `from: user`
            spec: FieldDef | None = _field_def(target, {"from": raw}, section, where)
        elif isinstance(raw, dict):
            spec = _field_reader(target, Reader(section.doc, where, section.problems))
        else:
            section.problem(where, "must be a parsed field name or a mapping (from/value/map/...)")
            continue
        if spec is not None:
            out[target] = spec
    return out


_FIELD_KEYS: Final = (
    "from",
    "value",
    "map",
    "default",
    "normalise",
    "required",
    "formats",
    "timezone",
    "contains_any",
)


def _field_reader(target: str, reader: Reader) -> FieldDef | None:
    for key in _FIELD_KEYS:
        reader.optional(key, object, None)  # marks the key as known; _field_def checks the values
    reader.done()
    return _field_def(target, dict(reader.data), reader, reader.path)


def _field_def(target: str, data: dict[str, Any], reader: Reader, where: PathKey) -> FieldDef | None:
    kind = schema.EVENT_FIELDS[target]
    ok = True

    def bad(key: str, message: str) -> None:
        nonlocal ok
        ok = False
        reader.problem((*where, key) if key else where, message)

    source = data.get("from")
    has_value = "value" in data
    if (source is None) == (not has_value):
        bad("", "needs exactly one of 'from' (a parsed field) or 'value' (a constant)")
    if source is not None and not isinstance(source, str):
        bad("from", "must be a parsed field name")
    value = data.get("value")
    if has_value and target in schema.LIST_FIELDS and isinstance(value, str):
        value = [value]
    table = data.get("map")
    if table is not None and not isinstance(table, dict):
        bad("map", "must be a mapping of source value to canonical value")
    required = data.get("required", target == "@timestamp")
    if not isinstance(required, bool):
        bad("required", "must be true or false")
    normaliser = None
    if data.get("normalise") is not None:
        try:
            normaliser = build_normaliser(data["normalise"])
        except ValueError as exc:
            bad("normalise", str(exc))
    timestamp = None
    formats = data.get("formats")
    timezone = data.get("timezone", "UTC")
    if kind == schema.DATE:
        if source is not None:
            if isinstance(formats, str):
                formats = [formats]
            if not isinstance(formats, list) or not formats or not all(isinstance(f, str) for f in formats):
                bad("formats", "a date field read from a parsed field needs 'formats' (a list of formats)")
            elif not isinstance(timezone, str):
                bad("timezone", "must be a time zone name such as Europe/London")
            else:
                try:
                    timestamp = TimestampParser(formats, timezone)
                except ValueError as exc:
                    bad("formats" if "zone" not in str(exc) else "timezone", str(exc))
    else:
        for key in ("formats", "timezone"):
            if key in data:
                bad(key, f"only for date fields (@timestamp, event.created), not {target} ({kind})")
    contains = data.get("contains_any", [])
    if isinstance(contains, str):
        contains = [contains]
    if "contains_any" in data and kind != schema.BOOLEAN:
        bad("contains_any", f"only for true/false fields, not {target} ({kind})")
    elif not isinstance(contains, list) or not all(isinstance(c, str) and c for c in contains):
        bad("contains_any", "must be a list of non-empty strings")
    if not ok:
        return None
    return FieldDef(
        target=target,
        kind=kind,
        source=source,
        value=value,
        table={str(k): v for k, v in table.items()} if table else None,
        default=data.get("default", _NO_DEFAULT),
        normaliser=normaliser,
        required=bool(required),
        timestamp=timestamp,
        contains_any=tuple(contains),
    )
