"""Hand-built Caliper 1.1 events for API tests."""

from __future__ import annotations

import itertools
from typing import Any

SITE = "https://caliper-mapping.cloudbb.blackboard.com/v1/sites/test-site"
_ids = itertools.count(1)


def course_node(course: str, number: str) -> dict[str, Any]:
    return {
        "id": f"{SITE}/courses/{course}",
        "type": "CourseOffering",
        "courseNumber": number,
        "extensions": {"bb:course.id": f"_{course}_1"},
    }


def person(user: str) -> dict[str, Any]:
    return {
        "id": f"{SITE}/users/{user}",
        "type": "Person",
        "extensions": {"bb:user.id": f"_{user}_1", "bb:user.externalId": f"ext-{user}"},
    }


def membership(course: str, number: str, user: str) -> dict[str, Any]:
    return {
        "id": f"{SITE}/courses/{course}/members/{user}",
        "type": "Membership",
        "member": person(user),
        "organization": course_node(course, number),
        "extensions": {"bb:course.externalId": number, "bb:course.id": f"_{course}_1"},
    }


def group_event(
    course: str,
    number: str,
    group: str,
    name: str,
    members: list[str],
    time: str,
    action: str = "Created",
) -> dict[str, Any]:
    node = {
        "id": f"{SITE}/courses/{course}/groups/{group}",
        "type": "Group",
        "extensions": {
            "bb:group.name": name,
            "bb:group.users": [{"courseMembershipId": m} for m in members],
        },
        "subOrganizationOf": course_node(course, number),
    }
    return {
        "@context": "http://purl.imsglobal.org/ctx/caliper/v1p1",
        "id": f"urn:uuid:{next(_ids):032d}",
        "type": "http://caliper.blackboard.com/caliper/v1/CourseGroupEvent",
        "actor": person("instructor"),
        "action": action,
        "object": node,
        "group": node,
        "eventTime": time,
        "membership": membership(course, number, "instructor"),
    }


def grade_event(
    course: str, number: str, item: str, attempt: str, student: str, score: float, time: str
) -> dict[str, Any]:
    return {
        "@context": "http://purl.imsglobal.org/ctx/caliper/v1p1",
        "id": f"urn:uuid:{next(_ids):032d}",
        "type": "GradeEvent",
        "actor": {"id": f"{SITE}/applications/learn", "type": "SoftwareApplication"},
        "action": "Graded",
        "object": {
            "id": f"{SITE}/gradableItems/{item}/attempts/{attempt}",
            "type": "Attempt",
            "assignee": person(student),
            "assignable": {
                "id": f"{SITE}/gradableItems/{item}",
                "type": "Assessment",
                "maxScore": 50,
            },
            "count": 1,
            "startedAtTime": time,
        },
        "generated": {
            "id": f"{SITE}/gradableItems/{item}/attempts/{attempt}/score",
            "type": "Score",
            "scoreGiven": score,
            "maxScore": 0,
            "extensions": {"bb:action.name": "instructor.grade", "bb:content.id": f"_c{item}_1"},
        },
        "eventTime": time,
        "group": course_node(course, number),
        "membership": membership(course, number, student),
    }


def envelope(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "sensor": "test-sensor",
        "sendTime": "2026-01-01T00:00:00.000Z",
        "dataVersion": "http://purl.imsglobal.org/ctx/caliper/v1p1",
        "data": events,
    }


def item_calculated_grade_event(
    course: str, number: str, item: str, student: str, score: float, version: int, time: str
) -> dict[str, Any]:
    return {
        "@context": "http://purl.imsglobal.org/ctx/caliper/v1p1",
        "id": f"urn:uuid:{next(_ids):032d}",
        "type": "http://caliper.blackboard.com/caliper/v1/CalculatedGradeSnapshotEvent",
        "actor": {"id": f"{SITE}/applications/learn", "type": "SoftwareApplication"},
        "action": "Graded",
        "object": {
            "id": f"{SITE}/gradableItems/{item}/calculatedGrade/{version}",
            "type": "http://caliper.blackboard.com/caliper/v1/CalculatedGrade",
            "itemId": item,
            "score": score,
            "scorePossible": 100.0,
            "isCourseGrade": False,
            "synVersion": version,
            "user": person(student),
            "course": course_node(course, number),
        },
        "eventTime": time,
        "membership": membership(course, number, student),
    }


def _event_head(event_type: str, action: str, actor: dict[str, Any], time: str) -> dict[str, Any]:
    return {
        "@context": "http://purl.imsglobal.org/ctx/caliper/v1p1",
        "id": f"urn:uuid:{next(_ids):032d}",
        "type": event_type,
        "actor": actor,
        "action": action,
        "eventTime": time,
    }


def with_role(membership_node: dict[str, Any], role: str | None) -> dict[str, Any]:
    if role is not None:
        membership_node["roles"] = [f"http://purl.imsglobal.org/vocab/lis/v2/membership#{role}"]
    return membership_node


def view_event(
    course: str,
    number: str,
    user: str,
    item: str,
    time: str,
    *,
    role: str | None = "Learner",
    action: str = "Viewed",
) -> dict[str, Any]:
    """`user` views content item `item` (action Viewed or NavigatedTo)."""
    return {
        **_event_head("ViewEvent", action, person(user), time),
        "object": {"id": f"{SITE}/content/{item}", "type": "Document"},
        "group": course_node(course, number),
        "membership": with_role(membership(course, number, user), role),
    }


def content_with_due_event(
    course: str, number: str, content: str, name: str, due: str, time: str
) -> dict[str, Any]:
    return {
        "@context": "http://purl.imsglobal.org/ctx/caliper/v1p1",
        "id": f"urn:uuid:{next(_ids):032d}",
        "type": "ContentEvent",
        "actor": person("instructor"),
        "action": "Created",
        "object": {
            "id": f"{SITE}/courses/{course}/content/{content}",
            "type": "DigitalResource",
            "name": name,
            "dueDate": due,
            "scorePossible": 10.0,
            "extensions": {"bb:content.id": content},
        },
        "group": course_node(course, number),
        "eventTime": time,
        "membership": membership(course, number, "instructor"),
    }


def content_event(
    course: str, number: str, item: str, name: str, time: str, action: str = "Created"
) -> dict[str, Any]:
    node = {
        "id": f"{SITE}/content/{item}",
        "type": "DigitalResource",
        "name": name,
        "handler": "resource/x-bb-document",
        "course": course_node(course, number),
    }
    return {
        **_event_head("ContentEvent", action, person("instructor"), time),
        "object": node,
        "group": course_node(course, number),
        "membership": with_role(membership(course, number, "instructor"), "Instructor"),
    }


def calculated_grade_event(
    course: str, number: str, user: str, score: float | None, version: int, time: str
) -> dict[str, Any]:
    """Learn's nightly snapshot of `user`'s course grade (isCourseGrade true)."""
    grade: dict[str, Any] = {
        "id": f"{SITE}/courses/{course}/calculatedGrade/{version}",
        "type": "Entity",
        "user": person(user),
        "itemId": "_total_1",
        "isCourseGrade": True,
        "scorePossible": 100.0,
        "syncVersion": version,
    }
    if score is not None:
        grade["score"] = score
    return {
        **_event_head(
            "CalculatedGradeSnapshotEvent",
            "Modified",
            {"id": f"{SITE}/applications/learn", "type": "SoftwareApplication"},
            time,
        ),
        "object": grade,
        "group": course_node(course, number),
        "membership": membership(course, number, user),
    }
