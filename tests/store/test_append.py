"""append_batch: a whole batch or nothing, numbered from max(position) + 1."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel

import store.tables  # noqa: F401  (registers the tables)
from app.caliper.reader import read_body
from store.append import append_batch
from store.db import Store
from tests.store.caliper import envelope, grade_batch, grade_event, person

TABLES = [
    SQLModel.metadata.tables[name]
    for name in ("events", "event_entities", "entity_descriptions", "rejected_items")
]


async def row_counts(store: Store) -> dict[str, int]:
    async with store.reader.connect() as connection:
        return {
            table.name: int(
                (await connection.execute(select(func.count()).select_from(table))).scalar() or 0
            )
            for table in TABLES
        }


async def test_a_batch_failing_after_the_events_insert_leaves_nothing(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two events, a rejected item and an entity description: something for every table.
    batch = read_body(envelope([grade_event("a", 1), grade_event("a", 2), 7, person("s-1")]))
    assert (len(batch.events), len(batch.rejected), len(batch.descriptions)) == (2, 1, 1)

    async def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the disk is gone")

    # Events and their index rows are inserted by now; the side items never are.
    monkeypatch.setattr("store.append._append_side_items", fail)
    with pytest.raises(RuntimeError, match="the disk is gone"):
        await append_batch(store, batch, source="test")
    assert await row_counts(store) == dict.fromkeys((t.name for t in TABLES), 0)

    monkeypatch.undo()
    result = await append_batch(store, batch, source="test")
    assert (result.first_position, result.last_position) == (1, 2)


async def test_positions_continue_from_the_last_one_and_replays_append_nothing(
    store: Store,
) -> None:
    first = await append_batch(store, grade_batch("a", 1, 3), source="test")
    replay = await append_batch(store, grade_batch("a", 1, 3), source="test")
    second = await append_batch(store, grade_batch("a", 3, 3), source="test")

    assert (first.first_position, first.last_position) == (1, 3)
    assert (replay.appended, replay.duplicates) == (0, 3)
    assert (second.appended, second.duplicates) == (2, 1)
    assert (second.first_position, second.last_position) == (4, 5)
