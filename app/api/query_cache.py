"""Parsed and validated query texts shared across requests, bounded by the bytes of the
texts it holds (not by a count: 1,024 texts of 16 MB each would be 16 GB)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from graphql import DocumentNode, GraphQLError


@dataclass
class CachedQuery:
    document: DocumentNode
    # Validation errors per set of validation rules (extensions may add rules).
    validation: dict[tuple[Any, ...], list[GraphQLError]] = field(default_factory=dict)


class QueryCache:
    """An LRU of query text → parsed document and validation results. The texts' sizes
    (UTF-8 bytes) sum to at most `max_bytes`; a text larger than a quarter of it is not
    kept at all."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[str, tuple[int, CachedQuery]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, query: str) -> CachedQuery | None:
        found = self._entries.get(query)
        if found is None:
            return None
        self._entries.move_to_end(query)
        return found[1]

    def put(self, query: str, document: DocumentNode) -> CachedQuery:
        entry = CachedQuery(document)
        size = len(query.encode("utf-8", "surrogatepass"))
        if size > self.max_bytes // 4:
            return entry
        previous = self._entries.pop(query, None)
        if previous is not None:
            self.bytes -= previous[0]
        self._entries[query] = (size, entry)
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, (dropped, _) = self._entries.popitem(last=False)
            self.bytes -= dropped
        return entry
