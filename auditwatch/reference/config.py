"""The `reference:` section of the daemon config: which exports to load and how to read them.

```yaml
reference:
  timezone: Europe/London          # local dates (status_from, vetting expiry, assignments) are in this zone
  roster_grace_minutes: 30         # an access this close to a rostered shift still counts as on duty
  max_bad_rows_percent: 5          # more bad rows than this rejects an export whole
  reload_debounce_seconds: 2       # a changed export is reloaded once it has been quiet this long
  reload_poll_seconds: 5           # exports are polled (mtime/size/inode) this often (NFS: no inotify)
  identifiers:                     # one spelling for ids, used on both the export and the event side
    staff_id: {staff_id: {prefix: MP, digits: 6}}
    case_ref: upper
  sources:
    - kind: staff                  # see KINDS for each kind's canonical columns
      path: exports/hr.csv         # relative to the config file
      format: csv                  # csv | json | jsonl
      encoding: utf-8-sig
      delimiter: ";"
      columns: {staff_id: "Staff Number", surname: "Last Name"}
      normalise: {status: {map: {values: {Leaver: left}}}}
      date_formats: ["%d/%m/%Y", iso8601]
      optional: false              # true: the daemon may start without a usable version of this export
```

Unmapped canonical columns are looked up under their own name; header names are compared ignoring
case, spaces, underscores and hyphens, so `Staff ID`, `staff_id` and `STAFF-ID` all match.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from auditwatch.config.spec import Reader, known_zone, not_negative, positive
from auditwatch.normalise import build_normaliser, compile_date, compile_timestamp

# Column types: how a raw cell becomes a canonical value (see tables.py).
ID: Final = "id"  # an identifier normalised by `identifiers:` (staff_id, person_id, record_id, case_ref)
TEXT: Final = "text"  # trimmed text, kept as spelt
TOKEN: Final = "token"  # a code word: folded, spaces to underscores ("Press Office" -> "press_office")
LIST: Final = "list"  # several tokens in one cell, split on , ; or |
DATE: Final = "date"  # -> YYYY-MM-DD
TIMESTAMP: Final = "timestamp"  # -> epoch seconds
POSTCODE: Final = "postcode"  # -> UK postcode, "SW1A 1AA"
NUMBER: Final = "number"
NAMES: Final = "names"  # several full names in one cell ("SMITH, Jane; Jane Brown"), split on ; or |


@dataclass(frozen=True, slots=True)
class KindSpec:
    """The canonical columns of one kind of export."""

    description: str
    columns: Mapping[str, tuple[str, str]]  # name -> (type, description)
    required: tuple[str, ...]  # columns every export of this kind must have
    one_of: tuple[str, ...] = ()  # at least one of these columns must exist (and be filled per row)
    # required columns that may be blank *together* on a row: such a row is valid and states an
    # absence (a roster row without times is a rest day or leave: not on duty)
    blank_together: tuple[str, ...] = ()


_NAME_COLUMNS: Final[dict[str, tuple[str, str]]] = {
    "surname": (TEXT, "family name"),
    "forenames": (TEXT, "given names"),
    "name": (TEXT, "full name in one cell, when surname/forenames are not separate"),
    "dob": (DATE, "date of birth"),
    "person_id": (ID, "the person's id in the record system"),
}

KINDS: Final[Mapping[str, KindSpec]] = {
    "staff": KindSpec(
        "HR directory: one row per member of staff (several rows = a status history)",
        {
            "staff_id": (ID, "staff number"),
            "surname": (TEXT, "family name"),
            "forenames": (TEXT, "given names"),
            "dob": (DATE, "date of birth"),
            "postcode": (POSTCODE, "home postcode"),
            "address": (TEXT, "home address"),
            "unit": (TEXT, "unit, team or department"),
            "rank": (TEXT, "rank or grade"),
            "roles": (
                LIST,
                "duties such as vetting, psd, press_office, subject_access, training, "
                "intelligence_bulk, control_room, major_incident",
            ),
            "vetting_level": (TEXT, "vetting level held"),
            "vetting_expiry": (DATE, "last day the vetting is valid"),
            "status": (TOKEN, "active, suspended, restricted or left"),
            "status_from": (DATE, "first day the status applies"),
            "person_id": (ID, "the staff member's own person id in the record system"),
        },
        ("staff_id",),
    ),
    "persons": KindSpec(
        "the records system's own person (nominal) table: what an audit line's person id stands for",
        {
            "person_id": (ID, "the person's id in the record system (what audit lines carry)"),
            "surname": (TEXT, "family name, as the records system spells it (often upper-cased)"),
            "forenames": (TEXT, "given names"),
            "name": (TEXT, "full name in one cell, when surname/forenames are not separate"),
            "dob": (DATE, "date of birth"),
            "postcode": (POSTCODE, "postcode of the person's address"),
            "address": (TEXT, "the person's address"),
            "aliases": (NAMES, "other names the person is known by, split on ; or | (same DOB)"),
        },
        ("person_id",),
    ),
    "watchlist": KindSpec(
        "VIP / high-profile watchlist",
        {
            **_NAME_COLUMNS,
            "category": (TOKEN, "celebrity, politician, high_profile_case, protected_person"),
            "reason": (TEXT, "why the person is on the list"),
            "added_on": (DATE, "first day the entry applies (empty: always)"),
            "removed_on": (DATE, "day the entry stops applying (empty: still listed)"),
        },
        (),
        ("person_id", "surname", "name"),
    ),
    "associates": KindSpec(
        "integrity register: associates each member of staff declared",
        {
            "staff_id": (ID, "who declared"),
            **_NAME_COLUMNS,
            "relationship": (TEXT, "declared relationship"),
            "declared_on": (DATE, "date of declaration: the entry applies from that day (empty: always)"),
            "ended_on": (DATE, "day the declared relationship ended (empty: still applies)"),
        },
        ("staff_id",),
        ("person_id", "surname", "name"),
    ),
    "assignments": KindSpec(
        "case assignments: staff -> case/incident/custody reference, with dates",
        {
            "staff_id": (ID, "assigned member of staff"),
            "case_ref": (ID, "case reference"),
            "from": (DATE, "first day of the assignment (empty: always)"),
            "to": (DATE, "last day of the assignment (empty: still assigned)"),
            "role": (TOKEN, "role on the case, e.g. oic"),
        },
        ("staff_id", "case_ref"),
    ),
    "case_links": KindSpec(
        "case <-> person / record links",
        {
            "case_ref": (ID, "case reference"),
            "person_id": (ID, "linked person"),
            "record_id": (ID, "linked record"),
            "role": (TOKEN, "victim, witness, suspect, ..."),
        },
        ("case_ref",),
        ("person_id", "record_id"),
    ),
    "roster": KindSpec(
        "duty roster: one row per shift; a row with neither start nor end is a rest day or leave",
        {
            "staff_id": (ID, "rostered member of staff"),
            "start": (TIMESTAMP, "shift start (a time of day when `date` is given)"),
            "end": (TIMESTAMP, "shift end; an end at or before the start on the same `date` is the next day"),
            "date": (TEXT, "shift date, when start and end are times of day"),
        },
        ("staff_id", "start", "end"),
        blank_together=("start", "end"),
    ),
    "surnames": KindSpec(
        "surname frequency table (population counts)",
        {"surname": (TEXT, "surname"), "count": (NUMBER, "how many people bear it")},
        ("surname", "count"),
    ),
}

FORMATS: Final = ("csv", "json", "jsonl")
IDENTIFIERS: Final = ("staff_id", "person_id", "record_id", "case_ref")
DEFAULT_IDENTIFIERS: Final[Mapping[str, object]] = {
    "staff_id": "staff_id",
    "person_id": "trim",
    "record_id": "trim",
    "case_ref": ["upper", {"replace": {"pattern": r"\s+", "with": ""}}],
}
DEFAULT_DATE_FORMATS: Final = ("iso8601", "%d/%m/%Y")
DEFAULT_TIMESTAMP_FORMATS: Final = ("iso8601", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M")


@dataclass(frozen=True)
class SourceConfig:
    """One export file to load."""

    kind: str
    path: str
    format: str = "csv"
    encoding: str = "utf-8-sig"
    delimiter: str = ","
    columns: Mapping[str, str] = field(default_factory=dict)  # canonical -> export column name
    normalise: Mapping[str, Any] = field(default_factory=dict)  # canonical -> normaliser spec
    date_formats: tuple[str, ...] = DEFAULT_DATE_FORMATS
    timestamp_formats: tuple[str, ...] = DEFAULT_TIMESTAMP_FORMATS
    timezone: str = ""  # "" = the reference section's timezone
    max_bad_rows_percent: float | None = None  # None = the reference section's
    min_rows: int = 1  # fewer data rows than this means a broken extraction
    optional: bool = False  # the daemon may start without a usable version of this export
    declared_at: str = ""  # "config.yml:12", for messages


@dataclass(frozen=True)
class ReferenceConfig:
    """Everything the reference loader needs; an empty one loads nothing."""

    sources: tuple[SourceConfig, ...] = ()
    timezone: str = "Europe/London"
    identifiers: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_IDENTIFIERS))
    roster_grace_seconds: float = 1800.0
    max_bad_rows_percent: float = 5.0
    reload_debounce_seconds: float = 2.0
    reload_poll_seconds: float = 5.0
    max_reported_rows: int = 20  # bad rows reported one by one per export; the rest are counted


def read_reference_config(reader: Reader) -> ReferenceConfig:
    """Read the `reference:` section; problems are added to `reader.problems` (not raised)."""
    base = Path(reader.doc.file).parent if reader.doc.file and not reader.doc.file.startswith("<") else None
    timezone = reader.optional("timezone", str, "Europe/London", known_zone)
    identifiers = dict(DEFAULT_IDENTIFIERS)
    ids = reader.section("identifiers")
    for name in IDENTIFIERS:
        if ids.has(name):
            spec = ids.optional(name, object, None, _check_normaliser)
            if spec is not None:
                identifiers[name] = spec
    ids.done()
    grace = reader.optional("roster_grace_minutes", float, 30.0, not_negative)
    max_bad = reader.optional("max_bad_rows_percent", float, 5.0, _percent)
    debounce = reader.optional("reload_debounce_seconds", float, 2.0, not_negative)
    poll = reader.optional("reload_poll_seconds", float, 5.0, positive)
    max_reported = reader.optional("max_reported_rows", int, 20, not_negative)
    sources = tuple(
        source
        for item in reader.sections("sources")
        if (source := _read_source(item, base, timezone or "Europe/London")) is not None
    )
    reader.done()
    return ReferenceConfig(
        sources=sources,
        timezone=timezone or "Europe/London",
        identifiers=identifiers,
        roster_grace_seconds=(grace if grace is not None else 30.0) * 60.0,
        max_bad_rows_percent=max_bad if max_bad is not None else 5.0,
        reload_debounce_seconds=debounce if debounce is not None else 2.0,
        reload_poll_seconds=poll if poll is not None else 5.0,
        max_reported_rows=max_reported if max_reported is not None else 20,
    )


def _read_source(reader: Reader, base: Path | None, timezone: str) -> SourceConfig | None:
    before = len(reader.problems)
    kind = reader.required("kind", str, _check_kind)
    path = reader.required("path", str)
    fmt = reader.optional("format", str, "", _check_format)
    encoding = reader.optional("encoding", str, "utf-8-sig", _check_encoding)
    delimiter = reader.optional("delimiter", str, ",", _check_delimiter)
    spec = KINDS.get(kind) if isinstance(kind, str) else None
    columns: dict[str, str] = {}
    cols = reader.section("columns")
    for name in list(cols.data):
        value = cols.optional(name, str, None)
        if spec is not None and name not in spec.columns:
            cols.problem((*cols.path, name), _unknown_column(kind, name, spec))
        elif value is not None:
            columns[name] = value
    cols.done()
    normalise: dict[str, object] = {}
    norm = reader.section("normalise")
    for name in list(norm.data):
        value = norm.optional(name, object, None, _check_normaliser)
        if spec is not None and name not in spec.columns:
            norm.problem((*norm.path, name), _unknown_column(kind, name, spec))
        elif value is not None:
            normalise[name] = value
    norm.done()
    date_formats = reader.string_list("date_formats", DEFAULT_DATE_FORMATS)
    timestamp_formats = reader.string_list("timestamp_formats", DEFAULT_TIMESTAMP_FORMATS)
    zone = reader.optional("timezone", str, timezone, known_zone)
    max_bad = reader.optional("max_bad_rows_percent", float, None, _percent)
    min_rows = reader.optional("min_rows", int, 1, not_negative)
    optional = reader.optional("optional", bool, False)
    _check(reader, "date_formats", lambda: compile_date(list(date_formats)))
    _check(reader, "timestamp_formats", lambda: compile_timestamp(list(timestamp_formats), zone or "UTC"))
    reader.done()
    if len(reader.problems) > before or not isinstance(kind, str) or not isinstance(path, str):
        return None
    if not fmt:
        suffix = Path(path).suffix.lower().lstrip(".")
        fmt = suffix if suffix in FORMATS else "csv"
    resolved = Path(path).expanduser()
    if base is not None and not resolved.is_absolute():
        resolved = base / resolved
    return SourceConfig(
        kind=kind,
        path=str(resolved),
        format=fmt,
        encoding=encoding or "utf-8-sig",
        delimiter=delimiter or ",",
        columns=columns,
        normalise=normalise,
        date_formats=date_formats,
        timestamp_formats=timestamp_formats,
        timezone=zone or timezone,
        max_bad_rows_percent=max_bad,
        min_rows=min_rows if min_rows is not None else 1,
        optional=bool(optional),
        declared_at=f"{reader.doc.file}:{reader.doc.line_of(reader.path)}",
    )


def _unknown_column(kind: object, name: str, spec: KindSpec) -> str:
    return f"'{name}' is not a column of {kind} exports (columns: {', '.join(spec.columns)})"


def _check(reader: Reader, key: str, compile_it: Any) -> None:
    try:
        compile_it()
    except ValueError as exc:
        reader.problem((*reader.path, key), str(exc))


def _check_kind(value: str) -> str:
    if value not in KINDS:
        raise ValueError(f"unknown kind '{value}' (kinds: {', '.join(KINDS)})")
    return value


def _check_format(value: str) -> str:
    if value not in FORMATS:
        raise ValueError(f"unknown format '{value}' (formats: {', '.join(FORMATS)})")
    return value


def _check_encoding(value: str) -> str:
    try:
        codecs.lookup(value)
    except LookupError as exc:
        raise ValueError(f"unknown encoding '{value}'") from exc
    return value


def _check_delimiter(value: str) -> str:
    if value in ("\\t", "tab"):
        return "\t"
    if len(value) != 1:
        raise ValueError("delimiter must be one character (or 'tab')")
    return value


def _check_normaliser(value: object) -> object:
    build_normaliser(value)  # type: ignore[arg-type]
    return value


def _percent(value: float) -> float:
    if not 0 <= value <= 100:
        raise ValueError("must be a percentage from 0 to 100")
    return value
