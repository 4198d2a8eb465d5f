from __future__ import annotations

import strawberry

from app.api.scalars import JSON, DateTime
from app.caliper.values import short_action, short_name
from store.read import EventQuery
from store.records import StoredEvent, StoredRejectedItem


@strawberry.type(description="One stored event, exactly as received.")
class Event:
    position: int = strawberry.field(description="global store order, strictly increasing")
    id: str | None = strawberry.field(description="the Caliper event id, where the event has one")
    type: str
    action: str
    event_time: DateTime
    received_at: DateTime
    actor_id: strawberry.ID | None
    object_id: strawberry.ID | None
    raw: JSON = strawberry.field(description="the event object exactly as it was sent")

    @classmethod
    def from_stored(cls, e: StoredEvent) -> Event:
        return cls(
            position=e.position,
            id=e.event_id,
            type=e.type,
            action=e.action,
            event_time=e.event_time_ms,
            received_at=e.received_at_ms,
            actor_id=strawberry.ID(e.actor_id) if e.actor_id else None,
            object_id=strawberry.ID(e.object_id) if e.object_id else None,
            raw=e.raw,
        )


@strawberry.type(
    description="An item of a request that could not be stored as an event (no type, action, "
    "actor, object or parseable eventTime). Kept verbatim."
)
class RejectedItem:
    received_at: DateTime
    reason: str
    path: str = strawberry.field(description="where it was: JSON path in the request, or file:line")
    raw: JSON

    @classmethod
    def from_stored(cls, item: StoredRejectedItem) -> RejectedItem:
        return cls(
            received_at=item.received_at_ms, reason=item.reason, path=item.path, raw=item.raw
        )


@strawberry.input
class EventFilter:
    course_id: strawberry.ID | None = None
    course_number: str | None = None
    type: str | None = strawberry.field(default=None, description='short name, e.g. "GradeEvent"')
    action: str | None = strawberry.field(default=None, description='short name, e.g. "Graded"')
    actor_id: strawberry.ID | None = None
    object_id: strawberry.ID | None = None
    since: DateTime | None = strawberry.field(default=None, description="eventTime >= since")
    until: DateTime | None = strawberry.field(default=None, description="eventTime < until")
    after_position: int | None = strawberry.field(
        default=None, description="position > afterPosition: incremental pulls"
    )


def event_query(
    filter: EventFilter | None, course_ids: tuple[str, ...] | None, as_of_ms: int | None = None
) -> EventQuery:
    """The filter as the store reads it; type and action accept full IRIs too."""
    f = filter or EventFilter()
    return EventQuery(
        course_ids=course_ids,
        type=short_name(f.type) if f.type else None,
        action=short_action(f.action) if f.action else None,
        actor_id=f.actor_id,
        object_id=f.object_id,
        since_ms=f.since,
        until_ms=f.until,
        as_of_ms=as_of_ms,
        after_position=f.after_position,
    )
