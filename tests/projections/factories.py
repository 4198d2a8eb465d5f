"""Hand-built Caliper events in either style, stored the way the store stores them."""

from __future__ import annotations

from typing import Any

from app.caliper.model import ReadEvent
from app.caliper.reader import read_item
from app.caliper.values import parse_time_ms
from store.records import StoredEvent

SITE = "https://caliper-mapping.example.edu/v1/sites/site-1"
COURSE = f"{SITE}/courses/course-1"
OTHER_COURSE = f"{SITE}/courses/course-2"
INSTRUCTOR = f"{SITE}/users/instructor-1"
STUDENT = f"{SITE}/users/student-1"
LEARN = f"{SITE}/applications/learn"

_IMS_TYPES = "http://purl.imsglobal.org/caliper/v1/"
_BB_TYPES = "http://caliper.blackboard.com/caliper/v1/"
_BB_ACTIONS = "http://caliper.blackboard.com/vocab/caliper/v1/action#"
# Types Learn names by a Blackboard IRI in both styles; IMS types are short in 1.1.
_BLACKBOARD_TYPES = {
    "CourseGroupEvent",
    "ContentEvent",
    "CalculatedGradeSnapshotEvent",
    "Content",
    "CalculatedGrade",
    "UpdatedContentProperties",
}
_LEGACY_ACTIONS = {"Created": "Create", "Modified": "Update", "Deleted": "Delete"}


def at(minute: int, second: int = 0) -> str:
    return f"2021-01-05T10:{minute:02d}:{second:02d}.000Z"


def ms(minute: int, second: int = 0) -> int:
    found = parse_time_ms(at(minute, second))
    assert found is not None
    return found


def node(style: str, iri: str, caliper_type: str, **fields: Any) -> dict[str, Any]:
    """An entity in the given style: `id`/`type` (1.1) or `@id`/`@type` with full IRIs (1.0)."""
    if style == "1.1":
        sent = _BB_TYPES + caliper_type if caliper_type in _BLACKBOARD_TYPES else caliper_type
        return {"id": iri, "type": sent, **fields}
    prefix = _BB_TYPES if caliper_type in _BLACKBOARD_TYPES else _IMS_TYPES
    return {"@id": iri, "@type": prefix + caliper_type, **fields}


def caliper_event(
    style: str,
    event_type: str,
    action: str,
    minute: int,
    obj: Any,
    *,
    actor: Any = None,
    course: str = COURSE,
    second: int = 0,
    **fields: Any,
) -> dict[str, Any]:
    """An event of `course` (named by the membership, as ContentEvent does)."""
    membership = {"organization": course, "member": INSTRUCTOR}
    # 1.0 sends a full action IRI, often in the old wording (`#Create`).
    sent_action = action if style == "1.1" else _BB_ACTIONS + _LEGACY_ACTIONS.get(action, action)
    return {
        **node(style, f"urn:uuid:{event_type}-{minute}-{second}", event_type),
        "actor": actor if actor is not None else node(style, INSTRUCTOR, "Person"),
        "action": sent_action,
        "object": obj,
        "eventTime": at(minute, second),
        "membership": node(style, f"{course}/members/m1", "Membership", **membership),
        **fields,
    }


def stored(raw: dict[str, Any], position: int) -> StoredEvent:
    """The stored row for `raw`, its columns as the reader derives them."""
    read = read_item(raw, "$")
    assert isinstance(read, ReadEvent), read
    return StoredEvent(
        position=position,
        event_id=read.event_id,
        type=read.type,
        action=read.action,
        event_time_ms=read.event_time_ms,
        received_at_ms=read.event_time_ms,
        actor_id=read.actor_id,
        object_id=read.object_id,
        course_id=read.course_id,
        raw=raw,
    )
