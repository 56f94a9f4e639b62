"""The names a rule can use, generated from the code that defines them, for RULES.md.

Signals and explanations come from `auditwatch.reference.enrich.MATCHES`, reference values from
`VALUES`, template placeholders from `templates.WINDOW_PLACEHOLDERS`: whatever those hold when this
runs, so a name added there only needs a regeneration:

    python -m auditwatch.detection.docs           # rewrite the generated section of RULES.md
    python -m auditwatch.detection.docs --check   # exit 1 if RULES.md is out of date
    auditwatch rules names                        # print the names (same tables)

A unit test runs the check, so the document cannot drift from the code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Final

from auditwatch.detection.templates import WINDOW_PLACEHOLDERS
from auditwatch.reference.enrich import MATCHES, VALUES, MatchInfo

RULES_MD: Final = Path(__file__).resolve().parent / "RULES.md"
BEGIN: Final = "<!-- BEGIN GENERATED NAMES: python -m auditwatch.detection.docs -->"
END: Final = "<!-- END GENERATED NAMES -->"

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


def render(document: str, section: str) -> str:
    """`document` with the text between the markers replaced by `section`; ValueError without markers."""
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the markers {BEGIN!r} and {END!r} are missing")
    return document[: start + len(BEGIN)] + "\n" + section + document[end:]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m auditwatch.detection.docs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    parser.add_argument("--file", type=Path, default=RULES_MD)
    args = parser.parse_args(argv)
    current = args.file.read_text(encoding="utf-8")
    wanted = render(current, names_markdown())
    if args.check:
        if wanted != current:
            print(f"{args.file} is out of date: run python -m auditwatch.detection.docs", file=sys.stderr)
            return 1
        return 0
    if wanted != current:
        args.file.write_text(wanted, encoding="utf-8")
        print(f"updated {args.file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
