"""Every exception class auditwatch defines is an `AuditwatchError` (one `except` catches ours).

The package is walked and every module imported, so a new exception class anywhere (a stage, the
commands, the test harness, a private signal) is checked without being listed here. Classes that
were already `ValueError`s or `RuntimeError`s keep that base as well.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import auditwatch
from auditwatch.errors import AuditwatchError

_NOT_IMPORTED = frozenset({"auditwatch.__main__"})  # runs the command line when imported


def _exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(auditwatch.__path__, "auditwatch."):
        if info.name in _NOT_IMPORTED:
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
            ):
                found[f"{module.__name__}.{name}"] = value
    return found


def test_every_auditwatch_exception_is_an_auditwatch_error() -> None:
    found = _exception_classes()
    assert len(found) >= 20  # the walk reached the stages, the commands and the harness
    outside = sorted(name for name, cls in found.items() if not issubclass(cls, AuditwatchError))
    assert outside == []


def test_the_walk_sees_private_signals_and_harness_errors() -> None:
    """The walk is not limited to the public names: a private signal and a harness error are in it."""
    found = _exception_classes()
    assert "auditwatch.config.yamlsource._Refused" in found
    assert "auditwatch.testing.elasticsearch.StartError" in found
    assert "auditwatch.parsing.decoders.DecodeError" in found


def test_value_errors_stay_value_errors() -> None:
    """Callers that catch ValueError (the config reader's validators) still catch these."""
    found = _exception_classes()
    for name in (
        "auditwatch.parsing.pattern.PatternSyntaxError",
        "auditwatch.parsing.decoders.DecodeError",
        "auditwatch.parsing.mapping.FieldError",
        "auditwatch.parsing.compile.DefinitionError",
        "auditwatch.regexsafety.UnsafeRegex",
        "auditwatch.detection.engine.EventTimeOutOfRange",
    ):
        assert issubclass(found[name], ValueError), name
