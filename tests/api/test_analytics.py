"""Course analytics on hand-built courses, both backends: the edge cases the contract's
"Course analytics" section defines (empty, one event, ties, asOf, no role, a deleted
item, maxScore 0 or none, even counts, bins and bucket limits, ISO weeks)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets

from app.main import create_app
from tests.api.factories import (
    SITE,
    calculated_grade_event,
    content_event,
    course_node,
    envelope,
    grade_event,
    person,
    view_event,
)
from tests.api.test_graphql_http import gql, post_events
from tests.conftest import LiveServer, make_settings

C, N = "c1", "ANA-101"
COURSE_IRI = course_node(C, N)["id"]
ITEM = f"{SITE}/gradableItems/g1"


def user_iri(user: str) -> str:
    return person(user)["id"]


async def errors_of(client: httpx.AsyncClient, query: str, **variables: Any) -> list[dict]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()["errors"]


ACTIVITY = """query($at: DateTime, $since: DateTime, $until: DateTime, $bucket: ActivityBucket) {
  course(courseNumber: "ANA-101", asOf: $at) {
    activity(since: $since, until: $until, bucket: $bucket) { start events activeUsers } } }"""
PARTICIPANTS = """query($at: DateTime, $order: ParticipantOrder, $role: String,
    $inactive: DateTime, $first: Int, $after: String) {
  course(courseNumber: "ANA-101", asOf: $at) {
    participants(orderBy: $order, role: $role, inactiveSince: $inactive, first: $first,
                 after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { person { id userId } role firstActivityAt lastActivityAt eventCount activeDays
        gradedAttempts courseGrade { score } } } } }"""
STATS = """query($bins: Int) { course(courseNumber: "ANA-101") {
  attempts(first: 1) { nodes { gradableItem { scoreStatistics {
    count mean median min max stddev histogram(bins: $bins) { from to count } } } } } } }"""
VIEWS = """query($at: DateTime) { course(courseNumber: "ANA-101", asOf: $at) {
  contentItems(includeDeleted: true) { nodes { learnId deleted
    viewStatistics { views uniqueViewers lastViewedAt } } } } }"""


async def activity(client: httpx.AsyncClient, **variables: Any) -> list[dict[str, Any]]:
    return (await gql(client, ACTIVITY, **variables))["course"]["activity"]


async def participants(client: httpx.AsyncClient, **variables: Any) -> dict[str, Any]:
    return (await gql(client, PARTICIPANTS, **variables))["course"]["participants"]


async def statistics(client: httpx.AsyncClient, bins: int = 10) -> dict[str, Any]:
    data = await gql(client, STATS, bins=bins)
    return data["course"]["attempts"]["nodes"][0]["gradableItem"]["scoreStatistics"]


def graded(attempt: str, student: str, score: float, time: str, max_score: Any = 50) -> dict:
    event = grade_event(C, N, "g1", attempt, student, score, time)
    if max_score is None:
        del event["object"]["assignable"]["maxScore"]
    else:
        event["object"]["assignable"]["maxScore"] = max_score
    return event


async def test_one_event(client: httpx.AsyncClient) -> None:
    await post_events(client, envelope([view_event(C, N, "ann", "i1", "2026-09-02T10:00:00Z")]))
    assert await activity(client) == [
        {"start": "2026-09-02T00:00:00.000Z", "events": 1, "activeUsers": 1}
    ]
    found = await participants(client)
    assert found["totalCount"] == 1
    assert found["nodes"] == [
        {
            "person": {"id": user_iri("ann"), "userId": "_ann_1"},
            "role": "Learner",
            "firstActivityAt": "2026-09-02T10:00:00.000Z",
            "lastActivityAt": "2026-09-02T10:00:00.000Z",
            "eventCount": 1,
            "activeDays": 1,
            "gradedAttempts": 0,
            "courseGrade": None,
        }
    ]


async def test_learn_alone_is_no_participant_and_no_active_user(
    client: httpx.AsyncClient,
) -> None:
    """A course whose only events Learn itself sent: counted events, nobody active."""
    await post_events(client, envelope([graded("a1", "ann", 40, "2026-09-01T08:00:00Z")]))
    assert await activity(client) == [
        {"start": "2026-09-01T00:00:00.000Z", "events": 1, "activeUsers": 0}
    ]
    assert (await participants(client))["totalCount"] == 0


async def test_activity_days_weeks_zeros_and_limits(client: httpx.AsyncClient) -> None:
    events = [
        view_event(C, N, "ann", "i1", "2026-09-06T23:59:59.999Z"),  # a Sunday
        view_event(C, N, "bob", "i1", "2026-09-07T00:00:00Z"),  # the next Monday
        view_event(C, N, "ann", "i1", "2026-09-09T12:00:00Z"),
        view_event(C, N, "ann", "i2", "2026-09-09T13:00:00Z"),
    ]
    body = envelope(events)
    await post_events(client, body)
    await post_events(client, body)  # a replay: stored once, counted once
    days = await activity(client)
    assert [(p["start"][:10], p["events"], p["activeUsers"]) for p in days] == [
        ("2026-09-06", 1, 1),
        ("2026-09-07", 1, 1),
        ("2026-09-08", 0, 0),
        ("2026-09-09", 2, 1),
    ]
    weeks = await activity(client, bucket="WEEK")
    assert weeks == [
        {"start": "2026-08-31T00:00:00.000Z", "events": 1, "activeUsers": 1},
        {"start": "2026-09-07T00:00:00.000Z", "events": 3, "activeUsers": 2},
    ]
    # since/until pick whole buckets, and reach past the course's events with zeros
    ranged = await activity(client, since="2026-09-09T18:00:00Z", until="2026-09-10T01:00:00Z")
    assert [(p["start"], p["events"]) for p in ranged] == [
        ("2026-09-09T00:00:00.000Z", 2),
        ("2026-09-10T00:00:00.000Z", 0),
    ]
    # an offset in the input is honoured: 2026-09-07T01:00+02:00 is still Sunday in UTC
    sunday = await activity(client, since="2026-09-07T01:00:00+02:00", until="2026-09-06T23:00Z")
    assert [p["start"] for p in sunday] == ["2026-09-06T00:00:00.000Z"]
    assert await activity(client, since="2026-09-09T00:00:00Z", until="2026-09-01T00:00:00Z") == []
    # asOf: only what happened by then, and the default range ends there
    assert [p["events"] for p in await activity(client, at="2026-09-07T00:00:00Z")] == [1, 1]
    errors = await errors_of(
        client, ACTIVITY, since="2000-01-01T00:00:00Z", until="2026-01-01T00:00:00Z"
    )
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "3660" in errors[0]["message"]
    fine = await activity(client, since="2016-01-01T00:00:00Z", until="2026-01-01T00:00:00Z")
    assert len(fine) == 3654
    weekly = await activity(
        client, since="2000-01-01T00:00:00Z", until="2026-01-01T00:00:00Z", bucket="WEEK"
    )
    assert weekly[0]["start"] == "1999-12-27T00:00:00.000Z"  # the Monday before


async def test_as_of_before_the_first_event(client: httpx.AsyncClient) -> None:
    await post_events(client, envelope([view_event(C, N, "ann", "i1", "2026-09-02T10:00:00Z")]))
    data = await gql(client, ACTIVITY, at="2026-09-01T00:00:00Z")
    assert data["course"] is None  # the course did not exist yet: nothing to count


async def test_participants_orders_ties_filters_and_pages(client: httpx.AsyncClient) -> None:
    same = "2026-09-10T09:00:00Z"
    events = [
        # carl, ann and bob last acted at the same instant: ties go by person id
        view_event(C, N, "carl", "i1", same),
        view_event(C, N, "ann", "i1", "2026-09-01T09:00:00Z"),
        view_event(C, N, "ann", "i1", same),
        view_event(C, N, "bob", "i1", same),
        view_event(C, N, "bob", "i1", "2026-09-02T09:00:00Z", role="Instructor"),
        view_event(C, N, "bob", "i1", "2026-09-02T10:00:00Z"),
        # dora acted without a role ever sent
        view_event(C, N, "dora", "i1", "2026-09-03T09:00:00Z", role=None),
        calculated_grade_event(C, N, "ann", 71.5, 2, "2026-09-11T02:00:00Z"),
        calculated_grade_event(C, N, "bob", 64.0, 2, "2026-09-11T02:00:00Z"),
        calculated_grade_event(C, N, "bob", 66.0, 3, "2026-09-12T02:00:00Z"),
        graded("a1", "ann", 40, "2026-09-05T08:00:00Z"),
        graded("a2", "ann", 30, "2026-09-06T08:00:00Z"),
    ]
    await post_events(client, envelope(events))
    ids = {name: user_iri(name) for name in ("ann", "bob", "carl", "dora")}

    def names(found: dict[str, Any]) -> list[str]:
        by_iri = {iri: name for name, iri in ids.items()}
        return [by_iri[n["person"]["id"]] for n in found["nodes"]]

    latest = await participants(client)
    assert names(latest) == ["ann", "bob", "carl", "dora"]
    assert names(await participants(client, order="LAST_ACTIVITY_ASC")) == [
        "dora",
        "ann",
        "bob",
        "carl",
    ]
    assert names(await participants(client, order="EVENT_COUNT_DESC")) == [
        "bob",
        "ann",
        "carl",
        "dora",
    ]
    assert names(await participants(client, order="COURSE_GRADE_ASC")) == [
        "bob",
        "ann",
        "carl",
        "dora",
    ]
    by_name = dict(zip(names(latest), latest["nodes"], strict=True))
    # bob was an Instructor once; his latest role sent says Learner (the grade
    # snapshots after it carry memberships without roles: they say nothing of it)
    assert by_name["bob"]["role"] == "Learner"
    assert by_name["dora"]["role"] is None
    assert by_name["bob"]["courseGrade"] == {"score": 66.0}
    assert (by_name["ann"]["eventCount"], by_name["ann"]["activeDays"]) == (2, 2)
    assert by_name["ann"]["gradedAttempts"] == 2
    assert by_name["carl"]["gradedAttempts"] == 0
    assert names(await participants(client, role="Learner")) == ["ann", "bob", "carl"]
    assert names(await participants(client, role="learner")) == []  # case matters
    assert names(await participants(client, inactive="2026-09-10T09:00:00Z")) == ["dora"]
    # pages of two, by cursor, add up to the whole ordering
    first = await participants(client, first=2)
    assert first["totalCount"] == 4 and first["pageInfo"]["hasNextPage"]
    rest = await participants(client, first=2, after=first["pageInfo"]["endCursor"])
    assert names(first) + names(rest) == ["ann", "bob", "carl", "dora"]
    assert not rest["pageInfo"]["hasNextPage"]
    # asOf: only what had happened; bob's role then was Instructor, no grade sent yet
    then = await participants(client, at="2026-09-02T09:30:00Z")
    assert names(then) == ["bob", "ann"]
    assert [n["role"] for n in then["nodes"]] == ["Instructor", "Learner"]
    assert [n["eventCount"] for n in then["nodes"]] == [1, 1]
    assert all(n["courseGrade"] is None for n in then["nodes"])


async def test_bad_cursor_is_bad_user_input(client: httpx.AsyncClient) -> None:
    await post_events(client, envelope([view_event(C, N, "ann", "i1", "2026-09-02T10:00:00Z")]))
    cursor = (await participants(client, first=1, order="EVENT_COUNT_DESC"))["pageInfo"]
    errors = await errors_of(client, PARTICIPANTS, after="WzEsMiwzXQ")  # [1,2,3]
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    # a cursor of another order's shape is not one this ordering gave out either
    errors = await errors_of(
        client, PARTICIPANTS, order="COURSE_GRADE_ASC", after=cursor["endCursor"]
    )
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_score_statistics_even_count_and_bins(client: httpx.AsyncClient) -> None:
    events = [
        graded("a1", "ann", 10, "2026-09-05T08:00:00Z"),
        graded("a2", "bob", 20, "2026-09-05T08:00:00Z"),
        graded("a3", "carl", 50, "2026-09-05T08:00:00Z"),
        graded("a4", "dora", 40, "2026-09-05T08:00:00Z"),
        graded("a4", "dora", 45, "2026-09-06T08:00:00Z"),  # regraded: the latest counts
    ]
    await post_events(client, envelope(events))
    stats = await statistics(client, bins=5)
    assert {k: stats[k] for k in ("count", "mean", "median", "min", "max")} == {
        "count": 4,
        "mean": 31.25,
        "median": 32.5,
        "min": 10.0,
        "max": 50.0,
    }
    assert stats["stddev"] == pytest.approx(
        ((21.25**2 + 11.25**2 + 18.75**2 + 13.75**2) / 4) ** 0.5
    )
    assert stats["histogram"] == [
        {"from": 0.0, "to": 10.0, "count": 0},
        {"from": 10.0, "to": 20.0, "count": 1},
        {"from": 20.0, "to": 30.0, "count": 1},
        {"from": 30.0, "to": 40.0, "count": 0},
        {"from": 40.0, "to": 50.0, "count": 2},  # 50 = maxScore: the last bin
    ]
    assert len((await statistics(client, bins=100))["histogram"]) == 100
    for bins in (0, 101, -3):
        errors = await errors_of(client, STATS, bins=bins)
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT", bins
        assert "between 1 and 100" in errors[0]["message"]


@pytest.mark.parametrize("max_score", [0, None])
async def test_histogram_without_a_max_score(client: httpx.AsyncClient, max_score: Any) -> None:
    events = [
        graded("a1", "ann", 3, "2026-09-05T08:00:00Z", max_score),
        graded("a2", "bob", 7, "2026-09-05T08:00:00Z", max_score),
        graded("a3", "carl", 5, "2026-09-05T08:00:00Z", max_score),
    ]
    await post_events(client, envelope(events))
    stats = await statistics(client, bins=2)
    assert stats["median"] == 5.0
    assert stats["histogram"] == [
        {"from": 3.0, "to": 5.0, "count": 1},
        {"from": 5.0, "to": 7.0, "count": 2},
    ]


async def test_one_score_without_a_max_is_one_bin(client: httpx.AsyncClient) -> None:
    await post_events(client, envelope([graded("a1", "ann", 4, "2026-09-05T08:00:00Z", 0)]))
    stats = await statistics(client, bins=10)
    assert (stats["count"], stats["stddev"]) == (1, 0.0)
    assert stats["histogram"] == [{"from": 4.0, "to": 4.0, "count": 1}]


async def test_no_scores_yet(client: httpx.AsyncClient) -> None:
    unscored = graded("a1", "ann", 4, "2026-09-05T08:00:00Z")
    del unscored["generated"]["scoreGiven"]
    await post_events(client, envelope([unscored]))
    stats = await statistics(client, bins=2)
    assert stats == {
        "count": 0,
        "mean": None,
        "median": None,
        "min": None,
        "max": None,
        "stddev": None,
        "histogram": [
            {"from": 0.0, "to": 25.0, "count": 0},
            {"from": 25.0, "to": 50.0, "count": 0},
        ],
    }


async def test_view_statistics_with_a_deleted_item(client: httpx.AsyncClient) -> None:
    events = [
        content_event(C, N, "i1", "Syllabus", "2026-09-01T08:00:00Z"),
        content_event(C, N, "i2", "Old reading", "2026-09-01T08:00:00Z"),
        content_event(C, N, "i3", "Nobody reads this", "2026-09-01T08:00:00Z"),
        view_event(C, N, "ann", "i1", "2026-09-02T08:00:00Z"),
        view_event(C, N, "ann", "i1", "2026-09-03T08:00:00Z", action="NavigatedTo"),
        view_event(C, N, "bob", "i1", "2026-09-04T08:00:00Z"),
        view_event(C, N, "bob", "i2", "2026-09-04T09:00:00Z"),
        content_event(C, N, "i2", "Old reading", "2026-09-05T08:00:00Z", action="Deleted"),
    ]
    await post_events(client, envelope(events))
    items = (await gql(client, VIEWS))["course"]["contentItems"]["nodes"]
    found = {n["learnId"]: (n["deleted"], n["viewStatistics"]) for n in items}
    assert found == {
        "i1": (False, {"views": 3, "uniqueViewers": 2, "lastViewedAt": "2026-09-04T08:00:00.000Z"}),
        "i2": (True, {"views": 1, "uniqueViewers": 1, "lastViewedAt": "2026-09-04T09:00:00.000Z"}),
        "i3": (False, {"views": 0, "uniqueViewers": 0, "lastViewedAt": None}),
    }
    earlier = (await gql(client, VIEWS, at="2026-09-03T12:00:00Z"))["course"]["contentItems"]
    i1 = next(n for n in earlier["nodes"] if n["learnId"] == "i1")
    assert i1["viewStatistics"] == {
        "views": 2,
        "uniqueViewers": 1,
        "lastViewedAt": "2026-09-03T08:00:00.000Z",
    }


async def test_answers_follow_new_events(client: httpx.AsyncClient) -> None:
    """Cached figures are stamped with the course's newest position: a new event shows."""
    await post_events(client, envelope([view_event(C, N, "ann", "i1", "2026-09-02T10:00:00Z")]))
    assert (await participants(client))["totalCount"] == 1
    assert [p["events"] for p in await activity(client)] == [1]
    await post_events(client, envelope([view_event(C, N, "bob", "i1", "2026-09-02T11:00:00Z")]))
    assert (await participants(client))["totalCount"] == 2
    assert await activity(client) == [
        {"start": "2026-09-02T00:00:00.000Z", "events": 2, "activeUsers": 2}
    ]


# --- live: a subscriber re-queries on delivery and sees the event counted ----------------


def _frame(message: str | bytes) -> dict[str, Any]:
    """A graphql-transport-ws message, sent as a text or a binary frame."""
    return dict(json.loads(message if isinstance(message, str) else message.decode("utf-8")))


async def _next_frame(socket: Any) -> dict[str, Any]:
    while True:
        frame = _frame(await asyncio.wait_for(socket.recv(), timeout=10))
        if frame["type"] == "ping":
            await socket.send(json.dumps({"type": "pong"}))
            continue
        return frame


def test_a_subscriber_sees_the_new_event_counted(database_url: str) -> None:
    with LiveServer(make_settings(database_url)) as server:
        asyncio.run(_subscribe_post_and_requery(server))


async def _subscribe_post_and_requery(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await post_events(http, envelope([view_event(C, N, "ann", "i1", "2026-09-02T10:00:00Z")]))
        before = (await gql(http, ACTIVITY))["course"]["activity"]
        assert before == [{"start": "2026-09-02T00:00:00.000Z", "events": 1, "activeUsers": 1}]
        uri = server.url.replace("http", "ws") + "/graphql"
        async with websockets.connect(uri, subprotocols=["graphql-transport-ws"]) as socket:
            await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert (await _next_frame(socket))["type"] == "connection_ack"
            subscription = {
                "query": "subscription($c: ID) { eventAppended(filter: {courseId: $c}) "
                "{ position eventTime } }",
                "variables": {"c": COURSE_IRI},
            }
            await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscription}))
            await asyncio.sleep(0.3)  # the subscription is in place before the POST
            other = view_event("c2", "OTHER-1", "zed", "i9", "2026-09-02T11:00:00Z")
            mine = view_event(C, N, "bob", "i1", "2026-09-02T12:00:00Z")
            await post_events(http, envelope([other, mine]))
            frame = await _next_frame(socket)
            assert frame["type"] == "next", frame
            assert frame["payload"]["data"]["eventAppended"]["eventTime"] == (
                "2026-09-02T12:00:00.000Z"
            )
            # On delivery, the figures already count it.
            after = (await gql(http, ACTIVITY))["course"]["activity"]
            assert after == [{"start": "2026-09-02T00:00:00.000Z", "events": 2, "activeUsers": 2}]
            found = await gql(http, PARTICIPANTS)
            people = found["course"]["participants"]
            assert people["totalCount"] == 2
            assert people["nodes"][0]["person"]["id"] == user_iri("bob")
            assert people["nodes"][0]["lastActivityAt"] == "2026-09-02T12:00:00.000Z"


async def test_score_statistics_follow_new_grades(client: httpx.AsyncClient) -> None:
    """The course's attempts are refolded incrementally: a regrade, a new attempt and an
    event of another course after the first answer all show (or stay out) correctly."""
    await post_events(
        client,
        envelope(
            [
                graded("a1", "ann", 10, "2026-09-05T08:00:00Z"),
                graded("a2", "bob", 20, "2026-09-05T08:00:00Z"),
            ]
        ),
    )
    first = await statistics(client)
    assert (first["count"], first["mean"]) == (2, 15.0)
    other = grade_event("c2", "OTHER-1", "g1", "a9", "zed", 50, "2026-09-06T08:00:00Z")
    await post_events(
        client,
        envelope(
            [
                graded("a1", "ann", 30, "2026-09-06T08:00:00Z"),  # ann regraded
                graded("a3", "carl", 40, "2026-09-06T09:00:00Z"),  # a new attempt
                other,  # the same item id in another course: not this course's attempt
            ]
        ),
    )
    after = await statistics(client)
    assert (after["count"], after["mean"], after["median"]) == (3, 30.0, 30.0)
    people = await participants(client)
    assert people["totalCount"] == 0  # Learn sent every one of these


async def test_the_limits_are_settings_and_errors_name_them(sqlite_url: str) -> None:
    app = create_app(make_settings(sqlite_url, analytics_max_buckets=4, analytics_max_bins=3))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            await post_events(
                http,
                envelope(
                    [
                        view_event(C, N, "ann", "i1", "2026-09-01T10:00:00Z"),
                        graded("a1", "ann", 10, "2026-09-05T08:00:00Z"),
                    ]
                ),
            )
            days = await errors_of(http, ACTIVITY)
            assert days[0]["extensions"]["code"] == "BAD_USER_INPUT"
            assert "COURSEGRAPH_ANALYTICS_MAX_BUCKETS" in days[0]["message"]
            assert len(await activity(http, bucket="WEEK")) == 1
            bins = await errors_of(http, STATS, bins=4)
            assert "COURSEGRAPH_ANALYTICS_MAX_BINS" in bins[0]["message"]
            assert len((await statistics(http, bins=3))["histogram"]) == 3
