"""Skipping rules for users who cannot have a required match, and the snapshot's fast key order."""

from __future__ import annotations

import random
from collections.abc import Callable

import orjson

from auditwatch.detection import DetectionEngine, RuleSet
from auditwatch.detection.analysis import required_matches
from auditwatch.detection.casetest import reference_from_rows
from auditwatch.detection.context import EvalContext
from auditwatch.detection.grammar import parse_condition
from auditwatch.detection.state_codec import sorted_by_key
from auditwatch.detection.testing import make_event as event
from auditwatch.reference import MATCHES

Make = Callable[..., RuleSet]

ROWS: dict[str, list[dict[str, object]]] = {
    "staff": [
        {
            "staff_id": "MP000101",
            "surname": "Reid",
            "forenames": "Alex",
            "dob": "1984-05-06",
            "person_id": "P-1",
            "postcode": "AB1 2CD",
            "address": "1 Mill Lane",
            "unit": "CID",
            "vetting_level": "SC",
            "vetting_expiry": "2020-01-01",
            "status": "active",
        },
        {"staff_id": "MP000102", "surname": "Khan", "status": "active", "status_from": "2020-01-01"},
        {"staff_id": "MP000102", "surname": "Khan", "status": "suspended", "status_from": "2021-01-01"},
        {"staff_id": "MP000103", "surname": "Reid", "forenames": "Sam", "status": "active"},
        {"staff_id": "MP000104", "surname": "Webb", "unit": "CID", "status": "active"},
    ],
    "associates": [
        {
            "staff_id": "MP000101",
            "person_id": "P-9",
            "surname": "Doe",
            "forenames": "Jo",
            "relationship": "friend",
        }
    ],
    "assignments": [
        {"staff_id": "MP000101", "case_ref": "CR-1", "from": "2020-01-01"},
        {"staff_id": "MP000104", "case_ref": "CR-1", "from": "2020-01-01"},
    ],
    "roster": [{"staff_id": "MP000101", "start": "2026-01-05T08:00:00Z", "end": "2026-01-05T16:00:00Z"}],
    "case_links": [{"case_ref": "CR-1", "person_id": "P-9", "role": "suspect"}],
}
USERS = ["MP000101", "MP000102", "MP000103", "MP000104", "MP999999", None]
SUBJECTS: list[dict[str, object]] = [
    {"auditwatch__subject__person_id": "P-9", "auditwatch__reason__case_ref": "CR-1"},
    {
        "auditwatch__subject__person_id": "P-1",
        "auditwatch__subject__surname": "Reid",
        "auditwatch__subject__postcode": "ab12cd",
        "auditwatch__subject__address": "1 Mill Lane",
    },
    {
        "auditwatch__subject__person_id": "P-5",
        "auditwatch__subject__postcode": "ab12cd",
        "auditwatch__subject__address": "1 Mill Lane",
    },
    {"auditwatch__subject__surname": "Khan", "auditwatch__subject__forenames": "Ali"},
    {},
]


def test_required_matches_are_the_top_level_conjuncts() -> None:
    """Only matches every way of satisfying the condition needs count; `or` and `not` need none."""
    text = "event.action == v and match(subject_is_self) and not match(user_restricted)"
    assert required_matches(parse_condition(text), MATCHES) == {"subject_is_self"}
    assert required_matches(parse_condition("subject_is_staff and exists(user.id)"), MATCHES) == {
        "subject_is_staff"
    }
    assert required_matches(parse_condition("match(subject_is_self) or exists(user.id)"), MATCHES) == set()


def test_possible_matches_include_every_match_that_holds() -> None:
    """For every user and subject, a match that holds is among the user's possible matches."""
    reference = reference_from_rows(ROWS)
    excluded, held = set(), set()
    for i, user in enumerate(USERS):
        for j, subject in enumerate(SUBJECTS):
            fields = {**subject, "event__action": "view"}
            if user is not None:
                fields["user__id"] = user
            c = EvalContext(event(i * 10 + j, 0.0, **fields), reference)
            possible = c.possible_matches()
            for name in MATCHES:
                if c.hit(name):
                    held.add(name)
                    assert name in possible, (user, subject, name)
            excluded |= set(MATCHES) - possible
    assert {"subject_is_declared_associate", "user_restricted", "assigned_to_case_ref"} <= excluded
    user_independent = {"subject_on_watchlist", "subject_on_watchlist_by_name"}
    assert set(MATCHES) - user_independent <= held  # every user-dependent match was exercised


def test_rules_needing_an_impossible_match_are_skipped(rule: Make) -> None:
    """A user with no declared associates never runs a rule that requires that match."""
    rules = rule("condition: event.action == view and match(subject_is_declared_associate)\n")
    assert rules.rules[0].requires == {"subject_is_declared_associate"}
    engine = DetectionEngine(rules, reference_from_rows(ROWS))
    fired = engine.process(
        [
            event(1, 0.0, event__action="view", user__id="MP000103", auditwatch__subject__person_id="P-9"),
            event(2, 0.0, event__action="view", user__id="MP000101", auditwatch__subject__person_id="P-9"),
        ]
    )
    assert [a.rule_id for a in fired] == ["r1"]
    _runtimes, by_user = engine._candidates["view"]
    assert by_user is not None
    assert sorted(len(chosen) for chosen in by_user.values()) == [0, 1]


def test_sorted_by_key_matches_the_json_byte_order() -> None:
    """The fast tuple order equals sorting by each key's JSON bytes, including awkward characters."""
    rng = random.Random(3)
    alphabet = ["a", "b", "A", "#", "~", "\\", "é", "中", "😀", " ", "!", '"', "\n", "\x7f", "0"]
    for _ in range(500):
        safe = rng.random() < 0.7
        chars = [ch for ch in alphabet if ch not in ' !"\n\x7f'] if safe else alphabet
        width = rng.choice([1, 2, 3])
        blank = rng.randrange(width + 1)  # this position is None in every key (none if == width)
        keys = {
            tuple(
                None if i == blank else "".join(rng.choice(chars) for _ in range(rng.randint(0, 4)))
                for i in range(width)
            )
            for _ in range(rng.randint(0, 20))
        }
        pairs = [(k, i) for i, k in enumerate(keys)]
        rng.shuffle(pairs)
        assert sorted_by_key(pairs) == sorted(pairs, key=lambda kv: orjson.dumps(kv[0]))
    for odd in (
        [(("b", None), 1), (("b", "a"), 2), ((1, "a"), 3)],
        [(("b", None, "x"), 1), (("a", None, "y"), 2), (("a", None, "a b"), 3)],
        [(("b", None), 1), (("a", "z"), 2), (("a", None), 3)],
        [(("b",), 1), (("a", "z"), 2), (("a",), 3)],
    ):
        assert sorted_by_key(odd) == sorted(odd, key=lambda kv: orjson.dumps(kv[0]))
