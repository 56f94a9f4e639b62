"""`HashGroups`: open addressing from a computed key (never stored) to the rows that have it, verified
against a row on lookup by the caller's `key_of` (passed to each call, not kept: a table holding its
groups and a `key_of` reading the table would be a reference cycle, freed only by the cyclic GC and
never once the daemon has `gc.freeze()`d it). Used for the person table's identity keys (tables.py);
the other columnar structures are in compact.py."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable

from auditwatch.reference.compact import EMPTY, slots_for

KeysOf = Callable[[int], "tuple[str, ...] | list[str]"]  # every key of one row


class HashGroups:
    """Computed key -> the rows that have it (in the order added), keys not stored: a group is found by
    its key's hash and confirmed with `key_of(row)` (all the keys of one row) on the group's first row.

    Per group: the low 32 bits of the key's hash and either its one row (>= 0) or ~chain (several rows)."""

    __slots__ = ("count", "g_hash", "g_row", "m_next", "m_row", "mask", "slots")

    def __init__(self, expected: int = 0) -> None:
        size = slots_for(expected)
        self.slots = array("i", [EMPTY]) * size
        self.mask = size - 1
        self.g_hash = array("I")
        self.g_row = array("i")
        self.m_row = array("i")  # chains of groups with several rows: row, next (-1 ends)
        self.m_next = array("i")
        self.count = 0  # (key, row) pairs added

    def _group(self, key: str, h: int, key_of: KeysOf) -> tuple[int, int]:
        """(group of `key` (`h`: its hash's low 32 bits) or -1, the empty slot where it would go)."""
        slots, mask, g_hash = self.slots, self.mask, self.g_hash
        i = h & mask
        group = slots[i]
        while group >= 0:
            if g_hash[group] == h and key in key_of(self.first(group)):
                return group, i
            i = (i + 1) & mask
            group = slots[i]
        return -1, i

    def first(self, group: int) -> int:
        row = self.g_row[group]
        return row if row >= 0 else self.m_row[~row]

    def add(self, key: str, row: int, key_of: KeysOf) -> None:
        """Add `row` under `key` (`key_of(row)` must already give it); a row is listed once per key."""
        self.add_many(((key, row),), key_of)

    def add_many(self, pairs: Iterable[tuple[str, int]], key_of: KeysOf) -> None:
        """`add` each (key, row) of `pairs`."""
        slots, mask, g_hash, g_row = self.slots, self.mask, self.g_hash, self.g_row
        start = count = len(g_hash)  # groups
        limit = len(slots) // 2  # at most half full
        add_hash, add_row = g_hash.append, g_row.append
        for key, row in pairs:
            h = hash(key) & 0xFFFFFFFF
            i = h & mask
            group = slots[i]
            while group >= 0:
                if g_hash[group] == h and key in key_of(self.first(group)):
                    break
                i = (i + 1) & mask
                group = slots[i]
            if group >= 0:
                self.count += 1  # taken back by _join if the group has the row
                self._join(group, row)
                continue
            slots[i] = count
            count += 1
            add_hash(h)
            add_row(row)
            if count > limit:
                self._grow()
                slots, mask = self.slots, self.mask
                limit = len(slots) // 2
        self.count += count - start  # the pairs that made a group (_join counts the others)

    def _join(self, group: int, row: int) -> None:
        """Add `row` to the rows of `group` (counted already: uncounted if the group has it)."""
        m_row, m_next = self.m_row, self.m_next
        head = self.g_row[group]
        if head >= 0:  # one row so far: start its chain
            if head == row:
                self.count -= 1
                return
            self.g_row[group] = ~len(m_row)
            m_row.append(head)
            m_next.append(len(m_row))
            m_row.append(row)
            m_next.append(EMPTY)
            return
        link = ~head
        while True:
            if m_row[link] == row:
                self.count -= 1
                return
            following = m_next[link]
            if following < 0:
                break
            link = following
        m_next[link] = len(m_row)
        m_row.append(row)
        m_next.append(EMPTY)

    def _grow(self) -> None:
        size = 2 * len(self.slots)
        slots = array("i", [EMPTY]) * size
        mask = size - 1
        for group, h in enumerate(self.g_hash):
            i = h & mask
            while slots[i] >= 0:
                i = (i + 1) & mask
            slots[i] = group
        self.slots, self.mask = slots, mask

    def rows(self, key: str, key_of: KeysOf) -> list[int]:
        """The rows added under `key`, in the order added."""
        group = self._group(key, hash(key) & 0xFFFFFFFF, key_of)[0]
        if group < 0:
            return []
        row = self.g_row[group]
        if row >= 0:
            return [row]
        m_row, m_next = self.m_row, self.m_next
        link, out = ~row, []
        while link >= 0:
            out.append(m_row[link])
            link = m_next[link]
        return out

    def nbytes(self) -> int:
        arrays = (self.slots, self.g_hash, self.g_row, self.m_row, self.m_next)
        return sum(a.itemsize * len(a) for a in arrays)
