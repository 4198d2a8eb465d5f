"""The engines' compiled-statement cache stays bounded by SQL length however many
differently shaped statements the store compiles (a UNION ALL per key count)."""

from __future__ import annotations

from sqlalchemy import literal, select, union_all

from store.db import Store
from store.statement_cache import CompiledStatementCache


def test_cache_is_bounded_by_sql_length_and_refuses_a_statement_over_it() -> None:
    class Compiled:
        def __init__(self, length: int) -> None:
            self.string = "x" * length

    cache = CompiledStatementCache(max_sql_chars=1_000)
    for key in range(50):
        cache[key] = Compiled(300)
    assert cache.sql_chars == 900
    assert len(cache) == 3
    assert cache.get(49).string == "x" * 300
    assert cache.get(0) is None
    cache["huge"] = Compiled(1_001)
    assert cache.get("huge") is None
    assert cache.sql_chars == 900


async def test_reader_cache_stays_bounded_after_many_union_shapes(store: Store) -> None:
    cache = store.reader.sync_engine.get_execution_options()["compiled_cache"]
    assert isinstance(cache, CompiledStatementCache)
    cache.max_sql_chars = 20_000
    async with store.reading() as connection:
        for branches in range(1, 120):
            statement = union_all(*(select(literal(n)) for n in range(branches)))
            rows = (await connection.execute(statement)).all()
            assert len(rows) == branches
    assert 0 < cache.sql_chars <= 20_000
    assert len(cache) < 119
