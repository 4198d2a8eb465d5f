"""Group commit (store.append.GroupAppender): batches that wait while an append commits
go in together in one transaction, each answered as a sequential append would answer
it; the group's bound; a failed group on each backend."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy.exc
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url

from app.caliper.model import ReadBatch
from app.caliper.reader import read_body
from app.startup import open_ready_store
from store.append import AppendResult, GroupAppender, append_batch, event_key
from store.db import Store, sqlite_path
from store.errors import StoreUnavailable
from store.tables import EntityDescriptionRow, EventRow, RejectedItemRow
from tests.conftest import (
    _admin_execute,
    _create_postgres_database,
    _drop_postgres_database,
    postgres_base_url,
)
from tests.store.caliper import envelope, grade_batch, grade_event, person
from tests.store.rows import readable_rows

EVENTS = EventRow.__table__
DESCRIPTIONS = EntityDescriptionRow.__table__
REJECTED = RejectedItemRow.__table__


def overlapping_batches() -> list[ReadBatch]:
    """Five requests whose contents overlap: a replayed event, an event twice in one
    request, an id replayed with other content, descriptions and rejected items, and a
    whole request replayed."""
    second = envelope(
        [
            grade_event("a", 3),  # stored by the first request
            grade_event("b", 1),
            grade_event("b", 1),  # twice in this request
            grade_event("b", 2),
        ]
    )
    return [
        grade_batch("a", 1, 5),
        read_body(second),
        read_body(
            envelope(
                [
                    grade_event("a", 1, user="student-2"),  # the first one's id, new content
                    grade_event("c", 1),
                    person("u9"),
                    42,
                ]
            )
        ),
        read_body(second),  # replayed whole
        read_body(envelope([person("u9"), {"type": "NavigationEvent"}])),
    ]


class Commits:
    """Counts the writer's commits (real ones, seen by SQLAlchemy's engine events)."""

    def __init__(self, store: Store) -> None:
        self.count = 0
        event.listen(store.writer.sync_engine, "commit", self._committed)

    def _committed(self, _connection: Any) -> None:
        self.count += 1


async def _stored(store: Store, table: Any) -> list[dict[str, Any]]:
    async with store.reader.connect() as connection:
        found = await readable_rows(connection, table)
    for row in found:
        row.pop("received_at", None)
        row.pop("row_id", None)
    return found


async def _count(store: Store) -> int:
    async with store.reader.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(EVENTS))).scalar())


@pytest.fixture
async def reference_store(database_url: str, tmp_path: Path) -> AsyncIterator[Store]:
    """A second empty database on the same backend, for sequential appends."""
    if make_url(database_url).get_backend_name() == "sqlite":
        opened = await open_ready_store(f"sqlite+aiosqlite:///{tmp_path / 'reference.db'}")
        try:
            yield opened
        finally:
            await opened.close()
        return
    base = postgres_base_url()
    url = await _create_postgres_database(base)
    opened = await open_ready_store(url)
    try:
        yield opened
    finally:
        await opened.close()
        await _drop_postgres_database(base, url)


def _answers(results: list[Any]) -> list[Any]:
    return [r.answer() if isinstance(r, AppendResult) else type(r) for r in results]


async def test_a_group_is_one_transaction_answered_as_sequential_appends(
    store: Store, reference_store: Store
) -> None:
    batches = overlapping_batches()
    commits = Commits(store)
    appender = GroupAppender(store, max_items=2_000)
    # gather starts every append before the first commit runs: one group, in this order.
    grouped = await asyncio.gather(*(appender.append(b, source="test") for b in batches))
    assert commits.count == 1
    sequential = [await append_batch(reference_store, b, source="test") for b in batches]

    rejected_c = [{"path": "$.data[3]", "reason": "expected an event object, found a number"}]
    assert _answers(grouped) == [
        {"appended": 5, "duplicates": 0, "conflicts": 0, "rejected": [], "entities": 0},
        {"appended": 2, "duplicates": 2, "conflicts": 0, "rejected": [], "entities": 0},
        {"appended": 2, "duplicates": 0, "conflicts": 1, "rejected": rejected_c, "entities": 1},
        {"appended": 0, "duplicates": 4, "conflicts": 0, "rejected": [], "entities": 0},
        {
            "appended": 0,
            "duplicates": 0,
            "conflicts": 0,
            "rejected": [{"path": "$.data[1]", "reason": "event has no `action`"}],
            "entities": 1,
        },
    ]
    assert _answers(grouped) == _answers(sequential)
    positions = [(r.first_position, r.last_position) for r in grouped]
    assert positions == [(1, 5), (6, 7), (8, 9), (None, None), (None, None)]
    assert positions == [(r.first_position, r.last_position) for r in sequential]
    for table in (EVENTS, DESCRIPTIONS, REJECTED):
        assert await _stored(store, table) == await _stored(reference_store, table)
    stored_ids = [row["event_id"] for row in await _stored(store, EVENTS)]
    assert stored_ids == [f"urn:uuid:grade-a-{n}" for n in range(1, 6)] + [
        "urn:uuid:grade-b-1",
        "urn:uuid:grade-b-2",
        "urn:uuid:grade-a-1",
        "urn:uuid:grade-c-1",
    ]


async def test_a_group_holds_at_most_max_items(store: Store) -> None:
    commits = Commits(store)
    appender = GroupAppender(store, max_items=10)
    batches = [grade_batch(f"w{n}", 1, 5) for n in range(6)] + [grade_batch("big", 1, 12)]
    results = await asyncio.gather(*(appender.append(b, source="test") for b in batches))
    # 5 + 5 events a group, then the 12-event batch alone: more than the bound, never split.
    assert commits.count == 4
    assert [(r.first_position, r.last_position) for r in results] == [
        (1, 5),
        (6, 10),
        (11, 15),
        (16, 20),
        (21, 25),
        (26, 30),
        (31, 42),
    ]
    with pytest.raises(ValueError, match="max_items"):
        GroupAppender(store, max_items=0)


async def _make_unavailable(store: Store, database_url: str) -> None:
    """SQLite: the events table renamed away ("no such table"); PostgreSQL: the database
    read-only for new sessions, and the pool's sessions ended."""
    path = sqlite_path(database_url)
    if path is not None:
        with sqlite3.connect(path) as connection:
            connection.execute("ALTER TABLE events RENAME TO events_away")
        return
    base, name = postgres_base_url(), make_url(database_url).database
    await _admin_execute(base, f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    await store.writer.dispose()


async def _make_available(store: Store, database_url: str) -> None:
    path = sqlite_path(database_url)
    if path is not None:
        with sqlite3.connect(path) as connection:
            connection.execute("ALTER TABLE events_away RENAME TO events")
        return
    base, name = postgres_base_url(), make_url(database_url).database
    await _admin_execute(base, f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')
    await store.writer.dispose()


async def test_an_unavailable_store_fails_the_whole_group_and_stores_none(
    store: Store, database_url: str
) -> None:
    await _make_unavailable(store, database_url)
    appender = GroupAppender(store, max_items=2_000)
    batches = [grade_batch(f"w{n}", 1, 3) for n in range(4)]
    results = await asyncio.gather(
        *(appender.append(b, source="test") for b in batches), return_exceptions=True
    )
    assert all(isinstance(result, StoreUnavailable) for result in results)
    assert len({id(result) for result in results}) == 1  # one failure, answered to each
    await _make_available(store, database_url)
    assert await _count(store) == 0
    again = await asyncio.gather(*(appender.append(b, source="test") for b in batches))
    assert [r.appended for r in again] == [3, 3, 3, 3]


async def _refuse_event(store: Store, event_id: str) -> None:
    """A trigger that fails the insert of one event: an error that is not the store being
    unavailable, as a bug or a constraint would raise."""
    key = event_key(event_id)
    async with store.writer.begin() as connection:
        if store.is_sqlite:
            await connection.execute(
                text(
                    f"CREATE TRIGGER refuse_one BEFORE INSERT ON events WHEN NEW.event_key = "
                    f"{key} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
                )
            )
            return
        await connection.execute(
            text(
                "CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF NEW.event_key = {key} THEN RAISE EXCEPTION 'refused by the test'; "
                "END IF; RETURN NEW; END $$"
            )
        )
        await connection.execute(
            text(
                "CREATE TRIGGER refuse_one BEFORE INSERT ON events "
                "FOR EACH ROW EXECUTE FUNCTION refuse_one()"
            )
        )


async def test_another_failure_is_retried_one_batch_at_a_time(store: Store) -> None:
    await _refuse_event(store, "urn:uuid:grade-bad-2")
    commits = Commits(store)
    appender = GroupAppender(store, max_items=2_000)
    batches = [grade_batch("a", 1, 3), grade_batch("bad", 1, 3), grade_batch("c", 1, 3)]
    results = await asyncio.gather(
        *(appender.append(b, source="test") for b in batches), return_exceptions=True
    )
    assert isinstance(results[1], sqlalchemy.exc.DBAPIError)
    assert "refused by the test" in str(results[1])
    assert [(r.first_position, r.last_position) for r in (results[0], results[2])] == [
        (1, 3),
        (4, 6),
    ]
    assert commits.count == 2  # the group rolled back; then each alone, the bad one rolled back
    stored_ids = [row["event_id"] for row in await _stored(store, EVENTS)]
    assert stored_ids == [f"urn:uuid:grade-{tag}-{n}" for tag in "ac" for n in (1, 2, 3)]


async def test_a_stopped_worker_cancels_its_group_and_the_next_append_drains_the_rest(
    store: Store,
) -> None:
    appender = GroupAppender(store, max_items=3)
    async with store.write_lock:  # the worker's first group waits for it, in its commit
        first = asyncio.ensure_future(appender.append(grade_batch("a", 1, 3), source="test"))
        second = asyncio.ensure_future(appender.append(grade_batch("b", 1, 3), source="test"))
        for _ in range(5):
            await asyncio.sleep(0)
        worker = appender._worker
        assert worker is not None and not worker.done()
        worker.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert not second.done()
    third = await appender.append(grade_batch("c", 1, 3), source="test")
    assert (await second).appended == 3
    assert (third.first_position, third.last_position) == (4, 6)
    assert [row["event_id"] for row in await _stored(store, EVENTS)] == [
        f"urn:uuid:grade-{tag}-{n}" for tag in "bc" for n in (1, 2, 3)
    ]
