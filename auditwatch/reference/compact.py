"""Columnar storage for the large reference tables (persons, case links): a few big buffers instead of
Python objects per row.

A million-row export held as dicts, tuples and strings costs 200-400 bytes a row, most of it object
headers and hash-table slots, and leaves the allocator fragmented when a reload frees it. Here a
table is a handful of `array`s and `bytearray`s (allocated in large blocks, returned to the system
when freed):

- `TextColumn`: distinct text (person ids, addresses) as UTF-8 in one buffer, with end offsets;
- `CodedColumn`: repetitive values (surnames, dates, postcodes, case refs) as a code per row into one
  list of distinct values;
- `KeyIndex`: open addressing from a string key to the row holding it, the keys themselves held by a
  `TextColumn` (no Python string per key);
- `HashGroups` (groups.py): open addressing from a computed key (never stored) to the rows that have it;
- `PairLists`: a `KeyIndex` whose keys each have a list of value pairs (case links: person -> case,
  role, ...).

Lookups hash the key with Python's `hash()`: tables are built and used in one process, never pickled.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from array import array
from collections.abc import Callable, Hashable, Iterator, Mapping
from itertools import accumulate, islice, repeat
from typing import Any, Final, Generic, TypeVar

V = TypeVar("V", bound=Hashable)
EMPTY: Final = -1
_START_SLOTS: Final = 1024
#: the most rows a size hint may promise: indexes are allocated from the hint up front, and a crafted
#: export (newline-dense head, huge or sparse tail) must not reserve gigabytes; real rows beyond it
#: grow the tables as they arrive
HINT_MAX: Final = 1 << 23


def slots_for(expected: int) -> int:
    """A power of two holding `expected` keys at most half full (growing costs a pass over every key)."""
    size = _START_SLOTS
    while size < 2 * expected + 2:
        size *= 2
    return size


def expected_rows(path: str, sample: int = 1 << 16) -> int:
    """About how many lines the file at `path` has, from the lines in its first `sample` bytes (a sizing
    hint for the indexes of a large export; 0 when the file cannot be read)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(sample)
            size = os.fstat(handle.fileno()).st_size
    except OSError:
        return 0
    if not head:
        return 0
    return min(int(size * max(head.count(b"\n"), 1) / len(head)), HINT_MAX)


class TextColumn:
    """Strings (None stored as "") in one UTF-8 buffer; value i is `blob[ends[i-1]:ends[i]]`."""

    __slots__ = ("blob", "ends")

    def __init__(self) -> None:
        self.blob = bytearray()
        self.ends = array("I", [0])  # ends[0] = 0: value i spans ends[i]..ends[i + 1]

    def __len__(self) -> int:
        return len(self.ends) - 1

    def append(self, text: str | None) -> None:
        blob = self.blob
        if text:
            blob += text.encode()
        self.ends.append(len(blob))

    def extend(self, texts: list[str] | list[str | None]) -> None:
        """`append` each of `texts`."""
        parts = [text.encode() if text else b"" for text in texts]
        blob = self.blob
        self.ends.extend(islice(accumulate(map(len, parts), initial=len(blob)), 1, None))
        blob += b"".join(parts)

    def pop(self) -> None:
        """Drop the last value (a row rejected after it was appended)."""
        ends = self.ends
        ends.pop()
        del self.blob[ends[-1] :]

    def get(self, i: int) -> str | None:
        ends = self.ends
        start, end = ends[i], ends[i + 1]
        return self.blob[start:end].decode() if end > start else None

    def equals(self, i: int, data: bytes) -> bool:
        """Whether value i is the UTF-8 text `data` (no copy made)."""
        ends = self.ends
        start = ends[i]
        return ends[i + 1] - start == len(data) and self.blob.startswith(data, start)

    def __iter__(self) -> Iterator[str | None]:
        blob, ends = self.blob, self.ends
        for i in range(len(ends) - 1):
            start, end = ends[i], ends[i + 1]
            yield blob[start:end].decode() if end > start else None

    def nbytes(self) -> int:
        return len(self.blob) + self.ends.itemsize * len(self.ends)


class CodedColumn(Generic[V]):
    """Values as a code per row into `values` (each distinct value held once); code 0 is None."""

    __slots__ = ("_codes_of", "codes", "values")

    def __init__(self, typecode: str = "I") -> None:
        self.values: list[V | None] = [None]
        self.codes = array(typecode)
        self._codes_of: dict[V | None, int] | None = {None: 0}

    def __len__(self) -> int:
        return len(self.codes)

    def code(self, value: V | None) -> int:
        """The code of `value`, added to the distinct values if new (while building)."""
        codes_of = self._codes_of
        assert codes_of is not None, "the column is finished"
        found = codes_of.get(value)
        if found is None:
            found = codes_of[value] = len(self.values)
            self.values.append(value)
        return found

    def append(self, value: V | None) -> None:
        self.codes.append(self.code(value))

    def get(self, i: int) -> V | None:
        return self.values[self.codes[i]]

    def finish(self) -> None:
        """Building is over: drop the value -> code dict, and keep codes in two bytes when they fit."""
        self._codes_of = None
        if self.codes.typecode == "I" and len(self.values) <= 1 << 16:
            self.codes = array("H", self.codes)

    def nbytes(self) -> int:
        return self.codes.itemsize * len(self.codes)


class KeyIndex:
    """Key -> the row holding it, for keys kept in `keys` (a `TextColumn`, row = position in it).

    Linear probing over a power-of-two table of row numbers, at most half full."""

    __slots__ = ("_hashes", "keys", "mask", "slots")

    def __init__(self, keys: TextColumn, expected: int = 0) -> None:
        self.keys = keys
        size = slots_for(expected)
        self.slots = array("i", [EMPTY]) * size
        self.mask = size - 1
        self._hashes: array[int] | None = array("q")  # per row, while building (to grow the table)

    def __len__(self) -> int:
        return len(self.keys)

    def find(self, key: str) -> int:
        """The row of `key`, or -1."""
        slots, mask = self.slots, self.mask
        i = hash(key) & mask
        row = slots[i]
        if row < 0:
            return -1
        data = key.encode()
        size = len(data)
        keys = self.keys
        ends, blob = keys.ends, keys.blob
        while row >= 0:
            start = ends[row]
            if ends[row + 1] - start == size and blob.startswith(data, start):
                return row
            i = (i + 1) & mask
            row = slots[i]
        return -1

    def add(self, key: str) -> int:
        """Index the key just appended to `keys` (as its last row); if an earlier row holds the same
        key, that row is returned and nothing is indexed (the caller drops the new row), else -1."""
        hashes = self._hashes
        assert hashes is not None, "the index is finished"
        h = hash(key)
        slots, mask = self.slots, self.mask
        i = h & mask
        found = slots[i]
        while found >= 0:
            if hashes[found] == h and self.keys.equals(found, key.encode()):
                return found
            i = (i + 1) & mask
            found = slots[i]
        slots[i] = len(hashes)
        hashes.append(h)
        if 2 * len(hashes) > len(slots):
            self._grow()
        return -1

    def add_many(self, keys: list[str]) -> list[int]:
        """Append the keys not held yet to `keys` and index them; the row of each key (a key held by an
        earlier row, or earlier in `keys`, gets that row: a key is new iff its row is the number of
        keys held before it)."""
        hashes = self._hashes
        assert hashes is not None, "the index is finished"
        text = self.keys
        base = count = len(hashes)
        fresh: list[str] = []  # the new keys, rows base, base + 1, ...
        rows: list[int] = []
        slots, mask = self.slots, self.mask
        limit = len(slots) // 2  # at most half full
        add_hash, add_fresh, add_row = hashes.append, fresh.append, rows.append
        for key, h in zip(keys, map(hash, keys), strict=True):
            i = h & mask
            found = slots[i]
            while found >= 0:
                if hashes[found] == h and (
                    fresh[found - base] == key if found >= base else text.equals(found, key.encode())
                ):
                    break
                i = (i + 1) & mask
                found = slots[i]
            if found < 0:
                slots[i] = found = count
                count += 1
                add_hash(h)
                add_fresh(key)
                if count > limit:
                    self._grow()
                    slots, mask = self.slots, self.mask
                    limit = len(slots) // 2
            add_row(found)
        text.extend(fresh)
        return rows

    def _grow(self) -> None:
        hashes = self._hashes
        assert hashes is not None
        size = 2 * len(self.slots)
        slots = array("i", [EMPTY]) * size
        mask = size - 1
        for row, h in enumerate(hashes):
            i = h & mask
            while slots[i] >= 0:
                i = (i + 1) & mask
            slots[i] = row
        self.slots, self.mask = slots, mask

    def finish(self) -> None:
        self._hashes = None

    def nbytes(self) -> int:
        return self.slots.itemsize * len(self.slots)


class PairLists(Mapping[str, tuple[Any, ...]]):
    """Key -> its pairs of values, flat (a, b, a, b, ...) in the order added; the keys held in a
    `TextColumn` (`key_text`), each pair as two codes into `first` and `second` (lists of distinct values)."""

    __slots__ = ("_tail", "a", "b", "first", "head", "index", "key_text", "next", "second")

    def __init__(self, first: list[Any], second: list[Any], expected: int = 0) -> None:
        self.key_text = TextColumn()
        self.index = KeyIndex(self.key_text, expected)
        self.first, self.second = first, second
        self.head = array("i")  # per key: its first pair
        self._tail: array[int] | None = array("i")  # per key: its last pair, while building
        self.a = array("I")  # per pair: code of the first value, of the second, the key's next pair
        self.b = array("I")
        self.next = array("i")

    def add(self, key: str, a: int, b: int) -> None:
        key_text, tail = self.key_text, self._tail
        assert tail is not None, "finished"
        blob = key_text.blob
        blob += key.encode()
        key_text.ends.append(len(blob))
        found = self.index.add(key)
        pair = len(self.a)
        self.a.append(a)
        self.b.append(b)
        self.next.append(EMPTY)
        if found < 0:
            self.head.append(pair)
            tail.append(pair)
        else:
            key_text.pop()
            self.next[tail[found]] = pair
            tail[found] = pair

    def add_many(self, keys: list[str], a: list[int], b: list[int]) -> None:
        """`add` each key with its pair (a[i], b[i])."""
        tail = self._tail
        assert tail is not None, "finished"
        following, head = self.next, self.head
        pair = len(self.a)
        self.a.extend(a)
        self.b.extend(b)
        following.extend(repeat(EMPTY, len(keys)))
        known = len(head)
        for row in self.index.add_many(keys):
            if row == known:  # a new key
                known += 1
                head.append(pair)
                tail.append(pair)
            else:
                following[tail[row]] = pair
                tail[row] = pair
            pair += 1

    def finish(self) -> None:
        self.index.finish()
        self._tail = None

    def get(self, key: str, default: object = None) -> tuple[Any, ...] | None:  # type: ignore[override]
        index = self.index  # KeyIndex.find, inline (every event asks, most keys are absent)
        slots, mask = index.slots, index.mask
        i = hash(key) & mask
        row = slots[i]
        if row < 0:
            return default  # type: ignore[return-value]
        data = key.encode()
        size = len(data)
        ends, blob = self.key_text.ends, self.key_text.blob
        while True:
            start = ends[row]
            if ends[row + 1] - start == size and blob.startswith(data, start):
                break
            i = (i + 1) & mask
            row = slots[i]
            if row < 0:
                return default  # type: ignore[return-value]
        pair = self.head[row]
        a, b, following, first, second = self.a, self.b, self.next, self.first, self.second
        if following[pair] < 0:
            return (first[a[pair]], second[b[pair]])
        out: list[object] = []
        while pair >= 0:
            out.append(first[a[pair]])
            out.append(second[b[pair]])
            pair = following[pair]
        return tuple(out)

    def __getitem__(self, key: str) -> tuple[Any, ...]:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.index.find(key) >= 0

    def __iter__(self) -> Iterator[str]:
        return (key for key in self.key_text if key is not None)

    def __len__(self) -> int:
        return len(self.key_text)

    def nbytes(self) -> int:
        arrays = (self.head, self.a, self.b, self.next)
        return self.key_text.nbytes() + self.index.nbytes() + sum(x.itemsize * len(x) for x in arrays)


def _libc_trim() -> Callable[[], None]:
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return lambda: None
    trim.argtypes = [ctypes.c_size_t]

    def release() -> None:
        trim(0)

    return release


release_free_memory: Final = _libc_trim()
"""Hand the C heap's free pages back to the system (glibc `malloc_trim`; a no-op elsewhere): after a
load has freed its transient buffers, or a reload an export's old version, the process's resident
size shows what it holds rather than what it once held."""
