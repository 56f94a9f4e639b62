"""The syslog envelope (RFC 5424 and RFC 3164): header fields become parsed `syslog.*` fields.

Parsed fields: syslog.facility, syslog.severity (when a <PRI> is present), syslog.timestamp,
syslog.host, syslog.app, syslog.procid, syslog.msgid (5424 only) and one
``syslog.sd.<SD-ID>.<param>`` per structured-data parameter. RFC 5424 nil values (``-``) are left
out. The message (a leading UTF-8 BOM dropped) goes to the inner decoder.
"""

from __future__ import annotations

import re
from typing import Any, Final

from auditwatch.parsing.decoders import DecodeError

_RFC5424: Final = re.compile(
    r"(?:<(?P<pri>\d{1,3})>)?1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<procid>\S+) (?P<msgid>\S+) "
    r"(?P<sd>-|(?:\[(?:[^\]\"\\]|\"(?:[^\"\\]|\\.)*\")*\])+)(?: (?P<msg>.*))?",
    re.DOTALL,
)
_RFC3164: Final = re.compile(
    r"(?:<(?P<pri>\d{1,3})>)?(?P<ts>[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}) (?P<host>\S+) "
    r"(?P<app>[^:\[\s]+)(?:\[(?P<procid>[^\]]*)\])?: ?(?P<msg>.*)",
    re.DOTALL,
)
_SD_ELEMENT: Final = re.compile(r"\[(?P<id>[^\s\]=\"]+)(?P<params>(?:[^\]\"\\]|\"(?:[^\"\\]|\\.)*\")*)\]")
_SD_PARAM: Final = re.compile(r"([^\s=\"\]]+)=\"((?:[^\"\\]|\\.)*)\"")
_HEADER_FIELDS: Final = (
    ("ts", "syslog.timestamp"),
    ("host", "syslog.host"),
    ("app", "syslog.app"),
    ("procid", "syslog.procid"),
    ("msgid", "syslog.msgid"),
)
_SD_ESCAPE: Final = re.compile(r"\\([\"\\\]])")


def split_syslog(text: str) -> tuple[dict[str, Any], str]:
    """(envelope fields, message) of a syslog record; DecodeError when it is neither RFC."""
    match = _RFC5424.fullmatch(text)
    if match is None:
        match = _RFC3164.fullmatch(text)
        if match is None:
            raise DecodeError("syslog: neither an RFC 5424 nor an RFC 3164 header")
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
        for element in _SD_ELEMENT.finditer(sd):
            base = f"syslog.sd.{element.group('id')}."
            for param in _SD_PARAM.finditer(element.group("params")):
                out[base + param.group(1)] = _SD_ESCAPE.sub(r"\1", param.group(2))
    message = match.group("msg") or ""
    if message.startswith("\ufeff"):
        message = message[1:]
    return out, message
