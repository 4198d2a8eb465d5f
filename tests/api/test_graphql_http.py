"""GraphQL over HTTP on the documentation samples and hand-built streams: answers,
asOf, pagination to the end, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.repair import repair_text
from tests.api.factories import envelope, grade_event, group_event
from tests.conftest import INGEST_TOKEN

AUTH = {"authorization": f"Bearer {INGEST_TOKEN}"}
SITE = "https://caliper-mapping.cloudbb.blackboard.com/v1/sites"


async def post_events(client: httpx.AsyncClient, body: Any) -> dict[str, Any]:
    response = await client.post("/caliper", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()


async def gql(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


async def load_samples(client: httpx.AsyncClient, samples: Path) -> None:
    for path in sorted(samples.glob("*.json")):
        text, _, _ = repair_text(path.read_text(encoding="utf-8"))
        try:
            body = json.loads(text)
        except json.JSONDecodeError:
            continue  # split or otherwise broken blocks: the ingest tests cover them
        await post_events(client, body)


async def test_samples_project_field_by_field(client: httpx.AsyncClient, samples_dir: Path) -> None:
    await load_samples(client, samples_dir)
    data = await gql(
        client,
        """{ course(courseNumber: "NEW_EVENTTEST_001") { learnId groups { nodes { id learnId name memberIds deleted
              history { action changedFields memberIds validFrom } } } } }""",
    )
    group = data["course"]["groups"]["nodes"][0]
    assert group["name"] == "New Group 2"
    assert group["memberIds"] == ["_1126_1", "_1127_1"]
    assert group["learnId"] == "_122_1"
    assert data["course"]["learnId"] == "_687_1"
    assert group["history"] == [
        {
            "action": "Created",
            "changedFields": ["memberIds", "name"],
            "memberIds": ["_1126_1", "_1127_1"],
            "validFrom": "2017-01-31T04:06:45.458Z",
        }
    ]

    outcome = await gql(
        client,
        """{ course(courseNumber: "JOHN_TEST_002") { attempts { totalCount nodes { learnId
              gradableItem { learnId maxScore } assignee { userId externalId }
              score { scoreGiven normalScore totalScore maxScore eventType gradedAt } } } } }""",
    )
    attempts = outcome["course"]["attempts"]
    assert attempts["totalCount"] == 2
    first = attempts["nodes"][0]
    assert first["learnId"] == "_9_1"
    assert first["gradableItem"] == {"learnId": "_893_1", "maxScore": None}
    assert first["assignee"] == {"userId": "_8510_1", "externalId": "123-456-789-123"}
    assert first["score"]["eventType"] == "OutcomeEvent"
    assert first["score"]["gradedAt"] == "2015-12-10T21:06:28.707Z"

    grade = await gql(
        client,
        f"""{{ course(id: "{SITE}/54b54b42-dd02-42f8-88ed-07bd719bfb7c/courses/6d0140f42843472da7e3ecd150908fa3")
              {{ attempts {{ nodes {{ score {{ scoreGiven maxScore actionName eventType }}
              gradableItem {{ maxScore maxAttempts dateToSubmit }} count startedAt }} }} }} }}""",
    )
    node = grade["course"]["attempts"]["nodes"][0]
    assert node["score"] == {
        "scoreGiven": 39.45205,
        "maxScore": 0.0,
        "actionName": "instructor.grade.history.event.attempt.grade",
        "eventType": "GradeEvent",
    }
    assert node["gradableItem"] == {
        "maxScore": 160.0,
        "maxAttempts": 0,
        "dateToSubmit": "2021-01-04T12:57:55.941Z",
    }
    assert node["count"] == 1 and node["startedAt"] == "2021-01-04T12:57:55.941Z"

    calculated = await gql(
        client,
        """{ course(courseNumber: "CS-101") { calculatedGrades { nodes { id itemId score scorePossible
              isCourseGrade synVersion calculatedAt user { userId externalId } history { synVersion score } } } } }""",
    )
    snapshot = calculated["course"]["calculatedGrades"]["nodes"][0]
    assert snapshot["itemId"] == "_1360_1"
    assert snapshot["score"] is None and snapshot["scorePossible"] == 0.0
    assert snapshot["isCourseGrade"] is True and snapshot["synVersion"] == 156525
    assert snapshot["user"] == {"userId": "_8510_1", "externalId": "tbrady"}
    assert snapshot["id"].endswith(
        "|_1360_1|"
        + f"{SITE}/b56c1e20-78eb-4a50-941e-9658d93464ae/users/1ea8c4bd28424309a0ef5c04298af019"
    )


async def test_course_by_number_picks_most_recent_and_courses_lists_all(
    client: httpx.AsyncClient, samples_dir: Path
) -> None:
    await load_samples(client, samples_dir)
    data = await gql(
        client, '{ courses(courseNumber: "BIO-101") { totalCount nodes { id courseNumber } } }'
    )
    assert data["courses"]["totalCount"] >= 7
    assert {n["courseNumber"] for n in data["courses"]["nodes"]} == {"BIO-101"}
    ids = [n["id"] for n in data["courses"]["nodes"]]
    assert ids == sorted(ids)
    picked = await gql(
        client, '{ course(courseNumber: "BIO-101") { id contentItems { nodes { name } } } }'
    )
    # AssignableEvent-6 (2021-01-05T14:51:14.512Z) is the newest event of any BIO-101 course.
    assert picked["course"]["id"].endswith("/courses/22fb6a3e811f4bad8a418dcb2caa0a85")


async def test_event_raw_is_the_event_as_sent(client: httpx.AsyncClient, samples_dir: Path) -> None:
    sent = json.loads((samples_dir / "GradeEvent-1.json").read_text())
    await post_events(client, sent)
    data = await gql(
        client,
        '{ events(filter: {type: "GradeEvent"}) { totalCount nodes { type action raw eventTime } } }',
    )
    assert data["events"]["totalCount"] == 1
    node = data["events"]["nodes"][0]
    assert node["raw"] == sent["data"][0]
    assert list(node["raw"]) == list(sent["data"][0])  # key order kept
    assert node["eventTime"] == "2021-01-04T12:59:47.248Z"


async def test_as_of_and_history(client: httpx.AsyncClient) -> None:
    course, number = "asof", "ASOF-101"
    group = "_g1_1"
    await post_events(
        client,
        envelope(
            [
                group_event(course, number, group, "Team A", ["_1_1"], "2026-01-01T10:00:00.000Z"),
                group_event(
                    course,
                    number,
                    group,
                    "Team B",
                    ["_1_1", "_2_1"],
                    "2026-01-03T10:00:00.000Z",
                    "Modified",
                ),
                group_event(
                    course,
                    number,
                    group,
                    "Team B",
                    ["_1_1", "_2_1"],
                    "2026-01-05T10:00:00.000Z",
                    "Deleted",
                ),
            ]
        ),
    )
    query = """query($at: DateTime) { course(courseNumber: "ASOF-101", asOf: $at) {
        groups(includeDeleted: true) { nodes { name memberIds deleted history { action changedFields } } }
        visible: groups { totalCount } } }"""
    at_start = await gql(client, query, at="2026-01-02T00:00:00+02:00")
    assert at_start["course"]["groups"]["nodes"][0]["name"] == "Team A"
    assert at_start["course"]["visible"]["totalCount"] == 1
    between = await gql(client, query, at="2026-01-04T00:00:00Z")
    assert between["course"]["groups"]["nodes"][0]["memberIds"] == ["_1_1", "_2_1"]
    now = await gql(client, query, at=None)
    node = now["course"]["groups"]["nodes"][0]
    assert node["deleted"] is True and now["course"]["visible"]["totalCount"] == 0
    assert [v["changedFields"] for v in node["history"]] == [
        ["memberIds", "name"],
        ["memberIds", "name"],
        ["deleted"],
    ]
    before = await gql(client, query, at="2025-12-31T00:00:00Z")
    assert before["course"] is None


async def test_pagination_to_the_end(client: httpx.AsyncClient) -> None:
    events = [
        grade_event(
            "pages",
            "PAGE-101",
            "_i1_1",
            f"_p{i}_1",
            f"s{i}",
            float(i),
            f"2026-03-{1 + i % 28:02d}T10:00:00.000Z",
        )
        for i in range(57)
    ]
    await post_events(client, envelope(events))
    seen: list[str] = []
    after = None
    while True:
        data = await gql(
            client,
            """query($after: String) { course(courseNumber: "PAGE-101") { attempts(first: 10, after: $after) {
                totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } } }""",
            after=after,
        )
        page = data["course"]["attempts"]
        assert page["totalCount"] == 57
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == 57 == len(set(seen))
    log: list[int] = []
    after = None
    while True:
        data = await gql(
            client,
            """query($after: String) { events(first: 20, after: $after) { totalCount
                pageInfo { hasNextPage endCursor } nodes { position } } }""",
            after=after,
        )
        log += [n["position"] for n in data["events"]["nodes"]]
        if not data["events"]["pageInfo"]["hasNextPage"]:
            break
        after = data["events"]["pageInfo"]["endCursor"]
    assert log == list(range(1, 58)) and data["events"]["totalCount"] == 57


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ events(first: 5000) { totalCount } }", "between 0 and 1000"),
        ('{ events(after: "nonsense!") { totalCount } }', "not a cursor"),
        ('{ events(filter: {since: "yesterday"}) { totalCount } }', "ISO-8601"),
        ("{ course { id } }", "give `id` or `courseNumber`"),
        ("{ courses { nodes { nope } } }", "nope"),
    ],
)
async def test_errors_say_what_is_wrong(
    client: httpx.AsyncClient, query: str, message: str
) -> None:
    response = await client.post("/graphql", json={"query": query})
    body = response.json()
    assert body["errors"], body
    assert message in body["errors"][0]["message"]


async def test_unknown_course_is_null_and_get_works(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql", params={"query": '{ course(courseNumber: "NOPE") { id } }'}
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"course": None}}


async def test_raw_keeps_integers_beyond_64_bits(client: httpx.AsyncClient) -> None:
    event = grade_event("big", "BIG-101", "_i1_1", "_b1_1", "s1", 1.0, "2026-05-01T10:00:00.000Z")
    event["extensions"] = {"bb:sequence": 123456789012345678901234567890, "ratio": 0.1}
    response = await client.post(
        "/caliper",
        content=json.dumps(envelope([event])),
        headers={**AUTH, "content-type": "application/json"},
    )
    assert response.json()["appended"] == 1
    answer = await client.post("/graphql", json={"query": "{ events { nodes { raw } } }"})
    raw = json.loads(answer.text)["data"]["events"]["nodes"][0]["raw"]
    assert raw["extensions"]["bb:sequence"] == 123456789012345678901234567890
    assert raw == event


async def test_answers_follow_new_events_despite_caches(client: httpx.AsyncClient) -> None:
    query = '{ course(courseNumber: "CACHE-101") { groups { nodes { name } } } }'
    await post_events(
        client,
        envelope(
            [group_event("cache", "CACHE-101", "_g1_1", "Before", [], "2026-01-01T10:00:00.000Z")]
        ),
    )
    assert (await gql(client, query))["course"]["groups"]["nodes"] == [{"name": "Before"}]
    assert (await gql(client, query))["course"]["groups"]["nodes"] == [{"name": "Before"}]
    await post_events(
        client,
        envelope(
            [
                group_event(
                    "cache",
                    "CACHE-101",
                    "_g1_1",
                    "After",
                    [],
                    "2026-01-02T10:00:00.000Z",
                    "Modified",
                )
            ]
        ),
    )
    assert (await gql(client, query))["course"]["groups"]["nodes"] == [{"name": "After"}]


async def test_appends_elsewhere_keep_answers_and_own_appends_change_them(
    client: httpx.AsyncClient,
) -> None:
    query = '{ course(courseNumber: "KEEP-101") { groups { nodes { name memberIds } } } }'
    await post_events(
        client,
        envelope(
            [group_event("keep", "KEEP-101", "_k1_1", "Kept", ["_1_1"], "2026-01-01T10:00:00.000Z")]
        ),
    )
    assert (await gql(client, query))["course"]["groups"]["nodes"] == [
        {"name": "Kept", "memberIds": ["_1_1"]}
    ]
    await post_events(
        client,
        envelope(
            [group_event("other", "OTHER-101", "_o1_1", "Other", [], "2026-01-02T10:00:00.000Z")]
        ),
    )
    assert (await gql(client, query))["course"]["groups"]["nodes"] == [
        {"name": "Kept", "memberIds": ["_1_1"]}
    ]
    # A new group of the course, arriving with an older eventTime, still shows up.
    await post_events(
        client,
        envelope(
            [group_event("keep", "KEEP-101", "_k2_1", "Early", [], "2025-12-01T10:00:00.000Z")]
        ),
    )
    names = [n["name"] for n in (await gql(client, query))["course"]["groups"]["nodes"]]
    assert names == ["Early", "Kept"]
