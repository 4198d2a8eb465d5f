"""What the reader hands the store: events with their normalised columns, entity
descriptions, and rejected items. Plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Entity kinds the index knows. A calculated grade's key is "<course>|<itemId>|<user>".
COURSE = "course"
GROUP = "group"
CONTENT = "content"
GRADABLE_ITEM = "gradable_item"
ATTEMPT = "attempt"
CALCULATED_GRADE = "calculated_grade"
PERSON = "person"
ENTITY_KINDS = (COURSE, GROUP, CONTENT, GRADABLE_ITEM, ATTEMPT, CALCULATED_GRADE, PERSON)


# Which of its entity's own fields an event carries (EntityRef.carries, a bitmask): the
# store finds each field's latest event by these, however many events came after it.
CARRIES_COURSE_NUMBER = 1
CARRIES_LEARN_ID = 2
CARRIES_NAME = 4
CARRIES_USER_ID = 1
CARRIES_EXTERNAL_ID = 2
CARRIED_FIELDS = {
    COURSE: {
        "courseNumber": CARRIES_COURSE_NUMBER,
        "learnId": CARRIES_LEARN_ID,
        "name": CARRIES_NAME,
    },
    PERSON: {"userId": CARRIES_USER_ID, "externalId": CARRIES_EXTERNAL_ID},
}


def event_id_of(item: dict[str, Any]) -> str | None:
    """The event's own id (`id`, or 1.0's `@id`), when it is a non-empty string."""
    event_id = item.get("id", item.get("@id"))
    return event_id if isinstance(event_id, str) and event_id else None


@dataclass(frozen=True, slots=True)
class EntityRef:
    kind: str
    key: str
    # A second lookup key: courseNumber for courses, bb:user.id for people.
    alt_key: str | None = None
    # Which of the entity's fields this event carries (CARRIES_* bits).
    carries: int = 0


@dataclass(frozen=True, slots=True)
class ReadEvent:
    raw: dict[str, Any]
    raw_json: bytes
    content_hash: str
    event_id: str | None
    type: str
    action: str
    event_time_ms: int
    style: str
    actor_id: str | None
    object_id: str | None
    course_id: str | None
    entities: tuple[EntityRef, ...]
    path: str
    sensor: str | None = None  # the `sensor` of the envelope the event came in


@dataclass(frozen=True, slots=True)
class EntityDescription:
    raw: dict[str, Any]
    raw_json: bytes
    content_hash: str
    entity_id: str
    entity_type: str
    path: str


@dataclass(frozen=True, slots=True)
class RejectedItem:
    raw: Any
    raw_json: bytes
    content_hash: str
    reason: str
    path: str


@dataclass(slots=True)
class ReadBatch:
    """Everything one request (or one ingest chunk) holds, in the order it came."""

    events: list[ReadEvent] = field(default_factory=list)
    descriptions: list[EntityDescription] = field(default_factory=list)
    rejected: list[RejectedItem] = field(default_factory=list)


class ShapeError(ValueError):
    """The body is not an envelope, an array of envelopes or events, or a bare event."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class UnsupportedVersion(ValueError):
    def __init__(self, path: str, version: Any) -> None:
        self.reason = f"unsupported dataVersion {version!r}"
        super().__init__(f"{path}: {self.reason}")
        self.path = path
        self.version = version
