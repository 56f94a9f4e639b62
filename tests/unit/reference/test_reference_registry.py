"""The matches and values are one list of records each; every lookup table is read off that list."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from auditwatch.reference import MATCHES, VALUES, EventView, evidence, matches, proofs, values

View = Callable[..., EventView]


def test_every_match_is_one_record_with_all_its_parts() -> None:
    """Each name in every table is one record's: its description, test, evidence and user_can."""
    names = [match.name for match in matches.ALL]
    assert len(set(names)) == len(names) == 16
    assert list(MATCHES) == list(matches.TESTS) == list(matches.BY_NAME) == names
    for match in matches.ALL:
        assert MATCHES[match.name] is match.info
        assert matches.TESTS[match.name] is match.test
        assert matches.BY_NAME[match.name] is match
        assert match.info.kind in ("signal", "explanation")
        assert match.info.description
        assert match.info.no_match_text
        assert callable(match.test)
        assert callable(match.evidence)
        assert callable(match.user_can)


def test_every_value_is_one_record() -> None:
    names = [value.name for value in values.ALL]
    assert len(set(names)) == len(names)
    assert list(VALUES) == list(values.VALUE_FUNCS) == names
    for value in values.ALL:
        assert VALUES[value.name] == value.description
        assert values.VALUE_FUNCS[value.name] is value.compute


def test_a_name_given_twice_is_refused() -> None:
    """Two records with one name would hide one another in the tables: refused, not silently kept."""
    with pytest.raises(ValueError, match=r"two reference matches are named 'subject_is_self'"):
        matches.by_name((*matches.ALL, matches.BY_NAME["subject_is_self"]))
    with pytest.raises(ValueError, match=r"two reference values are named 'user\.status'"):
        values.by_name((*values.ALL, values.BY_NAME["user.status"]))


def test_evidence_comes_from_the_records_own_test(view: View) -> None:
    """`match` builds the evidence of a match from the proof of that match's own test."""
    v = view(user="mp012345", pid="P-1002")
    proof = proofs.subject_is_staff(v)
    assert proof is not None
    assert v.match("subject_is_staff") == evidence.staff(v, proof)
    record = matches.BY_NAME["subject_is_staff"]
    assert record.evidence_for(v) == v.match("subject_is_staff")
    assert matches.BY_NAME["user_restricted"].evidence_for(v) is None
