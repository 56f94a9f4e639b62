"""The exceptions auditwatch raises. Every one says where it came from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal


class AuditwatchError(Exception):
    """Base class for auditwatch's own errors."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in a config, parser, rule or reference file."""

    file: str
    line: int | None  # 1-based; None when the file as a whole is at fault
    field: str  # dotted path of the offending key, "" for the whole document
    message: str
    level: Literal["error", "warning"] = "error"  # warnings are reported but do not fail a check

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        what = f" [{self.field}]" if self.field else ""
        prefix = "warning: " if self.level == "warning" else ""
        return f"{where}:{what} {prefix}{self.message}"


class ConfigError(AuditwatchError):
    """A config, parser, rule or reference file is invalid. Carries every problem found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid configuration")

    @classmethod
    def single(cls, file: str, line: int | None, field: str, message: str) -> ConfigError:
        return cls([Problem(file, line, field, message)])


class DeliveryError(AuditwatchError):
    """Elasticsearch refused something in a way retrying cannot fix."""
