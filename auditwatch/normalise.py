"""Normalisers: small compiled functions that clean one identifier or value (``str -> str | None``).

Used by parser mappings (``normalise:``) and by the reference-data loader, so that ``mp012345``,
``MP 12345`` and ``12345`` in an audit log and in the HR export become the same ``MP012345``.
A normaliser returns None when the value is unusable (empty, not a postcode, not a date).

A spec is a name (``"trim"``), a one-key mapping of a name to its options
(``{"staff_id": {"prefix": "MP", "digits": 6}}``), or a list of specs applied in order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from auditwatch.regexsafety import UnsafeRegex, check_regex
from auditwatch.timefmt import compile_date, compile_timestamp, iso_utc

__all__ = [
    "NORMALISERS",
    "Normaliser",
    "build_normaliser",
    "compile_date",
    "compile_timestamp",
    "fold_name",
    "iso_utc",
    "staff_id",
    "uk_postcode",
]

Normaliser = Callable[[str], str | None]

NORMALISERS: Final[Mapping[str, str]] = {
    "trim": "strip surrounding whitespace; empty -> missing. Ids are trimmed and otherwise kept as written "
    "unless a normaliser says more",
    "upper": "trim and upper-case",
    "lower": "trim and lower-case",
    "collapse": "trim and collapse inner runs of whitespace to one space",
    "fold_name": "case- and accent-fold a name for matching ('O'Brien-Smith José' -> 'obrien smith jose'); "
    "the original spelling stays on the event for display",
    "staff_id": "a staff number in one spelling, options `prefix`, `digits`: "
    "`{staff_id: {prefix: MP, digits: 6}}` makes `mp012345`, `MP 12345`, `MP-012345` and `12345` all "
    "`MP012345`; a value that is not a staff "
    "number (letters other than the prefix, e.g. `svc_custody_sync`) is kept exactly as written",
    "uk_postcode": "UK postcode, upper-case with one space before the inward code ('sw1a1aa' -> 'SW1A 1AA'); "
    "missing if not a postcode",
    "date": "a date in one of several formats -> YYYY-MM-DD, option `formats` (a list): "
    "`{date: {formats: ['%d/%m/%Y', iso8601]}}`; missing if none fits",
    "map": "look the trimmed value up in a table, options `values` (a mapping) and `default` (else the value "
    "is kept): `{map: {values: {Leaver: left, 'Restricted Duties': restricted}}}`",
    "unquote": "remove one pair of surrounding quotes (\" or '); doubled or backslash-escaped quotes "
    "inside are undone: `'O''Brien'` -> `O'Brien`",
    "null_if": "treat the listed values as missing, option `values` (a list; compared trimmed, any case): "
    "`{null_if: {values: ['-', 'N/A', 'REST']}}`",
    "replace": "regex substitution on the value, options `pattern` (a Python regex) and `with` (the "
    "replacement, default empty; `\\1` refers to a group): `{replace: {pattern: '\\s+', with: ''}}`; "
    "missing if nothing is left",
}

_APOSTROPHES: Final = re.compile(r"['’‘`´ʼ]")
_NON_WORD: Final = re.compile(r"[\W_]+")
_UNDECOMPOSED: Final = str.maketrans(
    {
        "ø": "o",
        "Ø": "o",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "đ": "d",
        "Đ": "d",
        "ł": "l",
        "Ł": "l",
        "þ": "th",
        "Þ": "th",
        "ð": "d",
        "Ð": "d",
        "ı": "i",
    }
)
_POSTCODE: Final = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?|GIR)([0-9][A-Z]{2})")
_SPACES: Final = re.compile(r"\s+")
_STAFF_SEPARATORS: Final = re.compile(r"[\s\-/._]+")
# letters (a prefix) then digits, separators anywhere: the shape of a staff number
_STAFF_SHAPE: Final = re.compile(r"([A-Za-z]+)?[\s\-/._]*(\d[\d\s\-/._]*)")


def fold_name(value: str) -> str:
    """Case- and accent-folded, apostrophes dropped, other punctuation/whitespace collapsed to one space."""
    if not value.isascii():
        value = unicodedata.normalize("NFKD", value.translate(_UNDECOMPOSED))
        value = "".join(ch for ch in value if not unicodedata.combining(ch))
    value = _APOSTROPHES.sub("", value.casefold())
    return _NON_WORD.sub(" ", value).strip()


def staff_id(value: str, prefix: str = "", digits: int = 0) -> str | None:
    """A staff number in one spelling: ``mp012345``, ``MP 12345``, ``12345`` -> ``MP012345``
    (prefix="MP", digits=6). Only values shaped like a staff number (up to four letters or the
    prefix, then digits, with spaces, dashes, dots, slashes or underscores between) are rewritten:
    numbers too long for `digits` are unusable (None), another short letter prefix (``cs 00123``)
    is compacted and upper-cased; anything else (``svc_custody_sync``, ``admin``) is an id that is
    not a staff number and is kept exactly as written (trimmed)."""
    text = value.strip()
    if not text:
        return None
    shape = _STAFF_SHAPE.fullmatch(text)
    if shape is None:
        return text
    letters = (shape.group(1) or "").upper()
    rest = _STAFF_SEPARATORS.sub("", shape.group(2))
    upper_prefix = prefix.upper()
    if letters and letters != upper_prefix:
        if len(letters) > 4:  # a word, not a prefix: not a staff number
            return text
        return letters + rest
    if digits:
        number = rest.lstrip("0") or "0"
        if len(number) > digits:
            return None
        rest = number.zfill(digits)
    return upper_prefix + rest


def uk_postcode(value: str) -> str | None:
    """``" sw1a1aa "`` -> ``"SW1A 1AA"``; None when the value is not a full UK postcode."""
    compact = _SPACES.sub("", value).upper()
    match = _POSTCODE.fullmatch(compact)
    if match is None:
        return None
    return f"{match.group(1)} {match.group(2)}"


def _trim(value: str) -> str | None:
    return value.strip() or None


def _upper(value: str) -> str | None:
    return value.strip().upper() or None


def _lower(value: str) -> str | None:
    return value.strip().lower() or None


def _collapse(value: str) -> str | None:
    return _SPACES.sub(" ", value).strip() or None


def _fold(value: str) -> str | None:
    return fold_name(value) or None


def _unquote(value: str) -> str | None:
    text = value.strip()
    if len(text) >= 2 and text[0] in "\"'" and text[-1] == text[0]:
        quote = text[0]
        text = text[1:-1].replace("\\" + quote, quote).replace(quote * 2, quote)
    return text or None


_MEMO_LIMIT: Final = 50_000
#: memo caches keep values up to this long only: identifiers and codes are short, and long crafted
#: values (up to max_line_bytes each) would otherwise be held by the thousand
MEMO_KEY_MAX: Final = 256
_MISSING: Final = object()


def _memo(function: Normaliser) -> Normaliser:
    """`function` with a bounded cache: identifiers and names repeat a lot in audit logs."""
    cache: dict[str, str | None] = {}

    def cached(value: str) -> str | None:
        hit = cache.get(value, _MISSING)
        if hit is _MISSING:
            hit = function(value)
            if len(value) <= MEMO_KEY_MAX:
                if len(cache) >= _MEMO_LIMIT:
                    cache.clear()
                cache[value] = hit
        return hit  # type: ignore[return-value]

    return cached


def _options(name: str, options: Any, allowed: set[str]) -> dict[str, Any]:
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise ValueError(f"normaliser '{name}': options must be a mapping, not {type(options).__name__}")
    unknown = sorted(set(options) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed)) or "none"
        raise ValueError(f"normaliser '{name}': unknown option '{unknown[0]}' (allowed: {known})")
    return dict(options)


def _build_one(name: str, raw_options: Any) -> Normaliser:
    simple: dict[str, Normaliser] = {
        "trim": _trim,
        "upper": _upper,
        "lower": _lower,
        "collapse": _collapse,
        "fold_name": _memo(_fold),
        "uk_postcode": _memo(uk_postcode),
        "unquote": _unquote,
    }
    if name in simple:
        _options(name, raw_options, set())
        return simple[name]
    if name == "staff_id":
        opts = _options(name, raw_options, {"prefix", "digits"})
        prefix = opts.get("prefix", "")
        digits = opts.get("digits", 0)
        if not isinstance(prefix, str):
            raise ValueError("normaliser 'staff_id': prefix must be a string")
        if not isinstance(digits, int) or isinstance(digits, bool) or not 0 <= digits <= 20:
            raise ValueError("normaliser 'staff_id': digits must be an integer from 0 to 20")

        upper_prefix = prefix.upper()
        size = len(upper_prefix) + digits if not _STAFF_SEPARATORS.search(prefix) else -1

        def normalise_staff_id(value: str) -> str | None:
            # already in the one spelling (the usual case): nothing to do
            if digits and len(value) == size and value.startswith(upper_prefix) and value[-digits:].isdigit():
                return value
            return staff_id(value, prefix, digits)

        return _memo(normalise_staff_id)
    if name == "date":
        opts = _options(name, raw_options, {"formats"})
        formats = opts.get("formats")
        if isinstance(formats, str):
            formats = [formats]
        if not isinstance(formats, list) or not formats or not all(isinstance(f, str) for f in formats):
            raise ValueError("normaliser 'date': formats must be a non-empty list of date formats")
        return compile_date(formats)
    if name == "map":
        opts = _options(name, raw_options, {"values", "default"})
        values = opts.get("values")
        if not isinstance(values, Mapping) or not values:
            raise ValueError("normaliser 'map': values must be a non-empty mapping")
        table = {str(k).strip(): (None if v is None else str(v)) for k, v in values.items()}
        has_default = "default" in opts
        default = None if opts.get("default") is None else str(opts["default"])

        def normalise_map(value: str) -> str | None:
            key = value.strip()
            if key in table:
                return table[key]
            return default if has_default else (key or None)

        return normalise_map
    if name == "null_if":
        opts = _options(name, raw_options, {"values"})
        nulls = opts.get("values")
        if not isinstance(nulls, list) or not nulls:
            raise ValueError("normaliser 'null_if': values must be a non-empty list")
        folded = frozenset(str(v).strip().casefold() for v in nulls)

        def normalise_null_if(value: str) -> str | None:
            return None if value.strip().casefold() in folded else value

        return normalise_null_if
    if name == "replace":
        opts = _options(name, raw_options, {"pattern", "with"})
        pattern, replacement = opts.get("pattern"), opts.get("with", "")
        if not isinstance(pattern, str) or not isinstance(replacement, str):
            raise ValueError("normaliser 'replace': pattern and with must be strings")
        try:
            regex = re.compile(pattern)
            check_regex(pattern)
        except re.error as exc:
            raise ValueError(f"normaliser 'replace': bad pattern {pattern!r}: {exc}") from exc
        except RecursionError:
            raise ValueError("normaliser 'replace': pattern groups nested too deeply") from None
        except UnsafeRegex as exc:
            why = f"refused (it could hang on a crafted value): {exc}"
            raise ValueError(f"normaliser 'replace': pattern {pattern!r} {why}") from None

        def normalise_replace(value: str) -> str | None:
            return regex.sub(replacement, value) or None

        return _memo(normalise_replace)
    raise ValueError(f"unknown normaliser '{name}' (known: {', '.join(sorted(NORMALISERS))})")


def build_normaliser(spec: str | Mapping[str, Any] | Sequence[Any]) -> Normaliser:
    """Compile a normaliser spec; ValueError with a clear message when the spec is wrong."""
    if isinstance(spec, str):
        return _build_one(spec, None)
    if isinstance(spec, Mapping):
        if len(spec) != 1:
            raise ValueError(
                "a normaliser spec mapping must have exactly one key, the normaliser's name "
                f"(got {', '.join(map(str, spec)) or 'none'})"
            )
        ((name, options),) = spec.items()
        return _build_one(str(name), options)
    if isinstance(spec, Sequence) and spec:
        steps = [build_normaliser(item) for item in spec]
        if len(steps) == 1:
            return steps[0]

        def chain(value: str) -> str | None:
            current: str | None = value
            for step in steps:
                if current is None:
                    return None
                current = step(current)
            return current

        return _memo(chain)
    raise ValueError(f"a normaliser spec must be a name, a mapping or a list, not {type(spec).__name__}")
