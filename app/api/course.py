from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info

from app.api.analytics import ActivityBucket, ActivityPoint, course_activity
from app.api.attempt import Attempt, GradableItem
from app.api.calculated_grade import CalculatedGrade
from app.api.connections import Connection, paginate
from app.api.content_item import ContentItem
from app.api.context import created_at_ms
from app.api.event import Event, EventFilter
from app.api.group import Group
from app.api.log import events_connection
from app.api.participant import Participant, ParticipantOrder, course_participants
from app.api.scalars import DateTime
from app.projections.courses import CourseState


async def load_course(info: Info, course_id: str | None, as_of: int | None) -> Course | None:
    if not course_id:
        return None
    state = await info.context.courses().load((course_id, as_of))
    return Course.from_state(state, as_of) if state else None


Node = TypeVar("Node")


def _alive(states: list[Any], include_deleted: bool | None) -> list[Any]:
    return states if include_deleted else [s for s in states if not s.deleted]


def _created_then_id(state: Any) -> list[Any]:
    return [created_at_ms(state), state.id]


@strawberry.type
class Course:
    id: strawberry.ID
    course_number: str | None
    learn_id: str | None
    name: str | None = strawberry.field(
        description="the CourseOffering's name, where Learn sends one"
    )
    as_of: strawberry.Private[int | None]

    @classmethod
    def from_state(cls, state: CourseState, as_of: int | None) -> Course:
        return cls(
            id=strawberry.ID(state.id),
            course_number=state.course_number,
            learn_id=state.learn_id,
            name=state.name,
            as_of=as_of,
        )

    def _page(
        self,
        states: list[Any],
        first: int | None,
        after: str | None,
        node_of: Callable[[Any, int | None], Node],
    ) -> Connection[Node]:
        """One page of a course's entities, in createdAt-then-id order, as of this course."""
        return paginate(
            states,
            first=first,
            after=after,
            sort_key=_created_then_id,
            key_shape=(int, str),
            node_of=lambda state: node_of(state, self.as_of),
        )

    @strawberry.field
    async def groups(
        self,
        info: Info,
        include_deleted: bool | None = False,
        first: int | None = 100,
        after: str | None = None,
    ) -> Connection[Group]:
        states = await info.context.course_groups().load((self.id, self.as_of))
        return self._page(_alive(states, include_deleted), first, after, Group.from_state)

    @strawberry.field
    async def content_items(
        self,
        info: Info,
        include_deleted: bool | None = False,
        first: int | None = 100,
        after: str | None = None,
    ) -> Connection[ContentItem]:
        states = await info.context.course_content_items().load((self.id, self.as_of))
        return self._page(_alive(states, include_deleted), first, after, ContentItem.from_state)

    @strawberry.field
    async def attempts(
        self,
        info: Info,
        user_id: str | None = None,
        gradable_item_id: str | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> Connection[Attempt]:
        states = await info.context.course_attempts().load((self.id, self.as_of))
        if gradable_item_id is not None:
            states = [s for s in states if s.gradable_item_id == gradable_item_id]
        if user_id is not None:
            states = await _of_user(info, states, lambda s: s.assignee_id, user_id, self.as_of)
        return self._page(states, first, after, Attempt.from_state)

    @strawberry.field(
        description="the items the course's attempts were made for, by first grade, then id"
    )
    async def gradable_items(
        self, info: Info, first: int | None = 100, after: str | None = None
    ) -> Connection[GradableItem]:
        attempts = await info.context.course_attempts().load((self.id, self.as_of))
        first_graded: dict[str, int] = {}
        for attempt in attempts:
            if attempt.gradable_item_id:
                created = created_at_ms(attempt)
                held = first_graded.get(attempt.gradable_item_id)
                first_graded[attempt.gradable_item_id] = (
                    created if held is None else min(held, created)
                )
        ids = sorted(first_graded, key=lambda item: (first_graded[item], item))
        states = await info.context.gradable_items().load_many([(i, self.as_of) for i in ids])
        found = [s for s in states if s is not None]
        return paginate(
            found,
            first=first,
            after=after,
            sort_key=lambda s: [first_graded[s.id], s.id],
            key_shape=(int, str),
            node_of=lambda s: GradableItem.from_state(s, self.id, self.as_of),
        )

    @strawberry.field
    async def calculated_grades(
        self,
        info: Info,
        is_course_grade: bool | None = None,
        user_id: str | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> Connection[CalculatedGrade]:
        states = await info.context.course_calculated_grades().load((self.id, self.as_of))
        if is_course_grade is not None:
            states = [s for s in states if bool(s.is_course_grade) == is_course_grade]
        if user_id is not None:
            states = await _of_user(info, states, lambda s: s.user_id, user_id, self.as_of)
        return self._page(states, first, after, CalculatedGrade.from_state)

    @strawberry.field
    async def events(
        self,
        info: Info,
        filter: EventFilter | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> Connection[Event]:
        return await events_connection(
            info, filter, first=first, after=after, within_course=self.id, as_of_ms=self.as_of
        )

    @strawberry.field(
        description="one point per UTC day (or ISO week from Monday 00:00 UTC) from the bucket "
        "holding `since` (default: the course's first event) to the one holding `until` "
        "(default: its last event), zeros included, oldest first"
    )
    async def activity(
        self,
        info: Info,
        since: DateTime | None = None,
        until: DateTime | None = None,
        bucket: ActivityBucket | None = ActivityBucket.DAY,
    ) -> list[ActivityPoint]:
        return await course_activity(
            info, self.id, self.as_of, since, until, bucket or ActivityBucket.DAY
        )

    @strawberry.field(
        description="every person who is the actor of at least one of the course's events"
    )
    async def participants(
        self,
        info: Info,
        role: str | None = None,
        inactive_since: DateTime | None = None,
        order_by: ParticipantOrder | None = ParticipantOrder.LAST_ACTIVITY_DESC,
        first: int | None = 100,
        after: str | None = None,
    ) -> Connection[Participant]:
        return await course_participants(
            info,
            self.id,
            self.as_of,
            role,
            inactive_since,
            order_by or ParticipantOrder.LAST_ACTIVITY_DESC,
            first,
            after,
        )


async def _of_user(info: Info, states: list, person_of, user_id: str, as_of: int | None) -> list:
    """Keep the states whose person (by IRI) has that bb:user.id."""
    iris = [person_of(s) for s in states if person_of(s)]
    people = await info.context.people().load_many([(iri, as_of) for iri in iris])
    matching = {p.id for p in people if p is not None and p.user_id == user_id}
    return [s for s in states if person_of(s) in matching]
