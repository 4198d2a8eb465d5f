from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from app.api.connections import (
    Connection,
    asks_for,
    build_connection,
    check_first,
    decode_position,
    decode_sort_key,
    paginate,
)
from app.api.course import Course
from app.api.errors import bad_user_input
from app.api.event import Event, EventFilter, RejectedItem
from app.api.live import follow_events
from app.api.log import events_connection
from app.api.person import Person
from app.api.scalars import DateTime
from app.caliper.model import COURSE, PERSON
from app.projections.courses import CourseState
from store import read


def _most_recent(states: list) -> object | None:
    """Among several matches, the one whose latest event is the most recent."""
    if not states:
        return None
    return max(states, key=lambda s: (s.last_event_ms, s.last_event_position))


def _course_sort_key(state: CourseState) -> list[str]:
    return [state.course_number or "", state.id]


async def _course_page(info: Info, first: int | None, after: str | None) -> Connection[Course]:
    """Every course, paged in SQL in (current courseNumber, id) order: only the page's
    courses are folded, however many there are."""
    first = check_first(first)
    boundary = decode_sort_key(after, (str, str)) if after is not None else None
    page = await read.course_page(
        info.context.store,
        after=(boundary[0], boundary[1]) if boundary is not None else None,
        limit=first + 1,
    )
    keys = [course_id for _number, course_id in page.keys[:first]]
    states = [s for s in await info.context.courses().load_many([(k, None) for k in keys]) if s]
    return build_connection(
        states,
        total=page.total,
        has_next=len(page.keys) > first,
        has_previous=page.has_previous,
        cursor_of=_course_sort_key,
        node_of=lambda s: Course.from_state(s, None),
    )


@strawberry.type
class Query:
    @strawberry.field
    async def courses(
        self,
        info: Info,
        course_number: str | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> Connection[Course]:
        store = info.context.store
        if course_number is None:
            return await _course_page(info, first, after)
        keys = await read.keys_with_alt_key(store, COURSE, course_number)
        states = [s for s in await info.context.courses().load_many([(k, None) for k in keys]) if s]
        if course_number is not None:
            states = [s for s in states if s.course_number == course_number]
        states.sort(key=_course_sort_key)
        return paginate(
            states,
            first=first,
            after=after,
            sort_key=_course_sort_key,
            key_shape=(str, str),
            node_of=lambda s: Course.from_state(s, None),
        )

    @strawberry.field
    async def course(
        self,
        info: Info,
        id: strawberry.ID | None = None,
        course_number: str | None = None,
        as_of: DateTime | None = None,
    ) -> Course | None:
        if id is None and course_number is None:
            raise bad_user_input("course: give `id` or `courseNumber`")
        loader = info.context.courses()
        if id is not None:
            chosen = await loader.load((str(id), None))
            if (
                chosen is not None
                and course_number is not None
                and chosen.course_number != course_number
            ):
                return None
        else:
            keys = await read.keys_with_alt_key(info.context.store, COURSE, course_number)
            states = [s for s in await loader.load_many([(k, None) for k in keys]) if s]
            chosen = _most_recent([s for s in states if s.course_number == course_number])
        if chosen is None:
            return None
        if as_of is None:
            return Course.from_state(chosen, None)
        then = await loader.load((chosen.id, as_of))
        return Course.from_state(then, as_of) if then else None

    @strawberry.field
    async def person(
        self, info: Info, id: strawberry.ID | None = None, user_id: str | None = None
    ) -> Person | None:
        if id is None and user_id is None:
            raise bad_user_input("person: give `id` or `userId`")
        loader = info.context.people()
        if id is not None:
            state = await loader.load((str(id), None))
            if state is not None and user_id is not None and state.user_id != user_id:
                return None
        else:
            keys = await read.keys_with_alt_key(info.context.store, PERSON, user_id)
            states = [s for s in await loader.load_many([(k, None) for k in keys]) if s]
            state = _most_recent([s for s in states if s.user_id == user_id])
        return Person.from_state(state) if state else None

    @strawberry.field
    async def events(
        self,
        info: Info,
        filter: EventFilter | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> Connection[Event]:
        return await events_connection(info, filter, first=first, after=after)

    @strawberry.field
    async def rejected_items(
        self, info: Info, first: int | None = 100, after: str | None = None
    ) -> Connection[RejectedItem]:
        first = check_first(first)
        store = info.context.store
        after_row = decode_position(after) if after is not None else None
        total = await read.count_rejected(store) if asks_for(info, "totalCount") else None
        rows = await read.page_rejected(store, after_row=after_row, limit=first + 1)
        return build_connection(
            rows[:first],
            total=total,
            has_next=len(rows) > first,
            has_previous=after_row is not None,
            cursor_of=lambda r: r.row_id,
            node_of=RejectedItem.from_stored,
        )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Every event appended from now on that matches the filter, in store order; "
        "with afterPosition, first the stored matching events after that position."
    )
    async def event_appended(
        self, info: Info, filter: EventFilter | None = None, after_position: int | None = None
    ) -> AsyncGenerator[Event, None]:
        async for event in follow_events(info, filter, after_position):
            yield event
