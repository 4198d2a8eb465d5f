"""The one cache of values computed from the log (folded course entities, course and
person states, course analytics), shared by every request of one app (app.state) and
bounded by an estimate of the bytes it holds, not by a count: a course's 10,000 folded
attempts weigh a thousand times a person's state.

Every key starts with the store's identity (store.identity: the database's URL and what
tells this database from one that replaced it), and every value carries a stamp (a log
position) that the caller reads from the store: a value is served only while both still
match, so appends by any process and a replaced database are never answered from here."""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

# A sequence or mapping longer than this is estimated from this many items, evenly
# spaced, scaled to its length: the states in one list have one shape.
SAMPLED_ITEMS = 8
# Deeper than this a value is counted by its own size only (states nest 3 levels).
MAX_DEPTH = 6
_ATOMS = (str, bytes, int, float, bool, type(None))


def estimate_bytes(value: Any, depth: int = 0) -> int:
    """A cheap estimate of the memory `value` holds: sys.getsizeof of it and of what it
    contains, through lists, tuples, sets, dicts and dataclasses, with long containers
    measured on a sample of their items. Objects shared between values are counted in
    each (an overestimate, which errs on the safe side of the bound: for a course's
    10,000 folded attempts it says 20 MB where tracemalloc counts 4.2 MB)."""
    size = sys.getsizeof(value)
    if isinstance(value, _ATOMS) or depth >= MAX_DEPTH:
        return size
    if isinstance(value, dict):
        items: list[Any] = list(value.items())
        return size + _sampled(items, depth)
    if isinstance(value, list | tuple | set | frozenset):
        return size + _sampled(value if isinstance(value, list | tuple) else list(value), depth)
    if is_dataclass(value):
        return size + sum(
            estimate_bytes(getattr(value, field.name, None), depth + 1) for field in fields(value)
        )
    return size


def _sampled(items: list[Any] | tuple[Any, ...], depth: int) -> int:
    count = len(items)
    if count == 0:
        return 0
    if count <= SAMPLED_ITEMS:
        return sum(estimate_bytes(item, depth + 1) for item in items)
    step = count / SAMPLED_ITEMS
    sample = sum(estimate_bytes(items[int(i * step)], depth + 1) for i in range(SAMPLED_ITEMS))
    return sample * count // SAMPLED_ITEMS


@dataclass(slots=True)
class _Entry:
    stamp: int
    value: Any
    size: int


class ByteLRU:
    """An LRU of (key → stamp, value) whose values' estimated sizes (estimate_bytes) sum
    to at most `max_bytes`. A value larger than the whole bound is not kept (it is
    recomputed on each ask); a large one may evict everything else: a course with
    10,000 attempts read in pages of 1,000 must fold them once, not once a page."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        # Per namespace (a key prefix): the log position through which every value under
        # it was checked against the entities new rows touched (see `catch_up`).
        self._checked: dict[tuple[Hashable, ...], int] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable, stamp: int) -> Any | None:
        """The value put under `key` with this same stamp, or None."""
        found = self._entries.get(key)
        if found is None or found.stamp != stamp:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return found.value

    def latest(self, key: Hashable) -> tuple[int, Any] | None:
        """(stamp, value) as last put, however stale: what an incremental update starts
        from (the key's store identity keeps it to the same database)."""
        found = self._entries.get(key)
        return None if found is None else (found.stamp, found.value)

    def put(self, key: Hashable, stamp: int, value: Any) -> None:
        size = estimate_bytes(key) + estimate_bytes(value)
        self._drop(key)
        if size > self.max_bytes:
            return
        self._entries[key] = _Entry(stamp, value, size)
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self.bytes -= dropped.size
            self.evictions += 1

    def clear(self) -> None:
        self._entries.clear()
        self._checked.clear()
        self.bytes = 0

    # --- values of the present, kept until a new row touches their entity ----------------

    def checked_through(self, namespace: tuple[Hashable, ...]) -> int | None:
        return self._checked.get(namespace)

    def catch_up(
        self, namespace: tuple[Hashable, ...], through: int, touched: list[Hashable] | None
    ) -> None:
        """Drop the values of `touched` keys (None: every value under the namespace) and
        note that the namespace is checked through position `through`. No await between
        the caller's read of what was touched and this: it happens at once."""
        if touched is None:
            for key in [k for k in self._entries if k[: len(namespace)] == namespace]:  # type: ignore[index]
                self._drop(key)
        else:
            for key in touched:
                self._drop((*namespace, key))
        self._checked[namespace] = max(self._checked.get(namespace, through), through)

    def get_current(self, namespace: tuple[Hashable, ...], key: Hashable) -> Any | None:
        """A value of the present: any kept under the namespace is current through its
        checked position (a touched one was dropped)."""
        full = (*namespace, key)
        found = self._entries.get(full)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(full)
        return found.value

    def put_current(
        self, namespace: tuple[Hashable, ...], key: Hashable, stamp: int, value: Any
    ) -> None:
        """Keep a value of the present computed from the log at position `stamp` or later;
        refused when the namespace was checked past `stamp` meanwhile (the value may miss
        a change that check dropped)."""
        checked = self._checked.get(namespace)
        if checked is None or stamp < checked:
            return
        self.put((*namespace, key), stamp, value)

    def _drop(self, key: Hashable) -> None:
        previous = self._entries.pop(key, None)
        if previous is not None:
            self.bytes -= previous.size


class StateCache:
    """The app's cache, in two parts of half the bytes each, so that neither kind evicts
    the other: single entities' states (`entities`: a course or person is small, shared
    by many courses' answers, and costly to read) and whole courses' folded lists and
    analytics (`courses`: large, one course each)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.entities = ByteLRU(max_bytes // 2)
        self.courses = ByteLRU(max_bytes - max_bytes // 2)

    @property
    def parts(self) -> tuple[ByteLRU, ByteLRU]:
        return (self.entities, self.courses)

    @property
    def bytes(self) -> int:
        return sum(part.bytes for part in self.parts)

    @property
    def hits(self) -> int:
        return sum(part.hits for part in self.parts)

    @property
    def misses(self) -> int:
        return sum(part.misses for part in self.parts)

    @property
    def evictions(self) -> int:
        return sum(part.evictions for part in self.parts)

    def __len__(self) -> int:
        return sum(len(part) for part in self.parts)

    def clear(self) -> None:
        for part in self.parts:
            part.clear()
