"""People, from every event that names them (actor, assignee, user or member)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.caliper.reader import people_of
from app.projections.versioning import fold_order
from store.records import StoredEvent


@dataclass(frozen=True, slots=True)
class PersonState:
    id: str
    user_id: str | None  # bb:user.id
    external_id: str | None  # bb:user.externalId (batch_uid)
    last_event_ms: int
    last_event_position: int


def fold_person(person_id: str, events: Iterable[StoredEvent]) -> PersonState | None:
    """userId and externalId each from the most recent event that carries them."""
    user_id: str | None = None
    external_id: str | None = None
    last: StoredEvent | None = None
    for event in sorted(events, key=fold_order):
        seen = people_of(event.raw).get(person_id)
        if seen is None:
            continue
        seen_user_id, seen_external_id = seen
        user_id = seen_user_id or user_id
        external_id = seen_external_id or external_id
        last = event
    if last is None:
        return None
    return PersonState(
        id=person_id,
        user_id=user_id,
        external_id=external_id,
        last_event_ms=last.event_time_ms,
        last_event_position=last.position,
    )
