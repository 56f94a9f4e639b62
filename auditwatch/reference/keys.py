"""Matching keys, the same on the export side and on the event side.

- `name_dob_key`: folded surname (spaces dropped) + first folded forename + ISO date of birth. Middle
  names are ignored so "Jane SMITH" and "Jane Mary SMITH" born the same day match, and "O BRIEN",
  "O'Brien" and "OBRIEN" are one surname.
- `name_key`: all folded name words, sorted: "SMITH, Jane" == "Jane Smith"; used only for
  watchlist entries that have no date of birth.
- `address_parts`: an address with its abbreviations unified, and its house/flat numbers.
"""

from __future__ import annotations

import re
from typing import Final

from auditwatch.normalise import fold_name

_ADDRESS_WORDS: Final[dict[str, str]] = {
    "road": "rd",
    "street": "st",
    "avenue": "ave",
    "lane": "ln",
    "drive": "dr",
    "close": "cl",
    "court": "ct",
    "crescent": "cres",
    "place": "pl",
    "gardens": "gdns",
    "terrace": "ter",
    "square": "sq",
    "apartment": "flat",
    "apt": "flat",
}
_DIGITS: Final = re.compile(r"\d+[a-z]?")


def token(value: str) -> str | None:
    """A code word: 'Press Office' -> 'press_office'."""
    return fold_name(value).replace(" ", "_") or None


def name_dob_key(surname_fold: str | None, forenames_fold: str | None, dob: str | None) -> str | None:
    """Folded surname without spaces (records systems write "O'BRIEN", "O BRIEN" or "OBRIEN", "SMITH-JONES"
    or "SMITH JONES"), first folded forename and ISO date of birth."""
    if not (surname_fold and forenames_fold and dob):
        return None
    return f"{surname_fold.replace(' ', '')}|{forenames_fold.split(' ', 1)[0]}|{dob}"


def name_key(surname_fold: str | None, forenames_fold: str | None) -> str | None:
    if not (surname_fold and forenames_fold):
        return None
    return " ".join(sorted(f"{surname_fold} {forenames_fold}".split()))


def split_name(full: str) -> tuple[str | None, str | None]:
    """'SMITH, Jane' or 'Jane Smith' -> ('SMITH', 'Jane') / ('Smith', 'Jane')."""
    if "," in full:
        surname, _, forenames = full.partition(",")
        return surname.strip() or None, forenames.strip() or None
    words = full.split()
    if len(words) < 2:
        return (words[0] if words else None), None
    return words[-1], " ".join(words[:-1])


def address_parts(address: str | None) -> tuple[str | None, tuple[str, ...]]:
    """A normalised address (abbreviations unified) and its house/flat numbers."""
    if not address:
        return None, ()
    words = [_ADDRESS_WORDS.get(w, w) for w in fold_name(address).split()]
    text = " ".join(words) or None
    return text, tuple(_DIGITS.findall(text or ""))
