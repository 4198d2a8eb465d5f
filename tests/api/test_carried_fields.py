"""Course and person fields come from the latest event that carries each, however many
events came after it (also asOf): here each is sent only in the first of 100 events."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.factories import SITE, envelope
from tests.api.test_graphql_http import gql, post_events

COURSE = f"{SITE}/courses/carried"
STUDENT = f"{SITE}/users/carrie"
EVENTS = 100


def at(index: int) -> str:
    return f"2026-09-{1 + index // 24:02d}T{index % 24:02d}:00:00.000Z"


def view(index: int, *, full: bool) -> dict[str, Any]:
    """A view; only a `full` one says the course's number, name and Learn id and the
    student's user id and external id."""
    actor: dict[str, Any] = {"id": STUDENT, "type": "Person"}
    group: dict[str, Any] = {"id": COURSE, "type": "CourseOffering"}
    if full:
        actor["extensions"] = {"bb:user.id": "_carrie_1", "bb:user.externalId": "ext-carrie"}
        group.update(
            courseNumber="CARRY-101", name="Carried Fields", extensions={"bb:course.id": "_77_1"}
        )
    return {
        "@context": "http://purl.imsglobal.org/ctx/caliper/v1p1",
        "id": f"urn:uuid:carried-{index}",
        "type": "ViewEvent",
        "action": "Viewed",
        "actor": actor,
        "object": {"id": f"{SITE}/content/page-{index % 7}", "type": "Document"},
        "eventTime": at(index),
        "group": group,
    }


QUERY = """
query ($course: ID!, $student: ID!, $asOf: DateTime) {
  course(id: $course, asOf: $asOf) { courseNumber learnId name }
  person(id: $student) { userId externalId }
  courses(first: 10) { totalCount nodes { id courseNumber name } }
}
"""


async def test_fields_sent_only_in_the_first_of_100_events(client: httpx.AsyncClient) -> None:
    await post_events(client, envelope([view(i, full=i == 0) for i in range(EVENTS)]))

    for as_of in (None, at(50), at(0)):
        found = await gql(client, QUERY, course=COURSE, student=STUDENT, asOf=as_of)
        assert found["course"] == {
            "courseNumber": "CARRY-101",
            "learnId": "_77_1",
            "name": "Carried Fields",
        }, as_of
        assert found["person"] == {"userId": "_carrie_1", "externalId": "ext-carrie"}
        assert found["courses"]["totalCount"] == 1
        assert found["courses"]["nodes"] == [
            {"id": COURSE, "courseNumber": "CARRY-101", "name": "Carried Fields"}
        ]
