"""Courses, from every event that belongs to them (any type)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.caliper.reader import find_course
from app.caliper.values import last_segment
from app.projections.versioning import fold_order
from store.records import StoredEvent


@dataclass(frozen=True, slots=True)
class CourseState:
    id: str
    course_number: str | None
    learn_id: str | None
    name: str | None
    created_at_ms: int  # eventTime of the course's first event
    last_event_ms: int
    last_event_position: int


def fold_course(course_id: str, events: Iterable[StoredEvent]) -> CourseState | None:
    """courseNumber, learnId and name each from the latest event that carries it."""
    own = [event for event in events if event.course_id == course_id]
    if not own:
        return None
    own.sort(key=fold_order)

    course_number: str | None = None
    learn_id: str | None = None
    name: str | None = None
    for event in own:
        found = find_course(event.raw)
        if found is None:
            continue
        course_number = found.course_number or course_number
        learn_id = found.learn_id or learn_id
        name = found.name or name

    first, last = own[0], own[-1]
    return CourseState(
        id=course_id,
        course_number=course_number,
        learn_id=learn_id or last_segment(course_id),
        name=name,
        created_at_ms=first.event_time_ms,
        last_event_ms=last.event_time_ms,
        last_event_position=last.position,
    )
