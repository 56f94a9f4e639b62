"""JSON records read without flattening give exactly what the flattened reading gives.

The runtime reads a JSON object's mapped paths straight from the decoded object when its shape
allows (auditwatch.parsing.specialise.generate_nested) and flattens it otherwise. Every line here is
parsed both ways (the second parser has the nested reading switched off) and the outcomes must be
equal: the same event id, time and document with its keys in the same order, or the same dead
letter, or both skipped.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditwatch.model import AccessEvent, DeadLetter, RawLine
from auditwatch.parsing import CompiledParser, load_parser, specialise
from auditwatch.parsing import runtime as runtime_module

PARSERS = Path(__file__).resolve().parents[3] / "parsers"
INGESTED = "2026-11-25T12:00:00.000Z"
BASE: dict[str, Any] = {
    "audit_id": "RMS-2026-000184223",
    "ts": "2026-11-25T09:45:12.345+00:00",
    "action": "VIEW",
    "user": {"staff_no": "mp 12345", "display_name": "PC 1234 Jones"},
    "client": {"ip": "10.20.3.41", "terminal": "WS-KX-0042", "session": "8f2c1e"},
    "record": {"type": "person", "id": "PER/0001234"},
    "subject": {
        "person_id": "PER/0001234",
        "surname": "O'Brien",
        "forenames": "Siobhán  Mary",
        "dob": "01/02/1980",
        "postcode": "sw1a1aa",
        "address": "12 Acacia Avenue, London",
    },
    "search": {"terms": "SMI*", "result_count": 12},
    "reason": {"code": "07", "case_ref": "cr/1234/26"},
    "outcome": "SUCCESS",
}
# a mapping with a path three levels deep, a required long and a date field
DEEP = """\
name: deep_json
dataset: deep.audit
decoder: json
id: meta.audit.id
fields:
  "@timestamp": {from: meta.when, formats: [iso8601]}
  event.action: {from: action.verb, normalise: lower, required: true}
  user.id: {from: who.staff.no, normalise: upper, required: true}
  user.name: who.name
  auditwatch.search.result_count: {from: hits, required: true}
  auditwatch.subject.dob: {from: subject.born, normalise: {date: {formats: ["%Y-%m-%d"]}}}
  source.ip: who.ip
"""
DEEP_BASE: dict[str, Any] = {
    "meta": {"when": "2026-11-25T09:45:12.345Z", "audit": {"id": "A-1"}},
    "action": {"verb": "VIEW"},
    "who": {"staff": {"no": "mp012345"}, "name": "Jones", "ip": "10.0.0.1"},
    "hits": 3,
    "subject": {"born": "1980-02-01"},
}


class _Pair:
    """The parser with the nested reading (`fast`, whose generated readings are kept in `nested`)
    and the same parser with it switched off (`flat`)."""

    def __init__(self, path: Path) -> None:
        self.nested: list[specialise.NestedFill | None] = []
        real = specialise.generate_nested

        def keep(plan: specialise.RecordPlan) -> specialise.NestedFill | None:
            made = real(plan)
            self.nested.append(made)
            return made

        with pytest.MonkeyPatch.context() as m:
            m.setattr(runtime_module, "generate_nested", keep)
            self.fast = load_parser(path)
            m.setattr(runtime_module, "generate_nested", lambda plan: None)
            self.flat = load_parser(path)


@pytest.fixture(scope="module")
def rms() -> _Pair:
    return _Pair(PARSERS / "rms_json.yml")


@pytest.fixture(scope="module")
def deep(tmp_path_factory: pytest.TempPathFactory) -> _Pair:
    path = tmp_path_factory.mktemp("deep") / "deep_json.yml"
    path.write_text(DEEP, encoding="utf-8")
    return _Pair(path)


def _outcome(parser: CompiledParser, line: str) -> object:
    data = line.encode("utf-8", "surrogatepass")
    raw = RawLine("src", "/var/log/x.jsonl", "key-1", 40, 41 + len(data), data, len(data))
    result = parser.parse(raw, INGESTED)
    if isinstance(result, AccessEvent):
        return ("event", result.id, result.timestamp, list(result.fields.items()))
    if isinstance(result, DeadLetter):
        return ("dead", result.stage, result.reason)
    return result


def _same(pair: _Pair, line: str) -> object:
    got = _outcome(pair.fast, line)
    assert got == _outcome(pair.flat, line), line
    return got


def test_the_nested_reading_is_taken_for_the_usual_shape(rms: _Pair, deep: _Pair) -> None:
    """Both parsers get a nested reading, and it answers (not None) for an object of the usual shape."""
    for pair, base in ((rms, BASE), (deep, DEEP_BASE)):
        assert len(pair.nested) == 1
        nested = pair.nested[0]
        assert nested is not None
        text = orjson.dumps(base).decode()
        assert nested(orjson.loads(text), 1_800_000_000.0, text) is not None
        assert _same(pair, text)[0] == "event"  # type: ignore[index]


def test_a_source_that_is_also_a_parent_gets_no_nested_reading() -> None:
    plan = specialise.RecordPlan(
        static={},
        timestamp_source="a",
        timestamp=lambda v, r: 0.0,
        window=lambda e, r: None,
        earliest=0.0,
        max_future=0.0,
        pick=None,
        copies=(("x", "a.b"),),
        memos=(),
        getters=(),
        id_field=None,
    )
    assert specialise.generate_nested(plan) is None


SHAPES: list[Any] = [
    None,
    "",
    " ",
    0,
    7,
    -1,
    1.5,
    3.0,
    True,
    False,
    [],
    ["a", None, 3],
    [{"x": 1}],
    {},
    {"x": "y"},
    {"staff_no": "mp 1"},
    "a{b",
    "x}",
    "mp 99999",
    "2026-11-25T09:45:12Z",
    "not a time",
    "1980-02-01",
]


def _mutations(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    paths: list[tuple[str, ...]] = []

    def walk(obj: dict[str, Any], prefix: tuple[str, ...]) -> None:
        for key, value in obj.items():
            paths.append((*prefix, key))
            if isinstance(value, dict):
                walk(value, (*prefix, key))

    walk(base, ())
    names = sorted({p[-1] for p in paths} | {".".join(p) for p in paths} | {"extra", "a.b", ""})

    def setter(obj: dict[str, Any], where: tuple[str, ...], value: Any) -> dict[str, Any]:
        out = copy.deepcopy(obj)
        node = out
        for key in where[:-1]:
            if not isinstance(node.get(key), dict):
                return out
            node = node[key]
        node[where[-1]] = value
        return out

    def deleter(obj: dict[str, Any], where: tuple[str, ...]) -> dict[str, Any]:
        out = copy.deepcopy(obj)
        node = out
        for key in where[:-1]:
            node = node.get(key, {})
            if not isinstance(node, dict):
                return out
        node.pop(where[-1], None)
        return out

    place = st.one_of(st.sampled_from(paths), st.sampled_from(paths).map(lambda p: (*p[:-1], "extra")))
    value = st.one_of(st.sampled_from(SHAPES), st.text(max_size=8))
    step = st.one_of(
        st.tuples(st.just("set"), place, value),
        st.tuples(st.just("del"), st.sampled_from(paths), st.none()),
        st.tuples(st.just("top"), st.sampled_from(names).map(lambda n: (n,)), value),
    )

    def apply(steps: list[tuple[str, tuple[str, ...], Any]]) -> dict[str, Any]:
        obj = base
        for kind, where, val in steps:
            obj = deleter(obj, where) if kind == "del" else setter(obj, where, val)
        return obj

    return st.lists(step, max_size=4).map(apply)


@settings(max_examples=400, deadline=None)
@given(obj=_mutations(BASE))
def test_rms_json_reads_the_same_nested_or_flattened(rms: _Pair, obj: dict[str, Any]) -> None:
    _same(rms, orjson.dumps(obj).decode())


@settings(max_examples=400, deadline=None)
@given(obj=_mutations(DEEP_BASE))
def test_a_deep_mapping_reads_the_same_nested_or_flattened(deep: _Pair, obj: dict[str, Any]) -> None:
    _same(deep, orjson.dumps(obj).decode())


@pytest.mark.parametrize(
    "line",
    [
        # dotted keys spelling a mapped path: the last spelling wins when flattened
        '{"ts":"2026-11-25T09:45:12Z","action":"VIEW","user":{"staff_no":"mp 1"},"user.staff_no":"mp 2"}',
        '{"ts":"2026-11-25T09:45:12Z","action":"VIEW","user.staff_no":"mp 2","user":{"staff_no":"mp 1"}}',
        '{"ts":"2026-11-25T09:45:12Z","action":"VIEW","user":{"staff_no":{"x":1}}}',
        '{"ts":"2026-11-25T09:45:12Z","action":"VIEW","user":"mp 1","user.staff_no":"mp 3"}',
        '{"ts":"2026-11-25T09:45:12Z","action":"VIEW","user":{"staff_no":"mp 1","a":{"b":1}}}',
        '{"ts":"2026-11-25T09:45:12Z","action":"VIEW","user":{"staff_no":"mp {1"}}',
        '{"ts":"2026-11-25T09:45:12Z","action":"VIEW","user":{"staff_no":"mp 1"},"x":[{"a":1}]}',
        '{"ts":"2026-11-25T09:45:12Z","action":"VIEW","user":{"staff_no":"mp 1"},"ts":"2026-11-26T00:00Z"}',
        '{"ts":"2026-11-25T09:45:12Z","action":"VIEW","user":{"staff_no":"mp 1"},"deep":'
        + '{"a":' * 40
        + "1"
        + "}" * 40
        + "}",
        '{"ts":"2026-11-25T09:45:12Z","action":"VIEW","user":{"staff_no":null}}',
        '{"ts":"2026-11-25T09:45:12Z","action":"VIEW"}',
        '{"ts":"2026-11-25T09:45:12Z","action":"FLY","user":{"staff_no":"mp 1"}}',
        '{"ts":"1970-01-01T00:00:00Z","action":"VIEW","user":{"staff_no":"mp 1"}}',
        "[1,2]",
        "not json",
        '{"ts":"2026-11-25T09:45:12Z"',
    ],
)
def test_edge_cases_read_the_same(rms: _Pair, line: str) -> None:
    _same(rms, line)
