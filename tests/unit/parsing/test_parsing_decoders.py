"""Decoders: JSON lines, CSV, key=value and the syslog envelope, on good and broken records."""

from __future__ import annotations

import pytest

from auditwatch.parsing.decoders import DecodeError, NotARecord
from auditwatch.parsing.decoders.csv import csv_decoder
from auditwatch.parsing.decoders.json import decode_json
from auditwatch.parsing.decoders.kv import kv_decoder
from auditwatch.parsing.decoders.syslog import split_syslog


def test_json_nested_objects_flatten_to_dotted_keys() -> None:
    """Nested objects become dotted keys; lists and scalars stay as they are."""
    _, parsed = decode_json('{"a": 1, "user": {"id": "MP1", "org": {"unit": "KX"}}, "tags": ["x", "y"]}')
    assert parsed == {"a": 1, "user.id": "MP1", "user.org.unit": "KX", "tags": ["x", "y"]}


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('{"a": 1, "b": ', "json: "),
        ('{"a": 1 "b": 2}', "json: "),
        ("[1, 2]", "the record is list, not an object"),
        ('"just a string"', "the record is str, not an object"),
        ("", "json: "),
    ],
)
def test_json_errors_are_decode_errors(line: str, words: str) -> None:
    """Broken or non-object JSON raises DecodeError with a json: reason."""
    with pytest.raises(DecodeError, match=words):
        decode_json(line)


def test_json_dotted_names_stay_right_past_the_name_cache_limit() -> None:
    """Thousands of distinct nested keys (more than the dotted-name cache holds) flatten correctly."""
    for round_ in range(2):
        for i in range(2_500):
            line = f'{{"k{i}": {{"x{i}": {i}, "y": "{round_}"}}, "x{i}": {{"k{i}": "z"}}, "k{i}.y": "t"}}'
            assert decode_json(line)[1] == {f"k{i}.x{i}": i, f"k{i}.y": "t", f"x{i}.k{i}": "z"}


def test_json_deep_nesting_is_refused_not_crashed() -> None:
    """Objects nested beyond a sane depth are a decode error, not a recursion crash."""
    with pytest.raises(DecodeError, match="nested deeper than 32 levels"):
        decode_json('{"a":' * 40 + "1" + "}" * 40)
    assert decode_json('{"a":' * 20 + "1" + "}" * 20)[1] == {".".join(["a"] * 20): 1}


def test_csv_quoted_commas_and_header_recognition() -> None:
    """Quoted cells keep their commas and doubled quotes; the header line is recognised as not a record."""
    decode = csv_decoder(["id", "name", "note"], skip_header=True)
    assert decode('7,"Smith, John","said ""hi"""')[1] == {
        "id": "7",
        "name": "Smith, John",
        "note": 'said "hi"',
    }
    with pytest.raises(NotARecord, match="header line"):
        decode("ID, Name ,note")
    assert decode("ID,Smith,x")[1]["name"] == "Smith"  # the first cell alone is not a header
    with pytest.raises(DecodeError, match="2 columns, expected 3"):
        decode("7,x")
    with pytest.raises(DecodeError, match="NUL"):
        decode("7,x\x00,y")


def test_csv_other_delimiter_and_quote() -> None:
    """Delimiter and quote character are configurable."""
    decode = csv_decoder(["a", "b"], delimiter=";", quote="'")
    assert decode("'x;y';z")[1] == {"a": "x;y", "b": "z"}


def test_kv_quotes_escapes_and_empty_values() -> None:
    """Quoted values lose their quotes and escapes; an empty value is an empty string."""
    decode = kv_decoder()
    line = 'user="MP012345" name=\'O\\\'Brien\' note="say \\"hi\\"" empty= n=3'
    assert decode(line)[1] == {
        "user": "MP012345",
        "name": "O'Brien",
        "note": 'say "hi"',
        "empty": "",
        "n": "3",
    }


def test_kv_errors_say_where() -> None:
    """An unclosed quote or a token that is not key=value is reported with its column."""
    decode = kv_decoder()
    with pytest.raises(DecodeError, match="quoted value of 'user' at column 9 is not closed"):
        decode('a=1 b=2 user="MP012345 action=view')
    with pytest.raises(DecodeError, match="expected key=value at column 5"):
        decode("a=1 junk b=2")
    with pytest.raises(DecodeError, match="empty record"):
        decode("   ")


def test_kv_custom_separators_allow_blanks_in_values() -> None:
    """With ';' between pairs and ':' inside them, plain values may hold blanks and are trimmed."""
    decode = kv_decoder(":", ";")
    assert decode('a: 1 ; b:"x;y"; c: three words ')[1] == {"a": "1", "b": "x;y", "c": "three words"}


def test_syslog_rfc5424_with_structured_data_and_bom() -> None:
    """The 5424 header, each structured-data parameter and the message (BOM dropped) come out."""
    fields, message = split_syslog(
        "<134>1 2026-11-25T09:45:12.345Z host1 app 42 ID47 "
        '[meta@1 site="KX" q="a\\"b"][x@2 k="v"] \ufeffuser=a'
    )
    assert fields == {
        "syslog.facility": 16,
        "syslog.severity": 6,
        "syslog.timestamp": "2026-11-25T09:45:12.345Z",
        "syslog.host": "host1",
        "syslog.app": "app",
        "syslog.procid": "42",
        "syslog.msgid": "ID47",
        "syslog.sd.meta@1.site": "KX",
        "syslog.sd.meta@1.q": 'a"b',
        "syslog.sd.x@2.k": "v",
    }
    assert message == "user=a"


def test_syslog_rfc5424_nil_values_are_left_out() -> None:
    """'-' for procid, msgid and structured data means absent."""
    fields, message = split_syslog("<13>1 2026-11-25T09:45:12Z host1 app - - - hello")
    assert "syslog.procid" not in fields
    assert "syslog.msgid" not in fields
    assert message == "hello"


def test_syslog_rfc3164_with_and_without_pri() -> None:
    """The old BSD format, with or without <PRI> and [pid], gives timestamp, host, app and message."""
    fields, message = split_syslog("<34>Oct  1 22:14:15 mymachine su[123]: 'su root' failed")
    assert fields["syslog.timestamp"] == "Oct  1 22:14:15"
    assert (fields["syslog.host"], fields["syslog.app"], fields["syslog.procid"]) == (
        "mymachine",
        "su",
        "123",
    )
    assert message == "'su root' failed"
    fields, message = split_syslog("Oct 11 22:14:15 host2 custodyd: a=1")
    assert (fields["syslog.app"], message) == ("custodyd", "a=1")
    assert "syslog.facility" not in fields


@pytest.mark.parametrize("line", ["", "hello world", "<999>1 2026-11-25T09:45:12Z h a - - - m", "<13>2 x"])
def test_syslog_rejects_what_is_not_syslog(line: str) -> None:
    """Lines that are not syslog (or have an impossible priority) raise DecodeError."""
    with pytest.raises(DecodeError, match="syslog: "):
        split_syslog(line)
