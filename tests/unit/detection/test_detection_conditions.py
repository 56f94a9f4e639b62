"""The condition language: grammar, precedence, every operator, name resolution and errors."""

from __future__ import annotations

import pytest

from auditwatch.detection import nodes as n
from auditwatch.detection.compile import Scope, compile_condition
from auditwatch.detection.context import EvalContext
from auditwatch.detection.grammar import ConditionSyntaxError, parse_condition
from auditwatch.detection.lists import Lists, NamedList
from auditwatch.detection.testing import make_event as event
from auditwatch.reference import MATCHES, VALUES
from auditwatch.reference.snapshot import empty_reference

LISTS = Lists({"units": NamedList("units", "", frozenset({"INTEL", "CONTROL"}), "f.yml")}, {})


def holds(condition: str, at: float = 0.0, **fields: object) -> bool:
    scope = Scope(VALUES, MATCHES, LISTS.named, LISTS.allow, "r1", "Europe/London")
    predicate = compile_condition(parse_condition(condition), scope)
    assert not scope.errors, scope.errors
    return predicate(EvalContext(event(1, at, **fields), empty_reference()))


def errors(condition: str) -> list[tuple[int, str]]:
    scope = Scope(VALUES, MATCHES, LISTS.named, LISTS.allow, "r1")
    compile_condition(parse_condition(condition), scope)
    return scope.errors


def test_and_binds_tighter_than_or() -> None:
    """`a or b and c` parses as `a or (b and c)`."""
    tree = parse_condition("exists(user.id) or exists(host.name) and exists(source.ip)")
    assert isinstance(tree, n.Or)
    assert isinstance(tree.operands[1], n.And)


def test_not_binds_tighter_than_and_and_parentheses_override() -> None:
    """`not a and b` is `(not a) and b`; parentheses regroup."""
    tree = parse_condition("not exists(user.id) and exists(host.name)")
    assert isinstance(tree, n.And)
    assert isinstance(tree.operands[0], n.Not)
    assert isinstance(parse_condition("not (exists(user.id) and exists(host.name))"), n.Not)
    assert holds("exists(user.id) or exists(host.name) and exists(source.ip)", user__id="u")
    assert not holds("(exists(user.id) or exists(host.name)) and exists(source.ip)", user__id="u")


@pytest.mark.parametrize(
    ("text", "column"),
    [("user.id ==", 9), ("user.id = 'x'", 9), ("(user.id == 'x'", 16), ("user.id == 'x' and", 19)],
)
def test_syntax_errors_name_the_column(text: str, column: int) -> None:
    """A syntax error says at which column the condition stops making sense."""
    with pytest.raises(ConditionSyntaxError) as info:
        parse_condition(text)
    assert info.value.column == column


def test_comparisons() -> None:
    """== != < <= > >= compare text exactly and numbers by value (also numbers written as text)."""
    assert holds("event.action == person_view", event__action="person_view")
    assert not holds("event.action == 'Person_View'", event__action="person_view")
    assert holds("event.action != 'x'", event__action="person_view")
    assert not holds("event.action != 'x'")  # a missing value makes every comparison false
    assert holds("auditwatch.search.result_count > 100", auditwatch__search__result_count=101)
    assert holds("auditwatch.search.result_count >= 100", auditwatch__search__result_count="100")
    assert not holds("auditwatch.search.result_count < 100", auditwatch__search__result_count=100)
    assert holds("auditwatch.search.result_count <= 100", auditwatch__search__result_count=100)
    assert holds("log.offset == 5", log__offset="5")


def test_membership_lists_and_named_lists() -> None:
    """`in [..]` and `in list(name)`; a list value matches when any element does."""
    assert holds("event.action in [a, 'b']", event__action="b")
    assert not holds("event.action in [a, b]", event__action="c")
    assert holds("host.name in list(units)", host__name="INTEL")
    assert holds("user.roles in ['psd']", user__roles=["vetting", "psd"])
    assert holds("user.roles == 'psd'", user__roles=["vetting", "psd"])


def test_text_operators_and_regex() -> None:
    """contains / startswith / endswith on text, contains on lists, /regex/ with flags compiled once."""
    assert holds("auditwatch.search.terms contains 'MI*'", auditwatch__search__terms="SMI*")
    assert holds("user.roles contains 'psd'", user__roles=["psd"])
    assert not holds("user.roles contains 'ps'", user__roles=["psd"])
    assert holds("auditwatch.search.terms startswith 'SM'", auditwatch__search__terms="SMITH")
    assert holds("auditwatch.search.terms endswith 'TH'", auditwatch__search__terms="SMITH")
    assert holds("auditwatch.search.terms matches /^sm.*h$/i", auditwatch__search__terms="SMITH")
    assert not holds("auditwatch.search.terms matches /^sm/", auditwatch__search__terms="SMITH")


def test_exists_fold_truthy_and_field_to_field() -> None:
    """exists(), fold() for accent/case-insensitive comparison, bare flags, field-to-field comparison."""
    assert holds("exists(user.id) and not exists(host.name)", user__id="u")
    assert holds("fold(auditwatch.subject.surname) == 'eloise'", auditwatch__subject__surname="ÉLOÏSE")
    assert holds("auditwatch.search.wildcard", auditwatch__search__wildcard=True)
    assert not holds("auditwatch.search.wildcard", auditwatch__search__wildcard=False)
    assert holds(
        "user.name == auditwatch.subject.surname", user__name="Reid", auditwatch__subject__surname="Reid"
    )
    assert not holds("user.name == auditwatch.subject.surname", user__name="Reid")


def test_time_of_day_and_weekday_in_a_timezone() -> None:
    """hour(zone) and weekday(zone) use the event's local time, including summer time."""
    # BASE is Monday 10:00 UTC in January (GMT); Sunday 5 July 23:30 UTC is Monday 00:30 BST.
    assert holds("hour(Europe/London) between 9 and 10 and weekday == mon")
    july = 181 * 86400 + 13.5 * 3600
    assert holds("hour(Europe/London) == 0 and weekday(Europe/London) in [mon]", at=july)
    assert holds("hour(UTC) == 23 and weekday(UTC) == sun", at=july)
    assert holds("weekday in [sat, sun]", at=5 * 86400)


def test_unknown_names_are_reported_with_a_suggestion() -> None:
    """Unknown fields, matches and lists are errors at load time, with the closest known name."""
    [(loc, message)] = errors("user.idd == 'x'")
    assert loc == 0
    assert "unknown field 'user.idd'" in message
    assert "did you mean 'user.id'" in message
    assert "did you mean 'subject_is_staff'" in errors("match(subject_is_staf)")[0][1]
    assert "unknown list 'unitz'" in errors("host.name in list(unitz)")[0][1]
    assert "not a weekday" in errors("weekday in [saturday]")[0][1]
    assert "unknown timezone" in errors("hour(Mars/Base) == 1")[0][1]
    assert "invalid regex" in errors("host.name matches /a(/")[0][1]


def test_reference_values_and_matches_read_the_event_view() -> None:
    """Reference names resolve through EventView; with an empty reference they are simply absent."""
    assert holds("user.status == 'unknown'", user__id="MP000001")
    assert not holds("match(subject_is_staff)", user__id="MP000001", auditwatch__subject__person_id="P1")
    assert holds("not exists(user.surname)", user__id="MP000001")
    assert holds("not (assigned_to_linked_case or assigned_to_case_ref)", user__id="MP000001")
