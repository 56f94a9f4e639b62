"""Parts of the documentation generated from the code that defines them, so they cannot drift.

- `auditwatch/detection/RULES.md`, "Names usable in rules": signals and explanations from
  `auditwatch.reference.matches`, reference values from `auditwatch.reference.values`, placeholders from
  `detection.templates.WINDOW_PLACEHOLDERS` (also printed by `auditwatch rules names`);
- `README.md`, the normaliser table: `auditwatch.normalise.NORMALISERS`;
- `README.md`, the table of error codes: `auditwatch.errors.CODES`.

Whatever those hold when this runs: a name added there only needs a regeneration.

    python -m auditwatch.commands.docs           # rewrite the generated sections
    python -m auditwatch.commands.docs --check   # exit 1 if one is out of date

Unit tests run the check.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Final

from auditwatch.detection.templates import WINDOW_PLACEHOLDERS
from auditwatch.errors import CODES, Code
from auditwatch.normalise import NORMALISERS
from auditwatch.reference import MATCHES, VALUES, MatchInfo

RULES_MD: Final = Path(__file__).resolve().parents[1] / "detection" / "RULES.md"
README_MD: Final = Path(__file__).resolve().parents[2] / "README.md"  # in a source checkout
BEGIN: Final = "<!-- BEGIN GENERATED NAMES: python -m auditwatch.commands.docs -->"
END: Final = "<!-- END GENERATED NAMES -->"
NORMALISERS_BEGIN: Final = "<!-- BEGIN GENERATED NORMALISERS: python -m auditwatch.commands.docs -->"
NORMALISERS_END: Final = "<!-- END GENERATED NORMALISERS -->"
CODES_BEGIN: Final = "<!-- BEGIN GENERATED ERROR CODES: python -m auditwatch.commands.docs -->"
CODES_END: Final = "<!-- END GENERATED ERROR CODES -->"

_WINDOW_TEXT: Final[Mapping[str, str]] = {
    "window.count": "threshold: how many events were counted in the window",
    "window.distinct": "threshold with `distinct`: how many distinct values were counted",
    "window.start": "threshold / repeat: time of the first counted event",
    "window.end": "threshold / repeat: time of the last counted event",
    "window.days": "repeat: the distinct days counted",
}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines.extend("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows)
    return lines


def names_markdown(
    values: Mapping[str, str] | None = None,
    matches: Mapping[str, MatchInfo] | None = None,
    placeholders: Iterable[str] | None = None,
) -> str:
    """The generated section (without its markers): one line per name (default: the code's names)."""
    values = VALUES if values is None else values
    matches = MATCHES if matches is None else matches
    placeholders = WINDOW_PLACEHOLDERS if placeholders is None else placeholders
    out = [
        "### Signals and explanations: `match(name)` or a bare `name`",
        "",
        "A *signal* is a risk found in the reference data; an *explanation* is a reason the access may be",
        'legitimate (use it under `unless:`). "When it does not hold" is what an alert says about an',
        "explanation that was tried and failed. `{match.NAME}` in `reasons` prints the match's summary.",
        "",
    ]
    out += _table(
        ("name", "kind", "holds when", "when it does not hold"),
        ((f"`{n}`", m.kind, m.description, m.no_match_text) for n, m in matches.items()),
    )
    out += [
        "",
        "### Reference values: usable in conditions and `{…}` placeholders",
        "",
        "Looked up per event from the reference data (`user.*`: the event's user in HR; `subject.*`:",
        "the person or record looked at). A value the reference does not know is missing (`None`).",
        "",
    ]
    out += _table(("name", "meaning"), ((f"`{n}`", text) for n, text in values.items()))
    out += ["", "### Placeholders for `reasons` only", ""]
    out += _table(
        ("name", "meaning"),
        [(f"`{n}`", _WINDOW_TEXT.get(n, "")) for n in sorted(placeholders)]
        + [("`match.NAME`", "the summary of the matched signal NAME (source and as-of date included)")],
    )
    return "\n".join(out) + "\n"


def normalisers_markdown(normalisers: Mapping[str, str] | None = None) -> str:
    """The normaliser table: one line per normaliser in the registry."""
    table = NORMALISERS if normalisers is None else normalisers
    return "\n".join(_table(("normaliser", "what it does"), ((f"`{n}`", t) for n, t in table.items()))) + "\n"


def codes_markdown(codes: Mapping[str, Code] | None = None) -> str:
    """The table of error codes: one line per code, in code order."""
    table = CODES if codes is None else codes
    rows = ((f"`{c.id}`", f"`{c.name}`", c.summary) for c in sorted(table.values(), key=lambda c: c.id))
    return "\n".join(_table(("code", "name", "meaning"), rows)) + "\n"


def render(document: str, section: str, begin: str = BEGIN, end: str = END) -> str:
    """`document` with the text between the markers replaced by `section`; ValueError without markers."""
    start, stop = document.find(begin), document.find(end)
    if start < 0 or stop < start:
        raise ValueError(f"the markers {begin!r} and {end!r} are missing")
    return document[: start + len(begin)] + "\n" + section + document[stop:]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m auditwatch.commands.docs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is out of date")
    parser.add_argument("--rules-md", type=Path, default=RULES_MD)
    parser.add_argument("--readme", type=Path, default=README_MD)
    args = parser.parse_args(argv)
    targets = [
        (args.rules_md, names_markdown(), BEGIN, END),
        (args.readme, normalisers_markdown(), NORMALISERS_BEGIN, NORMALISERS_END),
        (args.readme, codes_markdown(), CODES_BEGIN, CODES_END),
    ]
    stale = 0
    for path, section, begin, end in targets:
        if not path.is_file():
            print(f"{path}: not found (not a source checkout?), skipped", file=sys.stderr)
            continue
        current = path.read_text(encoding="utf-8")
        wanted = render(current, section, begin, end)
        if wanted == current:
            continue
        if args.check:
            print(f"{path} is out of date: run python -m auditwatch.commands.docs", file=sys.stderr)
            stale += 1
        else:
            path.write_text(wanted, encoding="utf-8")
            print(f"updated {path}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
