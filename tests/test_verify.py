"""`coursegraph verify` rebuilds the derived rows from the raw log and names the first
difference when something changed them behind the app's back."""

from __future__ import annotations

from sqlalchemy import text

from app.caliper.reader import read_body
from store.append import append_batch
from store.db import Store
from store.tables import KIND_CODES
from tests.api.factories import envelope, grade_event, group_event
from tests.conftest import run_cli

COURSE_KIND = KIND_CODES["course"]


async def test_verify_names_a_damaged_index_row(store: Store) -> None:
    events = [
        group_event("ver", "VER-101", "_g1_1", "Team", ["_1_1"], "2026-01-01T10:00:00.000Z"),
        grade_event("ver", "VER-101", "_i1_1", "_a1_1", "s1", 3.0, "2026-01-02T10:00:00.000Z"),
    ]
    await append_batch(store, read_body(envelope(events)), source="test")
    clean = run_cli("verify", database_url=store.url)
    assert clean.returncode == 0, clean.stderr
    assert "2 events" in clean.stdout

    async with store.writer.begin() as connection:
        await connection.execute(
            text("INSERT INTO terms (id, text) SELECT max(id) + 1, 'WRONG-101' FROM terms")
        )
        await connection.execute(
            text(
                "UPDATE event_entities SET alt_key = (SELECT id FROM terms WHERE text = "
                f"'WRONG-101') WHERE kind = {COURSE_KIND} AND position = 2"
            )
        )
    damaged = run_cli("verify", database_url=store.url)
    assert damaged.returncode == 1
    assert "position 2" in damaged.stderr and "field alt_key" in damaged.stderr
    assert "'WRONG-101'" in damaged.stderr and "'VER-101'" in damaged.stderr

    async with store.writer.begin() as connection:
        await connection.execute(
            text(
                "UPDATE event_entities SET alt_key = (SELECT id FROM terms WHERE text = "
                f"'VER-101') WHERE position = 2 AND kind = {COURSE_KIND}"
            )
        )
        await connection.execute(
            text(f"DELETE FROM event_entities WHERE kind = {KIND_CODES['group']}")
        )
    missing = run_cli("verify", database_url=store.url)
    assert missing.returncode == 1
    assert "position 1: group " in missing.stderr and "_g1_1 is missing" in missing.stderr


async def test_verify_names_a_wrong_current_course_number(store: Store) -> None:
    events = [
        group_event("ver", "VER-101", "_g1_1", "Team", ["_1_1"], "2026-01-01T10:00:00.000Z"),
        grade_event("ver", "VER-102", "_i1_1", "_a1_1", "s1", 3.0, "2026-01-02T10:00:00.000Z"),
    ]
    await append_batch(store, read_body(envelope(events)), source="test")
    assert run_cli("verify", database_url=store.url).returncode == 0

    async with store.writer.begin() as connection:
        await connection.execute(text("UPDATE course_numbers SET course_number = 'VER-101'"))
    damaged = run_cli("verify", database_url=store.url)
    assert damaged.returncode == 1
    assert "course_numbers" in damaged.stderr and "'VER-102'" in damaged.stderr
