"""Load parser files: one file -> CompiledParser, a directory -> {name: CompiledParser}."""

from __future__ import annotations

from pathlib import Path

import structlog

from auditwatch.config.yamlsource import load_yaml_file
from auditwatch.errors import DUPLICATE_NAME, LOAD_FAILED, NOT_FOUND, ConfigError, Problem
from auditwatch.parsing.definition import read_definition
from auditwatch.parsing.runtime import CompiledParser

_log = structlog.get_logger(__name__)


def load_parser(path: Path) -> CompiledParser:
    """Load, validate and compile one parser file; ConfigError naming file, line and field of each problem."""
    doc = load_yaml_file(path)
    definition = read_definition(doc)
    for warning in definition.warnings:
        _log.warning("parser_definition_warning", problem=str(warning))
    return CompiledParser(definition)


def load_parsers(directory: Path) -> dict[str, CompiledParser]:
    """Every ``*.yml`` in `directory`; one ConfigError with all files' problems and duplicate names."""
    parsers: dict[str, CompiledParser] = {}
    problems: list[Problem] = []
    files = sorted(Path(directory).glob("*.yml"))
    if not Path(directory).is_dir():
        raise ConfigError.single(str(directory), None, "", "not a directory of parser files", code=NOT_FOUND)
    for file in files:
        try:
            parser = load_parser(file)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        except Exception as exc:  # a loader bug or an exhausted resource: this file fails, not the caller
            _log.exception("parser_file_failed", file=str(file))
            problems.append(
                Problem(
                    str(file), None, "", f"could not be loaded: {type(exc).__name__}: {exc}", code=LOAD_FAILED
                )
            )
            continue
        if parser.name in parsers:
            first = parsers[parser.name].path
            message = f"parser name '{parser.name}' is also used by {first}"
            problems.append(Problem(str(file), None, "name", message, code=DUPLICATE_NAME))
            continue
        parsers[parser.name] = parser
    if problems:
        raise ConfigError(problems)
    return parsers
