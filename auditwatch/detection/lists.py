"""Named lists (`x in list(name)`) and allow-lists (`allowlist(name)`), one YAML file each.

name: bulk_check_units            name: approved_colleague_checks
description: ...                  description: ...
items: [INTEL-BULK, CONTROL]      entries:
                                    - user: MP000123        # and/or subject (person or record id)
                                      subject: P-778
                                      rule: colleague-lookup  # optional: only for this rule
                                      reason: PSD vetting review of team
                                      approver: DI Example
                                      expires: 2027-03-31  # applies up to and including this day (UTC)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from auditwatch.config.spec import Reader
from auditwatch.config.yamlsource import load_yaml_file
from auditwatch.detection.context import EvalContext, Predicate
from auditwatch.errors import DUPLICATE_NAME, EXPIRED_ENTRY, Problem

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*\Z")


@dataclass(frozen=True, slots=True)
class NamedList:
    name: str
    description: str
    items: frozenset[object]
    file: str


@dataclass(frozen=True, slots=True)
class AllowEntry:
    user: str | None
    subject: str | None
    rule: str | None
    reason: str
    approver: str
    expires: date
    until: float  # epoch seconds at which the entry stops applying (midnight UTC after `expires`)
    file: str
    line: int | None

    def describe(self) -> str:
        who = ", ".join(f"{k} {v}" for k, v in (("user", self.user), ("subject", self.subject)) if v)
        return f"{who}: {self.reason} (approved by {self.approver}, expires {self.expires.isoformat()})"


_Key = tuple[str | None, str | None]


@dataclass(frozen=True, slots=True)
class AllowList:
    name: str
    description: str
    entries: tuple[AllowEntry, ...]
    file: str
    by_key: Mapping[_Key, tuple[AllowEntry, ...]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, name: str, description: str, entries: tuple[AllowEntry, ...], file: str) -> AllowList:
        by_key: dict[_Key, tuple[AllowEntry, ...]] = {}
        for e in entries:
            by_key[(e.user, e.subject)] = (*by_key.get((e.user, e.subject), ()), e)
        return cls(name, description, entries, file, by_key)

    def find(self, user: object, subject: object, rule_id: str, ts: float) -> AllowEntry | None:
        """The entry that allows this access at event time `ts`, if any."""
        get = self.by_key.get
        for key in ((user, subject), (user, None), (None, subject)):
            for entry in get(key, ()):  # type: ignore[arg-type]  # any field value may be looked up
                if ts < entry.until and (entry.rule is None or entry.rule == rule_id):
                    return entry
        return None

    def predicate(self, rule_id: str) -> Predicate:
        find = self.find

        def allowed(c: EvalContext) -> bool:
            f = c.f
            user = f.get("user.id")
            return (
                find(user, f.get("auditwatch.subject.person_id"), rule_id, c.ts) is not None
                or find(user, f.get("auditwatch.record.id"), rule_id, c.ts) is not None
            )

        return allowed


@dataclass(frozen=True, slots=True)
class Lists:
    named: Mapping[str, NamedList]
    allow: Mapping[str, AllowList]


def load_lists(lists_dir: Path | None, problems: list[Problem]) -> Lists:
    """Every list and allow-list file in `lists_dir` (missing directory: none); problems are appended."""
    named: dict[str, NamedList] = {}
    allow: dict[str, AllowList] = {}
    if lists_dir is None or not lists_dir.is_dir():
        return Lists(named, allow)
    for path in sorted([*lists_dir.glob("*.yml"), *lists_dir.glob("*.yaml")]):
        try:
            doc = load_yaml_file(path)
        except Exception as exc:  # ConfigError from the YAML loader
            problems.extend(getattr(exc, "problems", (Problem(str(path), None, "", str(exc)),)))
            continue
        r = Reader(doc, (), problems)
        name = r.required("name", str)
        description = r.optional("description", str, "")
        if name is not None and not NAME.match(name):
            r.problem(("name",), "a list name uses letters, digits, '_' and '-' only")
        if name in named or name in allow:
            r.problem(("name",), f"list '{name}' is defined twice", DUPLICATE_NAME)
        if r.has("items") == r.has("entries"):
            r.problem((), "a list file has either 'items' (a named list) or 'entries' (an allow-list)")
        if r.has("items"):
            raw = r.required("items", list)
            for i, item in enumerate(raw or []):
                if not isinstance(item, str | int | float) or isinstance(item, bool):
                    r.problem(("items", i), "list items are strings or numbers")
            if name is not None:
                named[name] = NamedList(name, description, frozenset(raw or ()), doc.file)
        else:
            entries = tuple(e for e in (_entry(s) for s in r.sections("entries")) if e is not None)
            if name is not None:
                allow[name] = AllowList.build(name, description, entries, doc.file)
        r.done()
    return Lists(named, allow)


def _entry(r: Reader) -> AllowEntry | None:
    user = r.optional("user", str, None)
    subject = r.optional("subject", str, None)
    rule = r.optional("rule", str, None)
    reason = r.required("reason", str)
    approver = r.required("approver", str)
    expires = r.required("expires", object, _as_date)
    if user is None and subject is None:
        r.problem(r.path, "an allow-list entry names a 'user', a 'subject' or both")
    r.done()
    if reason is None or approver is None or expires is None or (user is None and subject is None):
        return None
    until = datetime.combine(expires + timedelta(days=1), datetime.min.time(), UTC).timestamp()
    line = r.doc.line_of(r.path)
    return AllowEntry(user, subject, rule, reason, approver, expires, until, r.doc.file, line)


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value)
    raise ValueError("must be a date written YYYY-MM-DD")


def expired_entries(lists: Lists, now: float) -> list[Problem]:
    """Warnings for allow-list entries that no longer apply."""
    return [
        Problem(
            e.file,
            e.line,
            "expires",
            f"allow-list '{a.name}' entry {e.describe()} has expired",
            "warning",
            EXPIRED_ENTRY,
        )
        for a in lists.allow.values()
        for e in a.entries
        if e.until <= now
    ]
