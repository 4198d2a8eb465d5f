"""The raw log as a connection, shared by Query.events and Course.events."""

from __future__ import annotations

from strawberry.types import Info

from app.api.connections import (
    Connection,
    asks_for,
    build_connection,
    check_first,
    decode_position,
)
from app.api.event import Event, EventFilter, event_query
from app.caliper.model import COURSE
from store import read


async def course_scope(
    info: Info, filter: EventFilter | None, within_course: str | None
) -> tuple[str, ...] | None:
    """The course IRIs the filter allows (None: every event, with or without a course)."""
    allowed: set[str] | None = {within_course} if within_course else None
    if filter is not None and filter.course_id:
        wanted = {str(filter.course_id)}
        allowed = wanted if allowed is None else allowed & wanted
    if filter is not None and filter.course_number:
        numbered = set(
            await read.keys_with_alt_key(info.context.store, COURSE, filter.course_number)
        )
        allowed = numbered if allowed is None else allowed & numbered
    return tuple(sorted(allowed)) if allowed is not None else None


async def events_connection(
    info: Info,
    filter: EventFilter | None,
    *,
    first: int | None,
    after: str | None,
    within_course: str | None = None,
    as_of_ms: int | None = None,
) -> Connection[Event]:
    first = check_first(first)
    store = info.context.store
    query = event_query(filter, await course_scope(info, filter, within_course), as_of_ms)
    after_position = decode_position(after) if after is not None else None
    total = await read.count_events(store, query) if asks_for(info, "totalCount") else None
    rows = await read.page_events(
        store, query, after_cursor_position=after_position, limit=first + 1
    )
    return build_connection(
        rows[:first],
        total=total,
        has_next=len(rows) > first,
        has_previous=after_position is not None,
        cursor_of=lambda e: e.position,
        node_of=Event.from_stored,
    )
