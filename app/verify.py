"""`coursegraph verify`: rebuild every derived column and the entity index from the raw
log alone and compare them with what is stored (and so with what the API serves,
which folds from exactly these rows). Events stored before ingest checked every value
(app.caliper.checks) are rebuilt all the same, and listed: ingest would reject them now."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.caliper.canonical import loads_stored
from app.caliper.model import CARRIES_COURSE_NUMBER, COURSE, ReadEvent, RejectedItem
from app.caliper.reader import read_item
from app.settings import Settings
from app.startup import open_ready_store
from store.append import entity_index_rows, event_key, insert_index_rows
from store.codec import decode
from store.db import Store
from store.read import term_text
from store.tables import KIND_NAMES, CourseNumberRow, EventEntityRow, EventRow

EVENTS = EventRow.__table__
ENTITIES = EventEntityRow.__table__
COURSE_NUMBERS = CourseNumberRow.__table__
CHUNK = 5000
# Columns of the log that are derived from the raw event.
DERIVED_COLUMNS = (
    "type",
    "action",
    "event_time",
    "actor_id",
    "object_id",
    "course_id",
    "event_key",
)
INDEX_COLUMNS = ("event_time", "course_id", "alt_key", "carries")
SHOWN_NOTES = 20

# The log's rows with their terms as text, as the reader's columns are.
_STORED_EVENT = (
    EVENTS.c.position,
    term_text(EVENTS.c.type).label("type"),
    term_text(EVENTS.c.action).label("action"),
    EVENTS.c.event_time,
    term_text(EVENTS.c.actor_id).label("actor_id"),
    term_text(EVENTS.c.object_id).label("object_id"),
    term_text(EVENTS.c.course_id).label("course_id"),
    EVENTS.c.event_key,
    EVENTS.c.codec,
    EVENTS.c.raw,
)
_STORED_INDEX = (
    ENTITIES.c.kind,
    term_text(ENTITIES.c.entity_key).label("entity_key"),
    ENTITIES.c.position,
    ENTITIES.c.event_time,
    term_text(ENTITIES.c.course_id).label("course_id"),
    term_text(ENTITIES.c.alt_key).label("alt_key"),
    ENTITIES.c.carries,
)


def _describe(row: dict[str, Any]) -> str:
    return f"{row['kind']} {row['entity_key']}"


async def _event_chunks(connection: AsyncConnection) -> AsyncIterator[list[dict[str, Any]]]:
    last = (await connection.execute(select(func.max(EVENTS.c.position)))).scalar() or 0
    for start in range(0, last, CHUNK):
        rows = await connection.execute(
            select(*_STORED_EVENT)
            .where(EVENTS.c.position > start, EVENTS.c.position <= start + CHUNK)
            .order_by(EVENTS.c.position)
        )
        yield [dict(row) for row in rows.mappings()]


async def stored_index_rows(
    connection: AsyncConnection, start: int, end: int
) -> dict[int, list[dict[str, Any]]]:
    """The index rows of positions (start, end], by position, as entity_index_rows
    writes them (kinds and keys as text)."""
    stored: dict[int, list[dict[str, Any]]] = {}
    rows = await connection.execute(
        select(*_STORED_INDEX).where(ENTITIES.c.position > start, ENTITIES.c.position <= end)
    )
    for row in rows.mappings():
        found = dict(row)
        found["kind"] = KIND_NAMES.get(found["kind"], found["kind"])
        stored.setdefault(found["position"], []).append(found)
    return stored


def rebuilt_event(stored: dict[str, Any], notes: list[str] | None = None) -> ReadEvent | None:
    """The stored event read again by today's reader (unchecked when ingest would now
    reject it: `notes` says so); None when it no longer reads as an event."""
    position = stored["position"]
    raw = loads_stored(decode(stored["codec"], stored["raw"]).decode())
    rebuilt = read_item(raw, f"position {position}")
    if isinstance(rebuilt, RejectedItem):
        unchecked = read_item(raw, f"position {position}", checked=False)
        if isinstance(unchecked, ReadEvent):
            if notes is not None:
                notes.append(f"position {position}: {rebuilt.reason}")
            rebuilt = unchecked
    return rebuilt if isinstance(rebuilt, ReadEvent) else None


async def rebuild_derived(connection: AsyncConnection) -> None:
    """Fill the entity index and course_numbers from the log, with the writer's own code
    (entity_index_rows, insert_index_rows): what verify compares them with. Run by
    `coursegraph db upgrade` after a migration that leaves them empty, under its lock."""
    await connection.execute(delete(ENTITIES))
    await connection.execute(delete(COURSE_NUMBERS))
    async for events in _event_chunks(connection):
        rows = []
        for stored in events:
            rebuilt = rebuilt_event(stored)
            if rebuilt is not None:  # stored as an event by older rules: left out of the index
                rows.extend(entity_index_rows(rebuilt, stored["position"]))
        await insert_index_rows(connection, rows)


async def find_first_difference(store: Store, notes: list[str] | None = None) -> str | None:
    """The first difference between the log and what is derived from it; `notes` gets
    one line per stored event that ingest would reject today."""
    expected_position = 0
    numbers: dict[str, tuple[str, int, int] | None] = {}
    async with store.reader.connect() as connection:
        async for events in _event_chunks(connection):
            start = events[0]["position"] - 1
            stored_index = await stored_index_rows(connection, start, events[-1]["position"])
            for event in events:
                position = event["position"]
                expected_position += 1
                if position != expected_position:
                    return f"events: position {expected_position} is missing (next is {position})"
                rebuilt = rebuilt_event(event, notes)
                if rebuilt is None:
                    return (
                        f"events: position {position}: the stored event no longer reads as an event"
                    )
                difference = _compare_columns(event, rebuilt) or _compare_index(
                    position, entity_index_rows(rebuilt, position), stored_index.get(position, [])
                )
                if difference:
                    return difference
                _note_course_numbers(numbers, entity_index_rows(rebuilt, position))
            # Index rows whose event does not exist at all.
            orphans = set(stored_index) - {event["position"] for event in events}
            if orphans:
                return f"event_entities: rows for position {min(orphans)}, which is not in the log"
        beyond = (
            await connection.execute(
                select(func.min(ENTITIES.c.position)).where(ENTITIES.c.position > expected_position)
            )
        ).scalar()
        if beyond is not None:
            return f"event_entities: rows for position {beyond}, which is not in the log"
        stored_numbers = dict(
            (
                await connection.execute(
                    select(COURSE_NUMBERS.c.course_iri, COURSE_NUMBERS.c.course_number)
                )
            ).all()
        )
    return _compare_course_numbers(numbers, stored_numbers)


def _compare_columns(event: dict[str, Any], rebuilt: ReadEvent) -> str | None:
    columns = {
        "type": rebuilt.type,
        "action": rebuilt.action,
        "event_time": rebuilt.event_time_ms,
        "actor_id": rebuilt.actor_id,
        "object_id": rebuilt.object_id,
        "course_id": rebuilt.course_id,
        "event_key": event_key(rebuilt.event_id),
    }
    for column in DERIVED_COLUMNS:
        if event[column] != columns[column]:
            return (
                f"events: position {event['position']}, field {column}: stored "
                f"{event[column]!r}, rebuilt from the log {columns[column]!r}"
            )
    return None


def _note_course_numbers(
    numbers: dict[str, tuple[str, int, int] | None], rows: list[dict[str, Any]]
) -> None:
    """Each course's newest (eventTime, position) carrying a number, as the writer keeps."""
    for row in rows:
        if row["kind"] != COURSE:
            continue
        held = numbers.setdefault(row["entity_key"], None)
        if row["carries"] & CARRIES_COURSE_NUMBER and row["alt_key"] is not None:
            candidate = (row["alt_key"], row["event_time"], row["position"])
            if held is None or candidate[1:] > held[1:]:
                numbers[row["entity_key"]] = candidate


def _compare_course_numbers(
    numbers: dict[str, tuple[str, int, int] | None], stored: dict[str, str]
) -> str | None:
    for course, found in numbers.items():
        expected = found[0] if found else ""
        if course not in stored:
            return f"course_numbers: course {course} is missing"
        if stored.pop(course) != expected:
            return (
                f"course_numbers: course {course}: stored a different number, rebuilt from "
                f"the log {expected!r}"
            )
    if stored:
        return f"course_numbers: course {next(iter(stored))} is stored but not in the log"
    return None


def _compare_index(
    position: int, rebuilt: list[dict[str, Any]], stored: list[dict[str, Any]]
) -> str | None:
    by_key = {(row["kind"], row["entity_key"]): row for row in stored}
    for row in rebuilt:
        found = by_key.pop((row["kind"], row["entity_key"]), None)
        if found is None:
            return f"event_entities: position {position}: {_describe(row)} is missing"
        for column in INDEX_COLUMNS:
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
