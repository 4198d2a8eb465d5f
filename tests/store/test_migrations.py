"""One migration history for both backends: an empty database is created at head on
first start, an older one is brought there by `coursegraph db upgrade` only."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection
from sqlmodel import SQLModel

from app import cli
from app.caliper.model import COURSE, GRADABLE_ITEM, PERSON, ReadEvent
from app.caliper.reader import read_body
from app.startup import check_schema_or_explain, upgrade
from app.verify import find_first_difference, stored_index_rows
from store import read
from store.append import append_batch, entity_index_rows
from store.db import Store, create_store
from store.schema import SchemaNotReady, head_revision, prepare_schema, upgrade_schema
from tests.store.caliper import COURSE as COURSE_IRI
from tests.store.caliper import SITE, envelope, grade_batch, grade_event, person
from tests.store.rows import readable_rows


async def test_an_empty_database_starts_at_head_without_a_step(database_url: str) -> None:
    assert await check_schema_or_explain(database_url) is None
    assert await revision_of(database_url) == head_revision()


async def test_the_migrations_build_what_tables_py_declares(store: Store) -> None:
    def differences(connection: Connection) -> list[Any]:
        return compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)

    async with store.reader.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_upgrade_indexes_a_log_stored_at_the_first_revision(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = grade_batch("old", 1, 6).events
    await create_at_first_revision(database_url, events)
    problem = await check_schema_or_explain(database_url)
    assert problem is not None and "`coursegraph db upgrade`" in problem and "0001" in problem

    monkeypatch.chdir(tmp_path)  # migrations ship inside the package: any cwd will do
    assert await upgrade(database_url) == ("0001", head_revision())

    assert await check_schema_or_explain(database_url) is None
    await assert_answers_like_the_writer_stored_it(database_url, events)


async def test_upgrade_from_0003_compacts_the_log_and_answers_the_same(
    database_url: str,
) -> None:
    # Revision 0003 as an old writer left it: text hashes and raw text, a text index.
    batch = read_body(envelope([*(grade_event("old", n) for n in range(1, 6)), 7, person("s-1")]))
    events = batch.events
    await create_at_first_revision(database_url, events)
    store = create_store(database_url)
    try:
        assert await upgrade_schema(store, "0003") == ("0001", "0003")
    finally:
        await store.close()
    side_rows = [
        (
            "entity_descriptions",
            {
                "content_hash": item.content_hash,
                "entity_id": item.entity_id,
                "entity_type": item.entity_type,
                "received_at": 1,
                "source": "old",
                "raw": item.raw_json.decode(),
            },
        )
        for item in batch.descriptions
    ] + [
        (
            "rejected_items",
            {
                "content_hash": item.content_hash,
                "received_at": 1,
                "reason": item.reason,
                "path": item.path,
                "raw": item.raw_json.decode(),
            },
        )
        for item in batch.rejected
    ]
    for name, row in side_rows:
        old = sa.table(name, *(sa.column(column) for column in row))
        await run_on(database_url, lambda c, old=old, row=row: c.execute(sa.insert(old), [row]))

    assert await upgrade(database_url) == ("0003", head_revision())

    store = create_store(database_url)
    try:
        assert await find_first_difference(store) is None
        stored = await read.page_events(
            store, read.EventQuery(), after_cursor_position=None, limit=100
        )
        assert [e.raw for e in stored] == [e.raw for e in events]
        assert [e.event_id for e in stored] == [e.event_id for e in events]
        assert [e.course_id for e in stored] == [COURSE_IRI] * len(events)
        summary = (await read.entity_summaries(store, COURSE, [COURSE_IRI]))[COURSE_IRI]
        assert summary.alt_key == "BIO-101" and summary.first_event_ms == events[0].event_time_ms
        rejected = await read.page_rejected(store, after_row=None, limit=10)
        assert [item.raw for item in rejected] == [item.raw for item in batch.rejected]
        async with store.reader.connect() as connection:
            descriptions = await readable_rows(
                connection, SQLModel.metadata.tables["entity_descriptions"]
            )
        assert [row["raw"].encode() for row in descriptions] == [
            item.raw_json for item in batch.descriptions
        ]
        # The log, the side tables and their row ids go on where the old writer stopped.
        more = read_body(envelope([grade_event("new", 1), 8]))
        result = await append_batch(store, more, source="test")
        assert (result.first_position, result.duplicates) == (len(events) + 1, 0)
        rejected = await read.page_rejected(store, after_row=None, limit=10)
        assert [item.row_id for item in rejected] == [1, 2]
        replay = await append_batch(store, read_body(envelope(events_raw(events))), source="t")
        assert (replay.appended, replay.duplicates) == (0, len(events))
        assert await find_first_difference(store) is None
    finally:
        await store.close()


def events_raw(events: list[ReadEvent]) -> list[Any]:
    return [event.raw for event in events]


async def test_a_failing_upgrade_changes_nothing(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await create_at_first_revision(database_url, grade_batch("old", 1, 3).events)

    def broken(*args: object) -> list[dict[str, Any]]:
        raise RuntimeError("indexing failed")

    # 0002 fills the index with the writer's entity_index_rows, after creating its table.
    monkeypatch.setattr("store.append.entity_index_rows", broken)
    with pytest.raises(RuntimeError, match="indexing failed"):
        await upgrade(database_url)

    assert await revision_of(database_url) == "0001"
    assert not await run_on(database_url, lambda c: sa.inspect(c).has_table("event_entities"))


async def test_a_database_from_before_migrations_is_upgraded(database_url: str) -> None:
    # What the first cut built: 0001's tables, no version table.
    events = grade_batch("old", 1, 3).events
    await create_at_first_revision(database_url, events)
    await run_on(database_url, lambda c: c.execute(sa.text("DROP TABLE alembic_version")))
    problem = await check_schema_or_explain(database_url)
    assert problem is not None and "before schema migrations" in problem

    assert await upgrade(database_url) == (None, head_revision())
    await assert_answers_like_the_writer_stored_it(database_url, events)


async def test_a_database_newer_than_this_code_is_refused(store: Store) -> None:
    async with store.writer.begin() as connection:
        await connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))

    problem = await check_schema_or_explain(store.url)
    assert problem is not None and "does not know" in problem
    with pytest.raises(SchemaNotReady, match="newer coursegraph"):
        await upgrade_schema(store)


def test_serve_refuses_an_out_of_date_database_and_names_the_command(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    asyncio.run(create_at_first_revision(database_url, []))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COURSEGRAPH_DATABASE_URL", database_url)
    monkeypatch.setattr("uvicorn.run", fail_if_served)

    assert cli.main(["serve"]) == 1
    assert "run `coursegraph db upgrade`" in capsys.readouterr().err.lower()


async def test_the_app_refuses_to_start_on_an_out_of_date_database(database_url: str) -> None:
    await create_at_first_revision(database_url, [])
    store = create_store(database_url)
    try:
        with pytest.raises(SchemaNotReady, match="coursegraph db upgrade"):
            await prepare_schema(store)
    finally:
        await store.close()
    assert await revision_of(database_url) == "0001"  # nothing migrated silently


# --- helpers -----------------------------------------------------------------------------


def fail_if_served(*args: object, **kwargs: object) -> None:
    raise AssertionError("serve started on an out-of-date schema")


async def run_on(url: str, work: Any) -> Any:
    store = create_store(url)
    try:
        async with store.writer.begin() as connection:
            return await connection.run_sync(work)
    finally:
        await store.close()


async def revision_of(url: str) -> str | None:
    return await run_on(url, lambda c: MigrationContext.configure(c).get_current_revision())


async def create_at_first_revision(url: str, events: list[ReadEvent]) -> None:
    store = create_store(url)
    try:
        await upgrade_schema(store, "0001")
    finally:
        await store.close()
    await insert_events(url, events)


async def insert_events(url: str, events: list[ReadEvent]) -> None:
    """Raw inserts with the columns of revision 0001, as an old writer stored them."""
    rows = [
        {
            "position": position,
            "event_id": event.event_id,
            "content_hash": event.content_hash,
            "type": event.type,
            "action": event.action,
            "event_time": event.event_time_ms,
            "received_at": 1_609_840_800_000,
            "sensor": None,
            "style": event.style,
            "actor_id": event.actor_id,
            "object_id": event.object_id,
            "course_id": event.course_id,
            "raw": event.raw_json.decode(),
        }
        for position, event in enumerate(events, start=1)
    ]
    if rows:
        events_at_0001 = sa.table("events", *(sa.column(name) for name in rows[0]))
        await run_on(url, lambda c: c.execute(sa.insert(events_at_0001), rows))


async def assert_answers_like_the_writer_stored_it(url: str, events: list[ReadEvent]) -> None:
    expected = [row for p, e in enumerate(events, start=1) for row in entity_index_rows(e, p)]
    store = create_store(url)
    try:
        async with store.reader.connect() as connection:
            by_position = await stored_index_rows(connection, 0, len(events))
        stored = [row for rows in by_position.values() for row in rows]
        assert sorted(stored, key=index_key) == sorted(expected, key=index_key)
        assert await find_first_difference(store) is None

        everything = list(range(1, len(events) + 1))
        assert await positions_of(store, COURSE, COURSE_IRI) == everything
        assert await positions_of(store, PERSON, f"{SITE}/users/student-1") == everything
        assert await positions_of(store, GRADABLE_ITEM, f"{SITE}/gradableItems/_2_1") == [2]

        # The log goes on where the old writer stopped.
        result = await append_batch(store, grade_batch("new", 1, 2), source="test")
        assert result.first_position == len(events) + 1
    finally:
        await store.close()


async def positions_of(store: Store, kind: str, key: str) -> list[int]:
    found = await read.events_of_entities(store, kind, [key])
    return sorted(event.position for event in found[key])


def index_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["kind"], row["entity_key"], row["position"])
