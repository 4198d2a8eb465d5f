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


async def test_a_page_of_300_courses_is_summarised_at_once(
    client: httpx.AsyncClient,
) -> None:
    """Each course's summary is several branches of one compound statement: a page of
    hundreds must be split at SQLite's compound limit (500 terms)."""
    courses = 300
    events = []
    for index in range(courses):
        event = view(index, full=True)
        event["id"] = f"urn:uuid:many-{index}"
        event["group"]["id"] = f"{SITE}/courses/many-{index}"
        event["group"]["courseNumber"] = f"MANY-{index:03d}"
        event["actor"]["id"] = f"{SITE}/users/many-{index}"
        events.append(event)
    await post_events(client, envelope(events))

    found = await gql(
        client,
        "{ courses(first: 300) { totalCount nodes { courseNumber } } }",
    )
    assert found["courses"]["totalCount"] == courses
    assert [n["courseNumber"] for n in found["courses"]["nodes"]] == [
        f"MANY-{index:03d}" for index in range(courses)
    ]
    person = await gql(
        client, "query ($id: ID!) { person(id: $id) { userId } }", id=f"{SITE}/users/many-299"
    )
    assert person["person"] == {"userId": "_carrie_1"}
