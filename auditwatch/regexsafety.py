"""Load-time check that a regex cannot make Python's backtracking `re` engine take super-linear time.

`re` backtracks: `(a+)+$` on 30 `a`s and a `!` takes seconds, `\\S+@\\S+ x` on 10k `@`s is
quadratic. A regex that user config writes (parser definitions, `skip:`, `replace` normalisers, rule
`matches`) is checked here once, when it is loaded; the check is conservative (it may refuse a
regex that happens to be fast) and names the construct and how to rewrite it.

Three shapes are refused (an *unbounded* repeat is `*`, `+`, `{n,}` or a bound above
`UNBOUNDED_ABOVE`; possessive `*+` / `++` and atomic `(?>...)` repeats never backtrack and pass):

- **nested**: an unbounded repeat inside another, unless every iteration of the outer one starts
  with a character the inner one cannot match (the "unrolled loop" ``"[^"]*(?:""[^"]*)*"`` passes,
  ``(?:a+)+`` and ``(?:\\w+\\s?)+`` do not);
- **overlapping alternatives**: an unbounded repeat of an alternation whose branches can start with
  the same character (``(?:a|ab)*``);
- **adjacent**: an unbounded repeat followed, with only characters it could also have matched in
  between, by another unbounded repeat over overlapping characters (``\\s+.{8}\\s+``,
  ``[\\w@]+@\\S+``). An unbounded repeat of *any* character followed only by what may match empty
  (``.*\\s*`` at the end of a full match) takes everything at its first try and passes.

Character sets are compared on sample characters: every literal and range end in either set and
its neighbours, plus ASCII and a few non-ASCII letters, digits and blanks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from re import _constants as C  # type: ignore[attr-defined]  # the stdlib's own parser (3.11+)
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any, Final

import re2

from auditwatch.errors import REGEX_INVALID, REGEX_REFUSED, AuditwatchError

UNBOUNDED_ABOVE: Final = 100  # a counted repeat with a larger upper bound counts as unbounded

_NON_ASCII_SAMPLES: Final = (0x85, 0xA0, 0xAA, 0xB5, 0xC9, 0xE9, 0xFF, 0x100, 0x141, 0x3A9, 0x416, 0x660)
_BASE_SAMPLES: Final = frozenset((*range(128), *_NON_ASCII_SAMPLES, 0x2003, 0x2028, 0x3000, 0x4E00, 0xFF10))


class UnsafeRegex(AuditwatchError, ValueError):
    """The regex can backtrack super-linearly; the message names the construct and a rewrite."""

    code = REGEX_REFUSED


class InvalidRegex(AuditwatchError, ValueError):
    """The regex does not compile (or nests too deeply for Python's parser); the message says why."""

    code = REGEX_INVALID


@dataclass(frozen=True, slots=True)
class _Chars:
    """A set of characters: predicate items from an sre `IN` list (or ANY), possibly negated."""

    items: tuple[tuple[Any, Any], ...]
    negate: bool = False
    any_char: bool = False
    dotall: bool = True
    ignore_case: bool = False

    def has(self, code: int) -> bool:
        if self.any_char:
            return self.dotall or code != 10
        found = any(_item_has(op, av, code) for op, av in self.items)
        if not found and self.ignore_case:
            char = chr(code)
            for other in {char.lower(), char.upper()} - {char}:
                if len(other) == 1 and any(_item_has(op, av, ord(other)) for op, av in self.items):
                    found = True
                    break
        return found != self.negate

    def samples(self) -> Iterator[int]:
        for op, av in self.items:
            if op is C.LITERAL:
                yield from (av - 1, av, av + 1)
            elif op is C.RANGE:
                yield from (av[0] - 1, av[0], av[1], av[1] + 1)


def _item_has(op: Any, av: Any, code: int) -> bool:
    if op is C.LITERAL:
        return bool(code == av)
    if op is C.RANGE:
        return bool(av[0] <= code <= av[1])
    if op is C.CATEGORY:
        return _category_has(av, code)
    return True  # unknown: assume it may match (conservative)


_CATEGORY_RX: Final = {
    C.CATEGORY_DIGIT: re.compile(r"\d"),
    C.CATEGORY_NOT_DIGIT: re.compile(r"\D"),
    C.CATEGORY_SPACE: re.compile(r"\s"),
    C.CATEGORY_NOT_SPACE: re.compile(r"\S"),
    C.CATEGORY_WORD: re.compile(r"\w"),
    C.CATEGORY_NOT_WORD: re.compile(r"\W"),
}


def _category_has(category: Any, code: int) -> bool:
    rx = _CATEGORY_RX.get(category)
    if rx is None:
        return True
    return 0 <= code <= 0x10FFFF and rx.fullmatch(chr(code)) is not None


def _overlap(a: _Chars, b: _Chars) -> bool:
    for code in {*_BASE_SAMPLES, *a.samples(), *b.samples()}:
        if 0 <= code <= 0x10FFFF and a.has(code) and b.has(code):
            return True
    return False


def _union(sets: Iterable[_Chars]) -> _Chars | None:
    """One set for several (ANY when any of them is negated or ANY: conservative)."""
    listed = list(sets)
    if len(listed) == 1:
        return listed[0]
    items: list[tuple[Any, Any]] = []
    first: _Chars | None = None
    for chars in listed:
        if first is None:
            first = chars
        if chars.any_char or chars.negate:
            return _Chars((), any_char=True, dotall=True)
        items.extend(chars.items)
    if first is None:
        return None
    return _Chars(tuple(items), ignore_case=first.ignore_case)


@dataclass(frozen=True, slots=True)
class _Info:
    """What the analysis needs of a piece: may it match empty, what can it start with, which
    characters can it consume anywhere, does it contain an unbounded repeat."""

    nullable: bool
    first: _Chars | None  # None: matches nothing of its own (an anchor, an empty group)
    chars: _Chars | None
    unbounded: bool  # contains an unbounded repeat (possessive ones too: each try may run O(n))


class _Checker:
    def __init__(self, flags: int, full_match: bool) -> None:
        self.full_match = full_match
        self.dotall = bool(flags & re.DOTALL)
        self.ignore_case = bool(flags & re.IGNORECASE)

    def chars_of(self, op: Any, av: Any) -> _Chars | None:
        if op is C.LITERAL:
            return _Chars(((C.LITERAL, av),), ignore_case=self.ignore_case)
        if op is C.NOT_LITERAL:
            return _Chars(((C.LITERAL, av),), negate=True, ignore_case=self.ignore_case)
        if op is C.ANY:
            return _Chars((), any_char=True, dotall=self.dotall)
        if op is C.IN:
            negate = bool(av) and av[0][0] is C.NEGATE
            items = tuple((o, a) for o, a in av if o is not C.NEGATE)
            return _Chars(items, negate=negate, ignore_case=self.ignore_case)
        return None

    def flatten(self, items: Iterable[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
        """Groups that change no flags spliced into the sequence around them."""
        out: list[tuple[Any, Any]] = []
        for op, av in items:
            if op is C.SUBPATTERN and not av[1] and not av[2]:
                out.extend(self.flatten(av[3]))
            else:
                out.append((op, av))
        return out

    def sequence(self, raw_items: Iterable[tuple[Any, Any]], tail_nullable_to_end: bool) -> _Info:
        """Analyse a concatenation; raise UnsafeRegex for the adjacent shape found inside it."""
        items = self.flatten(raw_items)
        infos = [self.item(op, av) for op, av in items]
        for index, (op, av) in enumerate(items):
            tail = self.tail(op, av)
            if tail is None:
                continue
            rest = infos[index + 1 :]
            greedy_wins = tail.any_char or not self.full_match
            if tail_nullable_to_end and greedy_wins and _empty_tail(items[index + 1 :]):
                continue  # its first (greedy) try cannot fail: the rest matches empty at the end
            self._adjacent(tail, rest, items[index + 1 :], tail_nullable_to_end and not self.full_match)
        nullable = all(i.nullable for i in infos)
        firsts: list[_Chars] = []
        for info in infos:
            if info.first is not None:
                firsts.append(info.first)
            if not info.nullable:
                break
        all_chars = [i.chars for i in infos if i.chars is not None]
        return _Info(nullable, _union(firsts), _union(all_chars), any(i.unbounded for i in infos))

    def tail(self, op: Any, av: Any) -> _Chars | None:
        """The characters of a backtracking unbounded repeat `op` may end with (None: none)."""
        if _backtracking_repeat(op, av) is not None:
            body = self.flatten(av[2])
            info = self.sequence(body, False)
            # one character class: what it consumes; a group: whether another iteration can start
            return info.chars if len(body) == 1 and self.chars_of(*body[0]) is not None else info.first
        if op in (C.MAX_REPEAT, C.MIN_REPEAT) and av[2]:  # a bounded repeat: its body's last repeat
            body = self.flatten(av[2])
            for inner_op, inner_av in reversed(body):
                found = self.tail(inner_op, inner_av)
                if found is not None:
                    return found
                if not self.item(inner_op, inner_av).nullable:
                    return None
        if op is C.BRANCH:
            tails = []
            for branch in av[1]:
                body = self.flatten(branch)
                if body:
                    found = self.tail(*body[-1])
                    if found is not None:
                        tails.append(found)
            return _union(tails)
        return None

    def _adjacent(
        self, chars: _Chars, rest: list[_Info], items: list[tuple[Any, Any]], open_end: bool = False
    ) -> None:
        """`open_end`: `items` run to the end of a pattern whose match may end anywhere."""
        for index, (info, (op, av)) in enumerate(zip(rest, items, strict=True)):
            if info.first is None:
                if info.nullable:
                    continue
                return
            if not _overlap(chars, info.first):
                if info.nullable:
                    continue  # it starts where the repeat must stop, but it may be skipped
                return  # a barrier: the repeat cannot run past it
            if info.unbounded and info.chars is not None and _overlap(chars, info.chars):
                reaches_end = info.chars.any_char and info.chars.dotall
                if open_end and _empty_tail(items[index + 1 :], reaches_end):
                    return  # the second repeat ends the match: whatever it reaches, the match succeeds
                if info.chars.any_char and not info.chars.dotall:
                    raise UnsafeRegex(
                        "'.' repeated where a line break in the text would make every split be tried: "
                        "write (?s) at the start (then '.' matches line breaks too), or bound the repeat"
                    )
                raise UnsafeRegex(
                    "adjacent unbounded repeats over overlapping characters "
                    f"(the second is {_show(op, av)}): "
                    "the split between them is tried every way; separate them with a character the "
                    "first cannot match, bound them, or make the first possessive (*+, ++) or atomic (?>...)"
                )

    def item(self, op: Any, av: Any) -> _Info:
        chars = self.chars_of(op, av)
        if chars is not None:
            return _Info(False, chars, chars, False)
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            low, high, body = av
            inner = self.sequence(body, False)
            unbounded = high is C.MAXREPEAT or high > UNBOUNDED_ABOVE
            if unbounded and op is not C.POSSESSIVE_REPEAT:
                self._nested(inner, self.flatten(body))
            return _Info(low == 0 or inner.nullable, inner.first, inner.chars, unbounded or inner.unbounded)
        if op is C.ATOMIC_GROUP:
            return self.sequence(list(av), False)
        if op is C.SUBPATTERN:
            _group, add_flags, del_flags, body = av
            saved = (self.dotall, self.ignore_case)
            if add_flags & re.DOTALL:
                self.dotall = True
            if add_flags & re.IGNORECASE:
                self.ignore_case = True
            if del_flags & re.DOTALL:
                self.dotall = False
            if del_flags & re.IGNORECASE:
                self.ignore_case = False
            try:
                return self.sequence(list(body), False)
            finally:
                self.dotall, self.ignore_case = saved
        if op is C.BRANCH:
            branches = [self.sequence(list(b), False) for b in av[1]]
            return _Info(
                any(b.nullable for b in branches),
                _union(b.first for b in branches if b.first is not None),
                _union(b.chars for b in branches if b.chars is not None),
                any(b.unbounded for b in branches),
            )
        if op in (C.ASSERT, C.ASSERT_NOT):
            self.sequence(list(av[1]), False)
            return _Info(True, None, None, False)
        if op is C.GROUPREF_EXISTS:
            raise UnsafeRegex("conditional groups (?(1)...) are not supported in config regexes")
        if op is C.GROUPREF:
            raise UnsafeRegex("backreferences (\\1, (?P=name)) are not supported in config regexes")
        return _Info(True, None, None, False)  # AT (anchors) and the like

    def _nested(self, inner: _Info, body: list[tuple[Any, Any]]) -> None:
        """Refuse `(x+)+`-like repeats: an unbounded repeat whose body is ambiguous per iteration."""
        for op, av in _walk(body):
            if op is not C.BRANCH:
                continue
            branches = [self.sequence(b, False) for b in av[1]]
            for i, left in enumerate(branches):
                for right in branches[i + 1 :]:
                    both_empty = left.nullable and right.nullable
                    firsts = (left.first, right.first)
                    if both_empty or (None not in firsts and _overlap(left.first, right.first)):  # type: ignore[arg-type]
                        raise UnsafeRegex(
                            "a repeated alternation whose alternatives can match the same text "
                            "(like (?:a|a)* or (?:\\w|\\d)+): make the alternatives start differently, "
                            "or use (?>...)"
                        )
        infos = [self.item(op, av) for op, av in body]
        for index, (op, av) in enumerate(body):
            tail = self.tail(op, av)
            if tail is None:
                continue
            after = body[index + 1 :] + body  # to the end of this iteration, then into the next one
            try:
                self._adjacent(tail, infos[index + 1 :] + infos, after)
            except UnsafeRegex:
                raise UnsafeRegex(
                    "nested unbounded repeats (like (a+)+ or (?:\\w+\\s?)+): the same text can be split "
                    "between the iterations in exponentially many ways; write the repeat once (a+), make "
                    "each iteration start with a character the inner repeat cannot match, or use (?>...)"
                ) from None
        if inner.nullable and inner.unbounded:
            raise UnsafeRegex("an unbounded repeat of something that may match empty, itself repeated")


def _walk(items: Iterable[tuple[Any, Any]]) -> Iterator[tuple[Any, Any]]:
    for op, av in items:
        yield op, av
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            yield from _walk(av[2])
        elif op is C.SUBPATTERN:
            yield from _walk(av[3])
        elif op is C.BRANCH:
            for branch in av[1]:
                yield from _walk(branch)
        elif op is C.ATOMIC_GROUP:
            pass  # never backtracks into
        elif op in (C.ASSERT, C.ASSERT_NOT):
            yield from _walk(av[1])


def _empty_tail(items: list[tuple[Any, Any]], at_end: bool = False) -> bool:
    """Whether `items` can all match empty and contain nothing that can fail there; `at_end`: the
    text is known to be consumed to its end (after a repeat of any character), so ``$`` holds."""
    for op, av in items:
        if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT) and av[0] == 0:
            continue
        if op is C.SUBPATTERN and _empty_tail(list(av[3]), at_end):
            continue
        if at_end and op is C.AT and av in (C.AT_END, C.AT_END_STRING):
            continue
        return False
    return True


def _backtracking_repeat(op: Any, av: Any) -> tuple[int, int] | None:
    if op not in (C.MAX_REPEAT, C.MIN_REPEAT):
        return None
    low, high, _ = av
    if high is C.MAXREPEAT or high > UNBOUNDED_ABOVE:
        return low, high
    return None


def _show(op: Any, av: Any) -> str:
    if op in (C.MAX_REPEAT, C.MIN_REPEAT):
        high = "" if av[1] is C.MAXREPEAT else str(av[1])
        return f"a repeat {{{av[0]},{high}}}"
    return "a group containing a repeat"


_SEARCH_PREFIX: Final = [(C.MIN_REPEAT, (0, C.MAXREPEAT, [(C.ANY, None)]))]
_START_ANCHORS: Final = (C.AT_BEGINNING, C.AT_BEGINNING_STRING)


def check_regex(pattern: str, flags: int = 0, *, full_match: bool = False) -> None:
    """Raise UnsafeRegex if `pattern` can backtrack super-linearly, re.error if it does not compile.

    `full_match`: the regex is only ever used anchored at both ends (``fullmatch``); otherwise it is
    used with ``search`` (or ``sub``), which tries every start position unless it begins with ``^``
    or ``\\A``: that is analysed as a lazy ``.*?`` in front."""
    parsed = sre_parse.parse(pattern, flags)
    checker = _Checker(flags | parsed.state.flags, full_match)
    items = list(parsed.data)
    anchored = bool(items) and items[0][0] is C.AT and items[0][1] in _START_ANCHORS
    if not full_match and not anchored:
        items = _SEARCH_PREFIX + items
    checker.sequence(items, True)


def is_linear(pattern: str, flags: int = 0, *, full_match: bool = False) -> bool:
    """True when `check_regex` passes."""
    try:
        check_regex(pattern, flags, full_match=full_match)
    except UnsafeRegex:
        return False
    return True


def linear_search(pattern: str, flags: int = 0) -> Callable[[str], object | None]:
    """A ``search`` for a user-written regex that runs in linear time: Python's `re` when
    `check_regex` passes (the fast engine), else RE2 (linear by construction; ~4 µs a call instead
    of ~0.2 µs through its Python wrapper; ASCII-only ``\\w``, ``\\d``, ``\\s`` and ``\\b``).
    ValueError (the message says why) when `re` cannot compile it, or it is unsafe for `re` and
    RE2 cannot compile it either (backreferences, lookaround)."""
    try:
        compiled = re.compile(pattern, flags)
        check_regex(pattern, flags)
    except re.error as exc:
        raise InvalidRegex(f"invalid regex: {exc}") from None
    except RecursionError:
        raise InvalidRegex("invalid regex: groups nested too deeply") from None
    except UnsafeRegex as unsafe:
        return _re2_search(pattern, flags, unsafe)
    return compiled.search


def _re2_search(pattern: str, flags: int, unsafe: UnsafeRegex) -> Callable[[str], object | None]:
    inline = ("i" if flags & re.IGNORECASE else "") + ("s" if flags & re.DOTALL else "")
    options = re2.Options()
    options.log_errors = False
    try:
        compiled = re2.compile(f"(?{inline}){pattern}" if inline else pattern, options)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        detail = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
        raise ValueError(
            f"regex refused: {unsafe}; and the linear-time engine (RE2) cannot run it either: {detail}"
        ) from None
    search: Callable[[str], object | None] = compiled.search
    return search
