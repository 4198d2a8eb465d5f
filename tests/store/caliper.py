"""Small hand-written Caliper 1.1 envelopes (the shape of Learn's GradeEvent), read by the
real reader, so the store is tested with the batches it is really handed."""

from __future__ import annotations

from typing import Any

from app.caliper.model import ReadBatch
from app.caliper.reader import read_body

SITE = "https://caliper-mapping.example.edu/v1/sites/site-1"
LEARN = f"{SITE}/applications/learn"
COURSE = f"{SITE}/courses/course-1"
CONTEXT = "http://purl.imsglobal.org/ctx/caliper/v1p1"


def person(user: str) -> dict[str, Any]:
    return {
        "id": f"{SITE}/users/{user}",
        "type": "Person",
        "extensions": {"bb:user.id": f"_{user}_1"},
    }


def grade_event(tag: str, n: int, *, user: str = "student-1") -> dict[str, Any]:
    """Event `n` of writer `tag`: a grade for `user` on gradable item `n` of COURSE."""
    item = f"{SITE}/gradableItems/_{n}_1"
    attempt = {
        "id": f"{item}/attempts/_{tag}_{n}_1",
        "type": "Attempt",
        "assignable": {"id": item, "type": "Assessment", "maxScore": 10},
        "assignee": person(user),
        "count": 1,
    }
    course = {
        "id": COURSE,
        "type": "CourseOffering",
        "courseNumber": "BIO-101",
        "extensions": {"bb:course.id": "_1_1"},
    }
    return {
        "@context": CONTEXT,
        "type": "GradeEvent",
        "id": f"urn:uuid:grade-{tag}-{n}",
        "actor": {"id": LEARN, "type": "SoftwareApplication"},
        "action": "Graded",
        "object": attempt,
        "generated": {
            "id": f"{attempt['id']}/score",
            "type": "Score",
            "scoreGiven": n % 11,
            "maxScore": 10,
            "attempt": attempt,
        },
        "eventTime": f"2021-01-05T10:{n // 60 % 60:02d}:{n % 60:02d}.000Z",
        "edApp": {"id": LEARN, "type": "SoftwareApplication"},
        "group": course,
        "membership": {
            "id": f"{COURSE}/members/{user}",
            "type": "Membership",
            "member": person(user),
            "organization": course,
            "roles": ["Learner"],
        },
    }


def envelope(events: list[Any]) -> dict[str, Any]:
    return {
        "sensor": f"{SITE}/sensor",
        "sendTime": "2021-01-05T11:00:00.000Z",
        "dataVersion": CONTEXT,
        "data": events,
    }


def grade_batch(tag: str, first: int, count: int) -> ReadBatch:
    """Events first..first+count-1 of writer `tag`, read from one envelope."""
    return read_body(envelope([grade_event(tag, n) for n in range(first, first + count)]))
