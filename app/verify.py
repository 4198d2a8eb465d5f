"""`coursegraph verify`: rebuild every derived column and the entity index from the raw
log alone and compare them with what is stored (and so with what the API serves,
which folds from exactly these rows). Events stored before ingest checked every value
(app.caliper.checks) are rebuilt all the same, and listed: ingest would reject them now."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import func, select

from app.caliper.canonical import loads_stored
from app.caliper.model import ReadEvent, RejectedItem
from app.caliper.reader import read_item
from app.settings import Settings
from app.startup import open_ready_store
from store.append import entity_index_rows
from store.db import Store
from store.tables import EventEntityRow, EventRow

EVENTS = EventRow.__table__
ENTITIES = EventEntityRow.__table__
CHUNK = 5000
# Columns of the log that are derived from the raw event.
DERIVED_COLUMNS = ("type", "action", "event_time", "actor_id", "object_id", "course_id")
SHOWN_NOTES = 20


def _describe(row: dict[str, Any]) -> str:
    return f"{row['kind']} {row['entity_key']}"


async def _chunks(store: Store) -> AsyncIterator[tuple[list[Any], dict[int, list[dict[str, Any]]]]]:
    async with store.reader.connect() as connection:
        last = (await connection.execute(select(func.max(EVENTS.c.position)))).scalar() or 0
        for start in range(0, last, CHUNK):
            end = start + CHUNK
            events = (
                (
                    await connection.execute(
                        select(EVENTS)
                        .where(EVENTS.c.position > start, EVENTS.c.position <= end)
                        .order_by(EVENTS.c.position)
                    )
                )
                .mappings()
                .all()
            )
            stored: dict[int, list[dict[str, Any]]] = {}
            for row in (
                await connection.execute(
                    select(ENTITIES).where(ENTITIES.c.position > start, ENTITIES.c.position <= end)
                )
            ).mappings():
                stored.setdefault(row["position"], []).append(dict(row))
            yield list(events), stored


async def find_first_difference(store: Store, notes: list[str] | None = None) -> str | None:
    """The first difference between the log and what is derived from it; `notes` gets
    one line per stored event that ingest would reject today."""
    expected_position = 0
    async for events, stored_index in _chunks(store):
        for event in events:
            position = event["position"]
            expected_position += 1
            if position != expected_position:
                return f"events: position {expected_position} is missing (next is {position})"
            raw = loads_stored(event["raw"])
            rebuilt = read_item(raw, f"position {position}")
            if isinstance(rebuilt, RejectedItem):
                unchecked = read_item(raw, f"position {position}", checked=False)
                if isinstance(unchecked, ReadEvent):
                    if notes is not None:
                        notes.append(f"position {position}: {rebuilt.reason}")
                    rebuilt = unchecked
            if not isinstance(rebuilt, ReadEvent):
                return f"events: position {position}: the stored event no longer reads as an event"
            columns = {
                "type": rebuilt.type,
                "action": rebuilt.action,
                "event_time": rebuilt.event_time_ms,
                "actor_id": rebuilt.actor_id,
                "object_id": rebuilt.object_id,
                "course_id": rebuilt.course_id,
            }
            for column in DERIVED_COLUMNS:
                if event[column] != columns[column]:
                    return (
                        f"events: position {position}, field {column}: stored "
                        f"{event[column]!r}, rebuilt from the log {columns[column]!r}"
                    )
            difference = _compare_index(
                position, entity_index_rows(rebuilt, position), stored_index.get(position, [])
            )
            if difference:
                return difference
        # Index rows whose event does not exist at all.
        orphans = set(stored_index) - {event["position"] for event in events}
        if orphans:
            return f"event_entities: rows for position {min(orphans)}, which is not in the log"
    async with store.reader.connect() as connection:
        beyond = (
            await connection.execute(
                select(func.min(ENTITIES.c.position)).where(ENTITIES.c.position > expected_position)
            )
        ).scalar()
    if beyond is not None:
        return f"event_entities: rows for position {beyond}, which is not in the log"
    return None


def _compare_index(
    position: int, rebuilt: list[dict[str, Any]], stored: list[dict[str, Any]]
) -> str | None:
    by_key = {(row["kind"], row["entity_key"]): row for row in stored}
    for row in rebuilt:
        found = by_key.pop((row["kind"], row["entity_key"]), None)
        if found is None:
            return f"event_entities: position {position}: {_describe(row)} is missing"
        for column in ("event_time", "course_id", "alt_key"):
            if found[column] != row[column]:
                return (
                    f"event_entities: position {position}, entity {_describe(row)}, "
                    f"field {column}: stored {found[column]!r}, "
                    f"rebuilt from the log {row[column]!r}"
                )
    if by_key:
        extra = next(iter(by_key.values()))
        return (
            f"event_entities: position {position}: {_describe(extra)} is stored but not in the log"
        )
    return None


async def run_verify(settings: Settings) -> int:
    store = await open_ready_store(settings.database_url)
    try:
        notes: list[str] = []
        difference = await find_first_difference(store, notes)
        async with store.reader.connect() as connection:
            count = (
                await connection.execute(select(func.count()).select_from(EVENTS))
            ).scalar() or 0
    finally:
        await store.close()
    if notes:
        print(
            f"verify: {len(notes)} stored events hold values ingest now rejects (stored "
            "before it checked them); an entity none of whose fields can be read from them "
            "is served as unreadable (null and one error):",
            file=sys.stderr,
        )
        for note in notes[:SHOWN_NOTES]:
            print(f"  {note}", file=sys.stderr)
        if len(notes) > SHOWN_NOTES:
            print(f"  … and {len(notes) - SHOWN_NOTES} more", file=sys.stderr)
    if difference:
        print(f"verify: DIFFERENT — {difference}", file=sys.stderr)
        return 1
    print(f"verify: OK — {count} events; the entity index and every derived column rebuild equal")
    return 0
