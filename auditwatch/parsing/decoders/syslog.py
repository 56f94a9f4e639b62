"""The syslog envelope (RFC 5424 and RFC 3164): header fields become parsed `syslog.*` fields.

Parsed fields: syslog.facility, syslog.severity (when a <PRI> is present), syslog.timestamp,
syslog.host, syslog.app, syslog.procid, syslog.msgid (5424 only) and one
``syslog.sd.<SD-ID>.<param>`` per structured-data parameter. RFC 5424 nil values (``-``) are left
out. The message (a leading UTF-8 BOM dropped) goes to the inner decoder.

Strict (the default) follows RFC 5424's grammar for the header and the structured data: header
fields are printable US-ASCII within the RFC's lengths, an SD-ID or PARAM-NAME is 1-32 printable
characters other than ``= ] "`` and blank, and inside a PARAM-VALUE the characters ``" \\ ]`` are
escaped with a backslash; anything else is `DecodeError`. Lenient (a parser's ``lenient: true``)
accepts any non-blank header fields and reads structured data as far as it can: an unescaped
``]`` inside a quoted value, parameters without a value and text between them are passed over.
Every regex here is linear-time (`auditwatch.regexsafety` checks them in the tests).
"""

from __future__ import annotations

import re
from typing import Any, Final

from auditwatch.parsing.decoders import DecodeError

_PRI: Final = r"(?:<(?P<pri>\d{1,3})>)?"
# SD-NAME: printable US-ASCII except '=', ']', '"' and SP, 1 to 32 characters
_NAME: Final = r"[!#-<>-\\^-~]{1,32}"
# PARAM-VALUE: '"', '\' and ']' escaped (the unrolled form of (?:[^"\\\]]|\\.)*)
_VALUE: Final = r'[^"\\\]]*+(?:\\.[^"\\\]]*+)*+'
_ELEMENT: Final = rf'\[{_NAME}(?: {_NAME}="{_VALUE}")*+\]'
_STRICT_5424: Final = re.compile(
    _PRI + r"1 (?P<ts>[!-~]{1,64}) (?P<host>[!-~]{1,255}) (?P<app>[!-~]{1,48}) (?P<procid>[!-~]{1,128}) "
    rf"(?P<msgid>[!-~]{{1,32}}) (?P<sd>-|(?:{_ELEMENT})++)(?: (?P<msg>.*))?",
    re.DOTALL,
)
_STRICT_ELEMENT: Final = re.compile(rf"\[(?P<id>{_NAME})(?P<params>(?: {_NAME}=\"{_VALUE}\")*+)\]")
_STRICT_PARAM: Final = re.compile(rf' ({_NAME})="({_VALUE})"')

# lenient: any quoted run inside brackets (an unescaped ']' inside quotes allowed), as before
_LOOSE_SD_BODY: Final = r'[^\]"\\]*+(?:(?:"[^"\\]*+(?:\\.[^"\\]*+)*+"|\\.)[^\]"\\]*+)*+'
_LOOSE_5424: Final = re.compile(
    _PRI + r"1 (?P<ts>\S++) (?P<host>\S++) (?P<app>\S++) (?P<procid>\S++) (?P<msgid>\S++) "
    rf"(?P<sd>-|(?:\[{_LOOSE_SD_BODY}\])++)(?: (?P<msg>.*))?",
    re.DOTALL,
)
_LOOSE_ELEMENT: Final = re.compile(rf"\[(?P<id>[^\s\]=\"]++)(?P<params>{_LOOSE_SD_BODY})\]")
# a parameter starts after a blank (so a long run without '=' is scanned once, not once per start)
_LOOSE_PARAM: Final = re.compile(r'(?<!\S)([^\s="\]]++)="([^"\\]*+(?:\\.[^"\\]*+)*+)"')

_RFC3164: Final = re.compile(
    _PRI + r"(?P<ts>[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}) (?P<host>[!-~]{1,255}) "
    r"(?P<app>[^:\[\s]{1,48})(?:\[(?P<procid>[^\]\s]{0,128})\])?: ?(?P<msg>.*)",
    re.DOTALL,
)
_LOOSE_3164: Final = re.compile(
    _PRI + r"(?P<ts>[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}) (?P<host>\S++) "
    r"(?P<app>[^:\[\s]++)(?:\[(?P<procid>[^\]]*+)\])?: ?(?P<msg>.*)",
    re.DOTALL,
)
_HEADER_FIELDS: Final = (
    ("ts", "syslog.timestamp"),
    ("host", "syslog.host"),
    ("app", "syslog.app"),
    ("procid", "syslog.procid"),
    ("msgid", "syslog.msgid"),
)
_SD_ESCAPE: Final = re.compile(r"\\([\"\\\]])")
_LOOSE_ESCAPE: Final = re.compile(r"\\([\"\\])")
#: every regex of this module, for the linear-time check in the tests
REGEXES: Final = (
    _STRICT_5424,
    _STRICT_ELEMENT,
    _STRICT_PARAM,
    _LOOSE_5424,
    _LOOSE_ELEMENT,
    _LOOSE_PARAM,
    _RFC3164,
    _LOOSE_3164,
    _SD_ESCAPE,
    _LOOSE_ESCAPE,
)


def split_syslog(text: str, lenient: bool = False) -> tuple[dict[str, Any], str]:
    """(envelope fields, message) of a syslog record; DecodeError saying why it is not one."""
    rfc5424, rfc3164 = (_LOOSE_5424, _LOOSE_3164) if lenient else (_STRICT_5424, _RFC3164)
    match = rfc5424.fullmatch(text)
    if match is None:
        match = rfc3164.fullmatch(text)
        if match is None:
            raise DecodeError(_why(text, lenient))
    out: dict[str, Any] = {}
    pri = match.group("pri")
    if pri is not None:
        value = int(pri)
        if value > 191:
            raise DecodeError(f"syslog: priority {value} is out of range")
        out["syslog.facility"] = value >> 3
        out["syslog.severity"] = value & 7
    groups = match.groupdict()
    for name, field in _HEADER_FIELDS:
        value_text = groups.get(name)
        if value_text is not None and value_text != "-":
            out[field] = value_text
    sd = groups.get("sd")
    if sd and sd != "-":
        element_rx, param_rx, escape = (
            (_LOOSE_ELEMENT, _LOOSE_PARAM, _LOOSE_ESCAPE)
            if lenient
            else (_STRICT_ELEMENT, _STRICT_PARAM, _SD_ESCAPE)
        )
        for element in element_rx.finditer(sd):
            base = f"syslog.sd.{element.group('id')}."
            for param in param_rx.finditer(element.group("params")):
                raw = param.group(2)
                out[base + param.group(1)] = escape.sub(r"\1", raw) if "\\" in raw else raw
    message = match.group("msg") or ""
    if message.startswith("\ufeff"):
        message = message[1:]
    return out, message


def _why(text: str, lenient: bool) -> str:
    """The dead-letter reason (slow path: only for lines that are not syslog as configured)."""
    if not lenient and _LOOSE_5424.fullmatch(text) is not None:
        head = _LOOSE_5424.fullmatch(text)
        assert head is not None
        sd = head.group("sd")
        if sd != "-" and re.fullmatch(rf"(?:{_ELEMENT})++", sd) is None:
            return (
                "syslog: RFC 5424 structured data does not follow the grammar "
                '([ID name="value" ...] with ", \\ and ] escaped inside values)'
            )
        return "syslog: an RFC 5424 header field is too long or not printable ASCII"
    if not lenient and _LOOSE_3164.fullmatch(text) is not None:
        return "syslog: an RFC 3164 header field is too long or not printable ASCII"
    return "syslog: neither an RFC 5424 nor an RFC 3164 header"
