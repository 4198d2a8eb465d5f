"""The engines' cache of compiled SQL statements, bounded by the length of their SQL.

SQLAlchemy's own cache is bounded by a count (500 statements), but statements differ
enormously in weight: a UNION ALL with one branch per key (store.read.entity_summaries)
compiles differently for each key count, and one of those holds ~2 MB of expression and
compiled objects. Measured: 73 such entries held 1.1 million live objects and ~150 MB
after the overviews of 300 courses. Bounding by SQL length (the weight scales with it)
keeps the many short statements and the recurring long ones, and evicts the rest."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

# ~30 bytes held a character of SQL (measured on the UNION ALL statements): ~30 MB.
DEFAULT_MAX_SQL_CHARS = 100_000


class CompiledStatementCache:
    """An LRU of compiled statements whose SQL lengths sum to at most `max_sql_chars`;
    a statement longer than that is compiled on each use, not kept. Implements what
    SQLAlchemy asks of a `compiled_cache` execution option: get and item assignment."""

    def __init__(self, max_sql_chars: int = DEFAULT_MAX_SQL_CHARS) -> None:
        self.max_sql_chars = max_sql_chars
        self.sql_chars = 0
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable, default: Any = None) -> Any:
        found = self._entries.get(key)
        if found is None:
            return default
        self._entries.move_to_end(key)
        return found[0]

    def __setitem__(self, key: Hashable, compiled: Any) -> None:
        size = len(getattr(compiled, "string", "") or "")
        self._drop(key)
        if size > self.max_sql_chars:
            return
        self._entries[key] = (compiled, size)
        self.sql_chars += size
        while self.sql_chars > self.max_sql_chars:
            _, (_, dropped) = self._entries.popitem(last=False)
            self.sql_chars -= dropped

    def _drop(self, key: Hashable) -> None:
        held = self._entries.pop(key, None)
        if held is not None:
            self.sql_chars -= held[1]

    def clear(self) -> None:
        self._entries.clear()
        self.sql_chars = 0
