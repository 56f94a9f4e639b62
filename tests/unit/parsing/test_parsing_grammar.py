"""The pattern language: grammar, error columns, compilation to one regex per record type."""

from __future__ import annotations

import pytest

from auditwatch.parsing.compile import DefinitionError, compile_pattern
from auditwatch.parsing.pattern import Opt, PatternSyntaxError, Ref, Text, parse_pattern


def _parse(
    pattern: str, text: str, definitions: dict[str, str] | None = None, loose_whitespace: bool = True
) -> dict[str, str | None] | None:
    compiled = compile_pattern(pattern, definitions or {}, loose_whitespace)
    match = compiled.regex.fullmatch(text)
    if match is None:
        return None
    parsed = match.groupdict()
    for group, field in compiled.renames:
        value = parsed.pop(group)
        if parsed.get(field) is None:
            parsed[field] = value
    for field, post in compiled.posts:
        parsed[field] = post(parsed[field])
    return parsed


def test_nodes_for_references_optionals_and_escapes() -> None:
    """References, fixed widths, optional parts and escaped brackets become the expected nodes."""
    nodes = parse_pattern(r"%{WORD:a} [%{INT}] \[%{8:user}\]")
    assert nodes == (
        Ref("WORD", 0, "a", 1),
        Text(" "),
        Opt((Ref("INT", 0, "", 12),)),
        Text(" "),
        Text("["),
        Ref("", 8, "user", 22),
        Text("]"),
    )


@pytest.mark.parametrize(
    ("pattern", "column", "words"),
    [
        ("abc %{WORD:a", 5, "never closed"),
        ("abc ] x", 5, "without a matching '['"),
        ("ab [ c %{WORD:x}", 4, "never closed"),
        ("x %{}", 3, "empty reference"),
        ("x %{9x:a}", 3, "bad name '9x'"),
        ("x %{WORD:}", 3, "no field name"),
        ("x %{WORD:a b}", 3, "bad field name 'a b'"),
        ("", 1, "empty"),
    ],
)
def test_grammar_errors_name_the_column(pattern: str, column: int, words: str) -> None:
    """Every grammar error says the 1-based column and what is wrong, in plain words."""
    with pytest.raises(PatternSyntaxError) as caught:
        parse_pattern(pattern)
    assert caught.value.column == column
    assert words in str(caught.value)
    assert str(caught.value).startswith(f"column {column}: ")


def test_pyparsing_exceptions_never_leak() -> None:
    """Whatever the input, only PatternSyntaxError comes out of the grammar."""
    for bad in ["%{", "[[[", "]", "%{A:b:c}", "\\", "%{WORD:a}]", "%{ WORD }"]:
        with pytest.raises(PatternSyntaxError):
            parse_pattern(bad)


def test_unknown_name_reports_its_column() -> None:
    """An unknown primitive is reported at the column of its reference."""
    with pytest.raises(PatternSyntaxError) as caught:
        compile_pattern("%{WORD:a} %{NOPE:b}", {})
    assert caught.value.column == 11
    assert "unknown pattern name 'NOPE'" in str(caught.value)


def test_primitives_capture_and_quoted_strings_are_unquoted() -> None:
    """WORD, INT, IP and QUOTEDSTRING capture; the quoted string loses its quotes and escapes."""
    parsed = _parse(
        "%{WORD:verb} %{INT:n} from %{IP:ip} says %{QUOTEDSTRING:msg}",
        'GET 42 from 10.1.2.3 says "he said ""hi"" \\"there\\""',
    )
    assert parsed == {"verb": "GET", "n": "42", "ip": "10.1.2.3", "msg": 'he said "hi" "there"'}


def test_fixed_width_fields_are_exact_and_trimmed() -> None:
    """%{8:user} takes exactly eight characters and trims the padding."""
    pattern = "%{6:date} %{8:user} %{3:code}END"
    assert _parse(pattern, "251125 MP1      QP END") == {"date": "251125", "user": "MP1", "code": "QP"}
    assert _parse(pattern, "251125 MP1     QP END") is None


def test_optional_part_may_be_absent() -> None:
    """An optional part matches when present and leaves its field None when absent."""
    pattern = "RSN=%{INT:reason}[ REF=%{NOTSPACE:ref}] HITS=%{INT:hits}"
    assert _parse(pattern, "RSN=07 REF=CR/1/26 HITS=3") == {"reason": "07", "ref": "CR/1/26", "hits": "3"}
    assert _parse(pattern, "RSN=07 HITS=3") == {"reason": "07", "ref": None, "hits": "3"}


def test_loose_whitespace_matches_runs_of_blanks_strict_does_not() -> None:
    """A blank in a loose pattern matches any run of blanks; strict patterns match literally."""
    assert _parse("%{WORD:a} %{WORD:b}", "x    y") == {"a": "x", "b": "y"}
    assert _parse("%{WORD:a} %{WORD:b}", "x    y", loose_whitespace=False) is None


def test_definitions_nest_and_dotted_fields_are_allowed() -> None:
    """Definitions reference each other; dotted field names are captured under their own names."""
    definitions = {"PAIR": "%{WORD:key}=%{VALUE:value.text}", "VALUE": "%{NOTSPACE}"}
    assert _parse("%{PAIR}", "a=b", definitions) == {"key": "a", "value.text": "b"}


def test_regex_definitions_are_used_verbatim() -> None:
    """A regex definition slots into the pattern as a non-capturing group."""
    compiled = compile_pattern("%{NAME:n}/%{INT:y}", {}, regexes={"NAME": "[A-Z' ]+"})
    match = compiled.regex.fullmatch("O'BRIEN MARY/1975")
    assert match is not None
    assert match.group("n") == "O'BRIEN MARY"


def test_definition_cycles_are_reported() -> None:
    """Definitions that refer to each other in a loop are named with the whole cycle."""
    with pytest.raises(DefinitionError) as caught:
        compile_pattern("%{A}", {"A": "x %{B}", "B": "y %{A}"})
    assert "A -> B -> A" in str(caught.value)


def test_unknown_name_inside_definition_blames_the_definition() -> None:
    """An unknown reference inside a definition is reported against that definition."""
    with pytest.raises(DefinitionError) as caught:
        compile_pattern("%{A:x}", {"A": "%{WORD} %{MISSING}"})
    assert caught.value.name == "A"
    assert "column 9" in str(caught.value)


def test_same_field_captured_twice_takes_the_first_that_matched() -> None:
    """A field captured in two places gets the first non-empty capture."""
    pattern = "[A=%{WORD:x} ]B=%{WORD:x}"
    assert _parse(pattern, "A=one B=two") == {"x": "one"}
    assert _parse(pattern, "B=two") == {"x": "two"}


def test_literal_prefix_is_kept_for_dispatch() -> None:
    """The literal text a pattern starts with is exposed for cheap pre-filtering."""
    assert compile_pattern("AUDIT: %{WORD:a}", {}).prefix == "AUDIT:"
    assert compile_pattern("%{WORD:a} x", {}).prefix == ""
