"""A course query costs the same number of SQL statements whatever the number of
groups and attempts: every related field goes through a per-request DataLoader."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from app.api.context import Context
from app.api.schema import SCHEMA
from app.caliper.reader import read_body
from store.append import append_batch
from store.db import Store
from tests.api.factories import envelope, grade_event, group_event
from tests.conftest import make_settings

QUERY = """
query($number: String!) {
  course(courseNumber: $number) {
    id courseNumber
    groups(first: 1000) { totalCount nodes { name memberIds course { id } history { action } } }
    attempts(first: 1000) {
      totalCount
      nodes { id assignee { userId } gradableItem { maxScore contentItem { name } } score { scoreGiven } course { courseNumber } }
    }
  }
}
"""


async def _load_course(store: Store, number: str, groups: int, attempts: int) -> None:
    course = number.lower()
    events = [
        group_event(
            course,
            number,
            f"_g{i}_1",
            f"Group {i}",
            [f"_m{i}_1"],
            f"2026-01-0{1 + i % 9}T10:00:00.000Z",
        )
        for i in range(groups)
    ]
    events += [
        grade_event(
            course,
            number,
            f"_{course}i{i % 6}_1",
            f"_{course}a{i}_1",
            f"s{i % 35}",
            float(i % 50),
            f"2026-02-{1 + i % 27:02d}T10:00:00.000Z",
        )
        for i in range(attempts)
    ]
    await append_batch(store, read_body(envelope(events)), source="test")


async def _statements_for(store: Store, number: str) -> tuple[int, dict[str, Any]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        if not args[2].lstrip().upper().startswith("BEGIN"):
            statements.append(args[2])

    event.listen(store.reader.sync_engine, "before_cursor_execute", count)
    try:
        # A context of its own has an empty cache: each course pays its own way.
        context = Context(store=store, settings=make_settings(store.url))
        result = await SCHEMA.execute(
            QUERY, variable_values={"number": number}, context_value=context
        )
    finally:
        event.remove(store.reader.sync_engine, "before_cursor_execute", count)
    assert result.errors is None, result.errors
    return len(statements), result.data


async def test_statements_do_not_grow_with_entities(store: Store) -> None:
    await _load_course(store, "SMALL-101", groups=30, attempts=200)
    await _load_course(store, "LARGE-101", groups=60, attempts=400)
    small_count, small = await _statements_for(store, "SMALL-101")
    large_count, large = await _statements_for(store, "LARGE-101")
    assert small["course"]["groups"]["totalCount"] == 30
    assert small["course"]["attempts"]["totalCount"] == 200
    assert large["course"]["attempts"]["totalCount"] == 400
    assert large["course"]["attempts"]["nodes"][0]["assignee"]["userId"].startswith("_s")
    assert small_count == large_count
    assert small_count <= 20
