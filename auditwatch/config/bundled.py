"""The parsers and rules shipped with auditwatch: used when a config names no directory of its own.

In an installed wheel they are package data under `auditwatch/shipped/`; in a source checkout (the
editable install of the development scripts) they are the repository's top-level `parsers/` and
`rules/`.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Literal

Kind = Literal["parsers", "rules"]


def bundled_dir(kind: Kind) -> Path:
    installed = Path(str(files("auditwatch"))) / "shipped" / kind
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[2] / kind
