"""The query plan of every statement the store's read functions send, on a built store.

    python bench/plans.py sqlite+aiosqlite:///bench/out/…db  [course IRI]

Each read function the API uses is called once with a course, person, action and type
found in the store; every statement it sends is printed with EXPLAIN QUERY PLAN (SQLite)
or EXPLAIN (PostgreSQL), and the time the call took. A SCAN of events or event_entities
(SQLite) or a Seq Scan (PostgreSQL) is marked: no API query should need one."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import event, text

from store import read
from store.db import Store, create_store

SCANS = ("SCAN events", "SCAN event_entities", "Seq Scan on events", "Seq Scan on event_entities")


async def sample(store: Store) -> dict[str, str]:
    """A busy course, one of its people, an object, an action and a type."""
    async with store.reader.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT (SELECT text FROM terms WHERE id = course_id), "
                    "(SELECT text FROM terms WHERE id = actor_id), "
                    "(SELECT text FROM terms WHERE id = object_id), "
                    "(SELECT text FROM terms WHERE id = action), "
                    "(SELECT text FROM terms WHERE id = type), event_time "
                    "FROM events WHERE course_id IS NOT NULL ORDER BY position DESC LIMIT 1"
                )
            )
        ).one()
    keys = ("course", "actor", "object", "action", "type", "time")
    return dict(zip(keys, row, strict=True))


def calls(found: dict[str, Any]) -> list[tuple[str, Callable[[Store], Awaitable[Any]]]]:
    course, actor, since = found["course"], found["actor"], found["time"] - 86_400_000
    q = read.EventQuery

    def page(query: read.EventQuery) -> Callable[[Store], Awaitable[Any]]:
        return lambda s: read.page_events(s, query, after_cursor_position=None, limit=10)

    return [
        ("events(course)", page(q(course_ids=(course,)))),
        ("events(course, type)", page(q(course_ids=(course,), type=found["type"]))),
        ("events(course, since)", page(q(course_ids=(course,), since_ms=since))),
        ("events(actor)", page(q(actor_id=actor))),
        ("events(actor, since)", page(q(actor_id=actor, since_ms=since))),
        ("events(action)", page(q(action=found["action"]))),
        ("events(action, since)", page(q(action="Graded", since_ms=since))),
        ("events(type)", page(q(type=found["type"]))),
        ("events(object)", page(q(object_id=found["object"]))),
        ("events(since)", page(q(since_ms=since))),
        ("course_page", lambda s: read.course_page(s, after=None, limit=11)),
        ("entity_summaries(course)", lambda s: read.entity_summaries(s, "course", [course])),
        (
            "entity_summaries(person)",
            lambda s: read.entity_summaries(s, "person", [actor], None, 5),
        ),
        ("events_of_course_entities", lambda s: read.events_of_course_entities(s, course, "group")),
        ("course_entities_stamp", lambda s: read.course_entities_stamp(s, course, "attempt")),
        ("entity_stamps", lambda s: read.entity_stamps(s, "person", [actor])),
        ("course_stamp", lambda s: read.course_stamp(s, course)),
        ("course_time_span", lambda s: read.course_time_span(s, course)),
        (
            "course_activity",
            lambda s: read.course_activity(
                s, course, origin_ms=0, width_ms=86_400_000, since_ms=0, until_ms=2**53
            ),
        ),
        ("course_actor_counts", lambda s: read.course_actor_counts(s, course, day_origin_ms=0)),
        ("view_counts", lambda s: read.view_counts(s, [found["object"]])),
        ("keys_with_alt_key", lambda s: read.keys_with_alt_key(s, "course", "x")),
        ("people_among", lambda s: read.people_among(s, [actor])),
    ]


async def main(url: str) -> None:
    store = create_store(url)
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if not statement.startswith("EXPLAIN"):
            sent.append((statement, parameters))

    event.listen(store.reader.sync_engine, "before_cursor_execute", record)
    try:
        found = await sample(store)
        for name, call in calls(found):
            sent.clear()
            started = time.perf_counter()
            await call(store)
            took = (time.perf_counter() - started) * 1000
            statements = list(sent)
            print(f"== {name}: {took:.1f} ms")
            for statement, parameters in statements:
                explain = "EXPLAIN QUERY PLAN " if store.is_sqlite else "EXPLAIN "
                async with store.reader.connect() as connection:
                    raw = await connection.get_raw_connection()
                    cursor = raw.driver_connection
                    if store.is_sqlite:
                        rows = await (
                            await cursor.execute(explain + statement, parameters)
                        ).fetchall()
                        lines = [row[-1] for row in rows]
                    else:
                        rows = await cursor.fetch(explain + statement, *(parameters or ()))
                        lines = [row[0] for row in rows]
                for line in lines:
                    mark = "  <-- scan" if any(scan in line for scan in SCANS) else ""
                    print(f"    {line}{mark}")
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
