"""The parse and validation cache is bounded by bytes; totalCount costs a count only when
asked for; the store names why it cannot answer without driver text."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
import sqlalchemy.exc
from sqlalchemy import event

from app.api.context import Context
from app.api.query_cache import QueryCache
from app.api.schema import SCHEMA
from app.caliper.reader import read_body
from graphql import parse
from store.append import append_batch
from store.db import Store, unavailable_reason
from tests.api.factories import envelope, grade_event
from tests.conftest import LiveServer, make_settings


def test_query_cache_is_bounded_by_bytes() -> None:
    cache = QueryCache(max_bytes=10_000)
    for index in range(100):
        text = f"{{ a{index}: __typename }}" + " " * 1_000
        cache.put(text, parse(text))
        assert cache.bytes <= 10_000
    assert 5 <= len(cache) <= 10
    newest = "{ a99: __typename }" + " " * 1_000
    assert cache.get(newest) is not None
    huge = "{ __typename }" + " " * 5_000
    cache.put(huge, parse(huge))
    assert cache.get(huge) is None  # larger than a quarter of the cache: never kept


def test_the_servers_cache_stays_within_its_bytes(sqlite_url: str) -> None:
    with LiveServer(make_settings(sqlite_url, query_cache_bytes=100_000)) as server:
        view = next(
            route.endpoint
            for route in server.server.config.app.routes
            if getattr(route, "path", "") == "/graphql" and hasattr(route.endpoint, "query_cache")
        )
        with httpx.Client(base_url=server.url) as http:
            for index in range(60):
                query = f"{{ a{index}: __typename }}" + " " * 20_000
                answer = http.post("/graphql", json={"query": query})
                assert answer.json() == {"data": {f"a{index}": "Query"}}
        assert 0 < view.query_cache.bytes <= 100_000


async def _statements(store: Store, query: str) -> list[str]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(store.reader.sync_engine, "before_cursor_execute", count)
    try:
        context = Context(store=store, settings=make_settings(store.url))
        result = await SCHEMA.execute(query, context_value=context)
    finally:
        event.remove(store.reader.sync_engine, "before_cursor_execute", count)
    assert result.errors is None, result.errors
    return statements


async def test_total_count_only_when_asked(store: Store) -> None:
    events = [
        grade_event("t", "T-1", "_i_1", f"_a{i}_1", "s", 1.0, "2026-04-01T10:00:00Z")
        for i in range(3)
    ]
    await append_batch(store, read_body(envelope(events)), source="test")
    for connection, type_name in [
        ('events(filter: {type: "GradeEvent"})', "EventConnection"),
        ("rejectedItems", "RejectedItemConnection"),
    ]:
        without = await _statements(store, f"{{ {connection} {{ nodes {{ __typename }} }} }}")
        assert not [s for s in without if "count(" in s.lower()], without
        for asking in (
            f"{{ {connection} {{ totalCount nodes {{ __typename }} }} }}",
            f"{{ {connection} {{ ...Counted }} }} fragment Counted on {type_name} {{ totalCount }}",
            f"{{ {connection} {{ ... on {type_name} {{ totalCount }} }} }}",
        ):
            counted = await _statements(store, asking)
            assert len([s for s in counted if "count(" in s.lower()]) == 1, asking


def test_store_names_why_it_cannot_answer() -> None:
    def wrapped(message: str) -> sqlalchemy.exc.OperationalError:
        return sqlalchemy.exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError(message))

    assert unavailable_reason(wrapped("database is locked")) == "SQLite: database is locked"
    assert unavailable_reason(wrapped("database or disk is full")) == (
        "SQLite: database or disk is full"
    )
    assert unavailable_reason(wrapped("unable to open database file")) == (
        "SQLite: unable to open database"
    )
    assert unavailable_reason(wrapped('near "SELEC": syntax error')) is None
    assert unavailable_reason(ConnectionRefusedError(111, "refused")) == (
        "the database server cannot be reached"
    )
