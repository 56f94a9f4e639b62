"""The exceptions auditwatch raises. Every one says where it came from.

A `Problem` is one located mistake in a config, parser, rule, list or reference file: file, line,
column, the dotted field, a stable `Code` and the message. Codes never change meaning between
releases (a retired code is not reused); `CODES` lists them all and the README's table of error
codes is generated from it (`python -m auditwatch.commands.docs`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Final, Literal


@dataclass(frozen=True, slots=True)
class Code:
    """A stable error code: `AW101` (printed) and its name `unknown-key` (documented)."""

    id: str
    name: str
    summary: str  # one line for the table of codes

    def __str__(self) -> str:
        return self.id


CODES: Final[dict[str, Code]] = {}


def _code(code_id: str, name: str, summary: str) -> Code:
    if code_id in CODES:
        raise ValueError(f"error code {code_id} defined twice")
    CODES[code_id] = code = Code(code_id, name, summary)
    return code


# -- the file itself ---------------------------------------------------------------------------
CANNOT_READ: Final = _code(
    "AW001", "cannot-read", "the file cannot be read, is not UTF-8 text, or is too large"
)
YAML_SYNTAX: Final = _code("AW002", "yaml-syntax", "the file is not valid YAML")
YAML_REFUSED: Final = _code(
    "AW003", "yaml-refused", "valid YAML that is refused: too deep, an alias bomb or a recursive alias"
)
DUPLICATE_KEY: Final = _code("AW004", "duplicate-key", "a mapping has the same key twice")
KEY_NOT_SCALAR: Final = _code("AW005", "key-not-scalar", "a mapping key is a list or a mapping")
LOAD_FAILED: Final = _code(
    "AW006", "load-failed", "loading the file failed unexpectedly (the message says how)"
)
NOT_FOUND: Final = _code("AW007", "not-found", "a directory the config names does not exist")
# -- the shape of a document -------------------------------------------------------------------
UNKNOWN_KEY: Final = _code("AW101", "unknown-key", "a key nobody reads (a typo, or a key of another section)")
MISSING_KEY: Final = _code("AW102", "missing-key", "a required key, section or list is missing")
WRONG_TYPE: Final = _code(
    "AW103", "wrong-type", "a value of the wrong type (a string where a number goes ...)"
)
INVALID_VALUE: Final = _code("AW104", "invalid-value", "a value of the right type that is not acceptable")
DUPLICATE_NAME: Final = _code(
    "AW105", "duplicate-name", "a name or id given to two things (inputs, rules, lists)"
)
UNKNOWN_NAME: Final = _code("AW106", "unknown-name", "names something that does not exist (a parser, a rule)")
# -- parsers -------------------------------------------------------------------------------------
PATTERN_SYNTAX: Final = _code(
    "AW201", "pattern-syntax", "a parser pattern breaks the pattern grammar or names an unknown definition"
)
REGEX_INVALID: Final = _code("AW202", "regex-invalid", "a regular expression does not compile")
REGEX_REFUSED: Final = _code(
    "AW203", "regex-refused", "a regular expression could backtrack for ever on a crafted line"
)
LITERAL_REGEX: Final = _code(
    "AW204", "literal-regex", "warning: regex syntax in a pattern, where it is matched literally"
)
EXAMPLE_FAILED: Final = _code(
    "AW205", "example-failed", "a parser's example does not come out as it declares"
)
# -- rules and lists -------------------------------------------------------------------------------
CONDITION_SYNTAX: Final = _code("AW301", "condition-syntax", "a rule condition breaks the condition grammar")
CONDITION_INVALID: Final = _code(
    "AW302", "condition-invalid", "a condition names an unknown name, list or zone, or a refused regex"
)
UNKNOWN_FIELD: Final = _code(
    "AW303", "unknown-field", "names an event field that does not exist, or one a parser may not set"
)
MISSING_TEST: Final = _code("AW304", "missing-test", "a rule lacks a should_fire or a should_not_fire case")
BAD_FOLD: Final = _code("AW305", "bad-fold", "a rule folds into itself or into a rule the set does not have")
EXPIRED_ENTRY: Final = _code("AW306", "expired-entry", "warning: an allow-list entry has expired")
# -- reference data --------------------------------------------------------------------------------
EXPORT_REJECTED: Final = _code(
    "AW401", "export-rejected", "a reference export cannot be used; the previous version stays in force"
)


class AuditwatchError(Exception):
    """Base class for auditwatch's own errors. `code`: the `Code` a config problem it causes gets."""

    code: ClassVar[Code | None] = None


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in a config, parser, rule or reference file."""

    file: str
    line: int | None  # 1-based; None when the file as a whole is at fault
    field: str  # dotted path of the offending key, "" for the whole document
    message: str
    level: Literal["error", "warning"] = "error"  # warnings are reported but do not fail a check
    code: Code = INVALID_VALUE
    column: int | None = None  # 1-based, in the file; None when not known

    def __str__(self) -> str:
        """`file:line:column: CODE [field] message`, line and column left out when not known."""
        where = self.file
        if self.line is not None:
            where += f":{self.line}" if self.column is None else f":{self.line}:{self.column}"
        what = f" [{self.field}]" if self.field else ""
        prefix = "warning: " if self.level == "warning" else ""
        return f"{where}: {self.code.id}{what} {prefix}{self.message}"


class ConfigError(AuditwatchError):
    """A config, parser, rule or reference file is invalid. Carries every problem found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid configuration")

    @classmethod
    def single(
        cls,
        file: str,
        line: int | None,
        field: str,
        message: str,
        *,
        code: Code = INVALID_VALUE,
        column: int | None = None,
    ) -> ConfigError:
        return cls([Problem(file, line, field, message, code=code, column=column)])


class DeliveryError(AuditwatchError):
    """Elasticsearch refused something in a way retrying cannot fix."""
