"""Course.participants: every person who is the actor of one of the course's events,
with their activity, role, course grade and graded attempts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.types import Info

from app.api.calculated_grade import CalculatedGrade
from app.api.connections import Connection, paginate
from app.api.person import Person
from app.api.scalars import DateTime
from app.projections.analytics import BUCKET_ORIGIN_MS, role_of
from app.projections.attempts import AttemptState
from app.projections.calculated_grades import CalculatedGradeState
from store import read

if TYPE_CHECKING:
    from app.api.context import Context

# Newest events per person read for their role; people whose role is not among them
# (rare: most events carry the person's own membership) get all of theirs read.
ROLE_CANDIDATES = 3


@strawberry.enum
class ParticipantOrder(Enum):
    LAST_ACTIVITY_DESC = "LAST_ACTIVITY_DESC"
    LAST_ACTIVITY_ASC = "LAST_ACTIVITY_ASC"
    EVENT_COUNT_DESC = "EVENT_COUNT_DESC"
    COURSE_GRADE_ASC = "COURSE_GRADE_ASC"


@dataclass(frozen=True, slots=True)
class ParticipantState:
    person_id: str
    role: str | None
    first_activity_ms: int
    last_activity_ms: int
    event_count: int
    active_days: int
    course_grade: CalculatedGradeState | None
    graded_attempts: int


@strawberry.type
class Participant:
    role: str | None = strawberry.field(
        description="latest membership role sent for them in this course, short form"
    )
    first_activity_at: DateTime
    last_activity_at: DateTime
    event_count: int
    active_days: int = strawberry.field(description="distinct UTC dates with one of their events")
    graded_attempts: int = strawberry.field(
        description="their attempts in this course that have a score"
    )
    state: strawberry.Private[ParticipantState]
    as_of: strawberry.Private[int | None]

    @classmethod
    def from_state(cls, s: ParticipantState, as_of: int | None) -> Participant:
        return cls(
            role=s.role,
            first_activity_at=s.first_activity_ms,
            last_activity_at=s.last_activity_ms,
            event_count=s.event_count,
            active_days=s.active_days,
            graded_attempts=s.graded_attempts,
            state=s,
            as_of=as_of,
        )

    @strawberry.field
    async def person(self, info: Info) -> Person:
        state = await info.context.people().load((self.state.person_id, self.as_of))
        if state is None:  # the index names them, so a state exists; keep the IRI regardless
            return Person(id=strawberry.ID(self.state.person_id), user_id=None, external_id=None)
        return Person.from_state(state)

    @strawberry.field(description="their current isCourseGrade calculated grade here")
    def course_grade(self) -> CalculatedGrade | None:
        grade = self.state.course_grade
        return CalculatedGrade.from_state(grade, self.as_of) if grade else None


def _sort_key(order: ParticipantOrder):
    if order is ParticipantOrder.LAST_ACTIVITY_DESC:
        return lambda s: [-s.last_activity_ms, s.person_id]
    if order is ParticipantOrder.LAST_ACTIVITY_ASC:
        return lambda s: [s.last_activity_ms, s.person_id]
    if order is ParticipantOrder.EVENT_COUNT_DESC:
        return lambda s: [-s.event_count, s.person_id]
    # Those without a course grade (or whose grade has no score) last.
    return lambda s: (
        [0, float(s.course_grade.score), s.person_id]
        if s.course_grade is not None and s.course_grade.score is not None
        else [1, 0.0, s.person_id]
    )


def _key_shape(order: ParticipantOrder) -> tuple[type, ...]:
    """The types of a cursor's parts: the order's name, then its sort key."""
    if order is ParticipantOrder.COURSE_GRADE_ASC:
        return (str, int, float, str)
    return (str, int, str)


async def _activity_and_roles(context: Context, course_id: str, as_of: int | None) -> list[Any]:
    """Per Person actor: the store's counts and their role; cached while the course's
    newest position stays the same."""
    store = context.store
    cache_key = await context.cache_key("participants", course_id, as_of)
    stamp = await read.course_stamp(store, course_id)
    cached = context.cached(cache_key, stamp)
    if cached is not None:
        return cached
    by_actor = await read.course_actor_counts(
        store, course_id, as_of, day_origin_ms=BUCKET_ORIGIN_MS
    )
    people = await read.people_among(store, [c.actor_id for c in by_actor])
    counts = [c for c in by_actor if c.actor_id in people]
    ids = [c.actor_id for c in counts]
    newest = await read.newest_course_events_naming(
        store, course_id, ids, as_of, per_person=ROLE_CANDIDATES
    )
    roles = {person: role_of(person, newest.get(person, [])) for person in ids}
    # Rare: none of their newest events sent a role; read all of theirs.
    unresolved = [p for p in ids if roles[p] is None and len(newest.get(p, ())) >= ROLE_CANDIDATES]
    if unresolved:
        everything = await read.newest_course_events_naming(
            store, course_id, unresolved, as_of, per_person=None
        )
        roles.update({p: role_of(p, everything.get(p, [])) for p in unresolved})
    cached = [(c, roles[c.actor_id]) for c in counts]
    context.keep(cache_key, stamp, cached)
    return cached


async def participant_states(
    context: Context,
    course_id: str,
    as_of: int | None,
    attempts: list[AttemptState] | None = None,
) -> list[ParticipantState]:
    """Every participant with their course grade and graded attempts; cached until the
    log grows (the grades and attempts may come from events of no course)."""
    cache_key = await context.cache_key("participant-states", course_id, as_of)
    stamp = await context.newest_position()
    cached = context.cached(cache_key, stamp)
    if cached is not None:
        return cached
    counted = await _activity_and_roles(context, course_id, as_of)
    grades = await context.course_calculated_grades().load((course_id, as_of))
    if attempts is None:
        attempts = await context.course_attempts().load((course_id, as_of))
    course_grades: dict[str, CalculatedGradeState] = {}
    for grade in grades:
        if grade.is_course_grade and grade.user_id:
            held = course_grades.get(grade.user_id)
            if held is None or grade.calculated_at_ms >= held.calculated_at_ms:
                course_grades[grade.user_id] = grade
    graded: dict[str, int] = {}
    for attempt in attempts:
        if attempt.assignee_id and attempt.score is not None:
            graded[attempt.assignee_id] = graded.get(attempt.assignee_id, 0) + 1
    states = [
        ParticipantState(
            person_id=c.actor_id,
            role=person_role,
            first_activity_ms=c.first_event_ms,
            last_activity_ms=c.last_event_ms,
            event_count=c.event_count,
            active_days=c.active_days,
            course_grade=course_grades.get(c.actor_id),
            graded_attempts=graded.get(c.actor_id, 0),
        )
        for c, person_role in counted
    ]
    context.keep(cache_key, stamp, states)
    return states


async def course_participants(
    info: Info,
    course_id: str,
    as_of: int | None,
    role: str | None,
    inactive_since: int | None,
    order_by: ParticipantOrder,
    first: int | None,
    after: str | None,
) -> Connection[Participant]:
    states = [
        s
        for s in await participant_states(info.context, course_id, as_of)
        if (role is None or s.role == role)
        and (inactive_since is None or s.last_activity_ms < inactive_since)
    ]
    sort_key = _sort_key(order_by)
    states.sort(key=sort_key)
    return paginate(
        states,
        first=first,
        after=after,
        sort_key=lambda s: [order_by.value, *sort_key(s)],
        key_shape=_key_shape(order_by),
        node_of=lambda s: Participant.from_state(s, as_of),
    )
