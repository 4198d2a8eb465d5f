"""The database itself refuses to change the log, whoever asks."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from store.append import append_batch
from store.db import Store
from tests.store.caliper import grade_batch

STATEMENTS = [
    "UPDATE events SET action = action + 1 WHERE position = 1",
    "DELETE FROM events WHERE position = 1",
    "DELETE FROM events",
]


@pytest.mark.parametrize("statement", STATEMENTS)
async def test_the_log_refuses_update_and_delete(store: Store, statement: str) -> None:
    await append_batch(store, grade_batch("a", 1, 2), source="test")

    with pytest.raises(DBAPIError, match="append-only"):
        async with store.writer.begin() as connection:
            await connection.execute(text(statement))

    async with store.reader.connect() as connection:
        rows = (
            await connection.execute(
                text("SELECT position, (SELECT text FROM terms WHERE id = action) FROM events")
            )
        ).all()
    assert sorted(rows) == [(1, "Graded"), (2, "Graded")]
