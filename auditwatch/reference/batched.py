"""Builders of the largest exports (persons, case links): converted rows a batch at a time
(`converters.convert_batches`), each column handled as a whole where C-level builtins can do it, into the
columnar tables of compact.py. What they build is what a row-by-row builder would: same rows, same codes,
same problems in the same order."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any, Final

from auditwatch.normalise import fold_name
from auditwatch.reference.compact import PairLists, expected_rows
from auditwatch.reference.config import ReferenceConfig, SourceConfig
from auditwatch.reference.converters import Batch, RowProblems
from auditwatch.reference.keys import split_name
from auditwatch.reference.tables import (
    CaseLinkTable,
    PersonRecord,
    PersonRows,
    PersonTable,
    Table,
    person_keys,
)

BatchBuilder = Callable[[SourceConfig, ReferenceConfig, Iterable[Batch], str, RowProblems], Table]


class _Codes(dict[Any, int]):
    """Value -> its code in `values` (a code per distinct value, in order of first use), assigned on
    first lookup; `part(value)` of each is kept in `parts` (when given)."""

    __slots__ = ("distinct", "part", "parts")

    def __init__(
        self,
        values: list[Any],
        parts: list[str] | None = None,
        part: Callable[[Any], str] | None = None,
    ) -> None:
        super().__init__({values[0]: 0} if values else {})
        self.distinct, self.parts, self.part = values, parts, part

    def __missing__(self, value: Any) -> int:
        code = self[value] = len(self.distinct)
        self.distinct.append(value)
        if self.parts is not None and self.part is not None:
            self.parts.append(self.part(value))
        return code


class _InternedCodes(dict[str, int]):
    """Value -> its code in `values`, the value interned when first seen (shared with other tables)."""

    __slots__ = ("distinct",)

    def __init__(self, values: list[str]) -> None:
        super().__init__()
        self.distinct = values

    def __missing__(self, value: str) -> int:
        code = self[value] = len(self.distinct)
        self.distinct.append(sys.intern(value))
        return code


def _surname_part(surname: str | None) -> str:
    """A surname's part of the identity key (`keys.name_dob_key`), "" when it has none."""
    folded = fold_name(surname) if surname else ""
    return f"{folded.replace(' ', '')}|" if folded else ""


def _forename_part(forenames: str | None) -> str:
    folded = fold_name(forenames) if forenames else ""
    return f"{folded.split(' ', 1)[0]}|" if folded else ""


def _persons(
    source: SourceConfig, cfg: ReferenceConfig, batches: Iterable[Batch], as_of: str, problems: RowProblems
) -> Table:
    """Names are folded and postcodes normalised here, once: records systems often store names
    upper-cased or ASCII-folded and postcodes unspaced; matching compares the folded forms."""
    table = PersonRows(expected_rows(source.path))
    lines, aliases_of = table.line, table.aliases
    # per surname / forenames code: its part of the identity key ("" when it has none), made once
    s_part: list[str] = [""]
    f_part: list[str] = [""]
    surname_code = _Codes(table.surname.values, s_part, _surname_part)
    forenames_code = _Codes(table.forenames.values, f_part, _forename_part)
    dob_code, postcode_code = _Codes(table.dob.values), _Codes(table.postcode.values)
    by_key, keys_of = table.by_key, table.keys_of

    for batch in batches:
        pids = batch.columns["person_id"]
        base = len(lines)
        rows = table.index.add_many(pids)
        if base + len(pids) != len(table.pid):  # some ids are held by earlier rows: drop those rows
            batch = _first_rows(batch, rows, base, lines, problems)  # noqa: PLW2901 - what is left of it
        batch_lines, columns = batch
        count = len(batch_lines)
        none = [None] * count
        surnames, forenames = columns.get("surname", none), columns.get("forenames", none)
        names = columns.get("name")
        if names is not None:
            surnames, forenames = _split_names(surnames, forenames, names)
        s_codes = list(map(surname_code.__getitem__, surnames))
        f_codes = list(map(forenames_code.__getitem__, forenames))
        dobs = columns.get("dob", none)
        table.surname.codes.extend(s_codes)
        table.forenames.codes.extend(f_codes)
        table.dob.codes.extend(map(dob_code.__getitem__, dobs))
        table.postcode.codes.extend(map(postcode_code.__getitem__, columns.get("postcode", none)))
        table.address.extend(columns.get("address", none))
        lines.extend(batch_lines)
        # name_dob_key(): surname|first forename|dob, all folded; a row with aliases has a key for each name
        parts = zip(map(s_part.__getitem__, s_codes), map(f_part.__getitem__, f_codes), dobs, strict=True)
        aliases = columns.get("aliases")
        if aliases is None or not any(aliases):
            pairs = [(s + f + dob, row) for row, (s, f, dob) in enumerate(parts, base) if s and f and dob]
            by_key.add_many(pairs, keys_of)
            continue
        for number, (key, forename_part, dob) in enumerate(parts, start=base):
            if aliases[number - base]:
                aliases_of[number] = aliases[number - base]
                for alias_key in person_keys(PersonRecord(table, number))[0]:
                    by_key.add(alias_key, number, keys_of)
            elif key and forename_part and dob:
                by_key.add(key + forename_part + dob, number, keys_of)
    table.finish()
    return PersonTable("persons", source.path, as_of, len(table), table)


def _first_rows(batch: Batch, rows: list[int], base: int, lines: Any, problems: RowProblems) -> Batch:
    """The rows of `batch` whose person id is new (`rows`: the row of each id; `base`: the first new
    row); the others are reported (`lines`: of the rows before the batch)."""
    kept: list[int] = []
    kept_lines: list[int] = []
    pids = batch.columns["person_id"]
    for i, (row, line) in enumerate(zip(rows, batch.lines, strict=True)):
        if row == base + len(kept):
            kept.append(i)
            kept_lines.append(line)
            continue
        where = lines[row] if row < base else kept_lines[row - base]
        problems.add(line, "person_id", f"person id {pids[i]!r} already on line {where}", skipped=True)
    return Batch(kept_lines, {name: [values[i] for i in kept] for name, values in batch.columns.items()})


def _split_names(surnames: list[Any], forenames: list[Any], names: list[Any]) -> tuple[list[Any], list[Any]]:
    """Surnames and forenames, from the full name where a row has no surname."""
    out_s, out_f = list(surnames), list(forenames)
    for i, (surname, name) in enumerate(zip(surnames, names, strict=True)):
        if not surname and name:
            out_s[i], split_fore = split_name(name)
            out_f[i] = out_f[i] or split_fore
    return out_s, out_f


def _case_links(
    source: SourceConfig, cfg: ReferenceConfig, batches: Iterable[Batch], as_of: str, problems: RowProblems
) -> Table:
    cases: list[str] = []
    roles: list[str] = []
    links = expected_rows(source.path)  # most links name a person, some a record
    by_person, by_record = PairLists(cases, roles, links), PairLists(cases, roles, links // 4)
    case_code, role_code = _InternedCodes(cases), _InternedCodes(roles)
    count = 0
    for batch_lines, columns in batches:
        case_codes = list(map(case_code.__getitem__, columns["case_ref"]))
        given_roles = columns.get("role")
        if given_roles is None:
            role_codes = [role_code[""]] * len(case_codes)
        else:
            role_codes = [role_code[role or ""] for role in given_roles]
        for index, ids in ((by_person, columns.get("person_id")), (by_record, columns.get("record_id"))):
            if ids is None:
                continue
            if all(ids):
                index.add_many(ids, case_codes, role_codes)
            else:
                given = [i for i, value in enumerate(ids) if value]
                index.add_many(
                    [ids[i] for i in given], [case_codes[i] for i in given], [role_codes[i] for i in given]
                )
        count += len(batch_lines)
    by_person.finish()
    by_record.finish()
    return CaseLinkTable("case_links", source.path, as_of, count, by_person, by_record)


BATCH_BUILDERS: Final[dict[str, BatchBuilder]] = {"persons": _persons, "case_links": _case_links}
