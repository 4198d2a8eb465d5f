"""No event can break a query (issue 8): each poison is a rejected item at ingest (the
rest of its request stored), and an event stored before those checks that still cannot
be folded costs only its own entity, over real HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import os
from typing import Any

import httpx
import pytest

from app.caliper.canonical import dumps, loads
from app.caliper.model import ReadBatch, ReadEvent
from app.caliper.reader import read_item
from store.append import append_batch
from store.db import Store
from tests.api.factories import (
    SITE,
    content_with_due_event,
    envelope,
    grade_event,
    group_event,
    item_calculated_grade_event,
)
from tests.conftest import INGEST_TOKEN, LiveServer, make_settings, run_cli

AUTH = {"authorization": f"Bearer {INGEST_TOKEN}", "content-type": "application/json"}
COURSES = {"p1": "POI-101", "p2": "POI-102", "p3": "POI-103"}
T1 = "2026-02-01T10:00:00.000Z"
T2 = "2026-02-02T10:00:00.000Z"
FAR_FUTURE = "9999-12-31T23:59:59.999-01:00"  # past year 9999 in UTC
SHOWN_FAR_FUTURE = "+010000-01-01T00:59:59.999Z"


def semester() -> list[dict[str, Any]]:
    """Each course: a group, a content item, an attempt with its grade, a calculated grade."""
    events = []
    for course, number in COURSES.items():
        events += [
            group_event(course, number, f"{course}g", "Team", ["m1", "m2"], T1),
            content_with_due_event(course, number, f"{course}c", "Week 1", T2, T1),
            grade_event(course, number, f"{course}i", f"{course}a", "s1", 7.0, T2),
            item_calculated_grade_event(course, number, f"{course}i", "s1", 70.0, 1000, T2),
        ]
    return events


def deep(levels: int) -> Any:
    value: Any = "m1"
    for _ in range(levels):
        value = [value]
    return value


def incompressible(size: int) -> str:
    return base64.b64encode(os.urandom(size)).decode()[:size]


# --- poisons sent today: each is a rejected item, the rest is stored ----------------------

# (name, event in course p1, what the rejection says). Texts the JSON of a Python value
# cannot spell (5,000 digits, lone surrogates) are spliced in as text.
FIVE_THOUSAND_DIGITS = "5" * 5000


def sent_poisons() -> list[tuple[str, dict[str, Any] | str, str]]:
    grade = grade_event("p1", "POI-101", "p1x", "p1x1", "s2", 1.0, T2)
    big_score = grade_event("p1", "POI-101", "p1x", "p1x2", "s2", 1.0, T2)
    big_score["generated"]["scoreGiven"] = 10**400
    far = grade_event("p1", "POI-101", "p1x", "p1x3", "s2", 1.0, FAR_FUTURE)
    nested = group_event("p1", "POI-101", "p1gx", "Deep", [], T1)
    nested["object"]["extensions"]["bb:group.users"] = deep(100)
    version = item_calculated_grade_event("p1", "POI-101", "p1x", "s2", 1.0, 1, T2)
    version["object"]["synVersion"] = 1e300
    nul = grade_event("p1", "POI-101", "p1x", "p1x4", "s2", 1.0, T2)
    nul["actor"]["id"] = f"{SITE}/applications/le\x00arn"
    long_id = grade_event("p1", "POI-101", "p1x", incompressible(3000), "s2", 1.0, T2)
    due = content_with_due_event("p1", "POI-101", "p1cx", "Far", FAR_FUTURE, T1)
    started = grade_event("p1", "POI-101", "p1x", "p1x5", "s2", 1.0, T2)
    started["object"]["startedAtTime"] = "0001-01-01T00:00:00+01:00"
    huge_text = dumps(grade).decode().replace('"count":1', f'"count":{FIVE_THOUSAND_DIGITS}')
    surrogate = dumps(grade).decode().replace('"Graded"', '"Gra\\ud800ded"')
    return [
        ("401-digit score", big_score, "`generated.scoreGiven`: the number of 401 digits"),
        ("eventTime past 9999", far, "`eventTime`: the instant '9999-12-31T23:59:59.999-01:00'"),
        ("nested bb:group.users", nested, "is nested more than 64 levels deep"),
        ("synVersion 1e300", version, "`object.synVersion`: the integer of 301 digits"),
        ("NUL in an id", nul, "`actor.id` holds a NUL character"),
        ("3 KB incompressible id", long_id, "the object's id is 3,"),
        ("dueDate past 9999", due, "`object.dueDate`: the instant"),
        ("startedAtTime before year 1", started, "`object.startedAtTime`: the instant"),
        ("5,000-digit number", huge_text, "`object.count` is a number of 5,000 characters"),
        ("lone surrogate", surrogate, "`action` holds a lone UTF-16 surrogate"),
    ]


def body_of(items: list[dict[str, Any] | str]) -> bytes:
    texts = [item if isinstance(item, str) else dumps(item).decode() for item in items]
    head = dumps({**envelope([]), "data": []}).decode()[: -len("[]}")]
    return (head + "[" + ",".join(texts) + "]}").encode()


def graphql(http: httpx.Client, document: str, **variables: Any) -> dict[str, Any]:
    response = http.post("/graphql", json={"query": document, "variables": variables})
    assert response.status_code == 200, response.text
    return loads(response.content)  # exactly: the rejected items hold 5,000 digits


COURSE_QUERY = """
query ($id: ID!) {
  course(id: $id) {
    courseNumber
    groups { nodes { id name memberIds } }
    contentItems { nodes { id name dueDate } }
    attempts { nodes { id count startedAt score { scoreGiven gradedAt } gradableItem { id maxScore } } }
    calculatedGrades { nodes { id synVersion score calculatedAt } }
    events(first: 50) { nodes { position eventTime } }
  }
}"""


def course_iri(course: str) -> str:
    return f"{SITE}/courses/{course}"


def assert_course_whole(answer: dict[str, Any], course: str) -> None:
    """The course's own four entities, each of them, with their values."""
    found = answer["data"]["course"]
    assert found["courseNumber"] == COURSES[course]
    groups = {g["id"]: g for g in found["groups"]["nodes"]}
    team = groups[f"{course_iri(course)}/groups/{course}g"]
    assert (team["name"], team["memberIds"]) == ("Team", ["m1", "m2"])
    assert [c["dueDate"] for c in found["contentItems"]["nodes"]] == [T2]
    [attempt] = [a for a in found["attempts"]["nodes"] if a["id"].endswith(f"/{course}a")]
    assert attempt["score"]["scoreGiven"] == 7.0
    assert attempt["gradableItem"]["maxScore"] == 50.0
    assert [(g["synVersion"], g["score"]) for g in found["calculatedGrades"]["nodes"]] == [
        (1000, 70.0)
    ]


def test_each_poison_is_a_rejected_item_and_the_rest_is_stored(database_url: str) -> None:
    poisons = sent_poisons()
    good = semester()
    items: list[dict[str, Any] | str] = [poison for _, poison, _ in poisons] + good
    with (
        LiveServer(make_settings(database_url)) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        response = http.post("/caliper", content=body_of(items), headers=AUTH)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["appended"] == len(good)
        assert [r["path"] for r in answer["rejected"]] == [
            f"$.data[{index}]" for index in range(len(poisons))
        ]
        for (name, _, reason), rejected in zip(poisons, answer["rejected"], strict=True):
            assert reason in rejected["reason"], (name, rejected["reason"])

        for course in COURSES:
            found = graphql(http, COURSE_QUERY, id=course_iri(course))
            assert "errors" not in found, found["errors"]
            assert_course_whole(found, course)

        # Kept verbatim: the NUL as its escape, the 5,000 digits and the surrogate as sent.
        stored = graphql(http, "{ rejectedItems { nodes { path reason raw } } }")
        assert "errors" not in stored
        raws = {item["path"]: item["raw"] for item in stored["data"]["rejectedItems"]["nodes"]}
        names = [name for name, _, _ in poisons]
        assert raws[f"$.data[{names.index('NUL in an id')}]"]["actor"]["id"].endswith("le\x00arn")
        long_index = names.index("3 KB incompressible id")
        long_event = poisons[long_index][1]
        assert isinstance(long_event, dict)
        assert raws[f"$.data[{long_index}]"]["object"]["id"] == long_event["object"]["id"]
        text = http.post(
            "/graphql", json={"query": "{ rejectedItems(first: 100) { nodes { raw } } }"}
        ).text
        assert FIVE_THOUSAND_DIGITS in text
        assert "Gra\\ud800ded" in text

        # Sent again: the rejected items are not stored twice, the events are duplicates.
        again = http.post("/caliper", content=body_of(items), headers=AUTH).json()
        assert (again["appended"], again["duplicates"]) == (0, len(good))
        count = graphql(http, "{ rejectedItems { totalCount } }")
        assert count["data"]["rejectedItems"]["totalCount"] == len(poisons)


def test_the_long_id_is_rejected_for_its_length_alone(database_url: str) -> None:
    """A 3 KB id that compresses well is refused the same way: the bound is on bytes."""
    event = grade_event("p1", "POI-101", "p1x", "a" * 3000, "s2", 1.0, T2)
    with (
        LiveServer(make_settings(database_url)) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        answer = http.post("/caliper", content=body_of([event]), headers=AUTH).json()
    assert answer["appended"] == 0
    [rejected] = answer["rejected"]
    assert "must stay within 2,048 bytes" in rejected["reason"]


# --- events stored before the checks: only their own entity is affected ----------------------


def pre_fix_poisons() -> list[dict[str, Any]]:
    """Events the reader used to accept, which a fold or an answer cannot use."""
    big_score = grade_event("p1", "POI-101", "p1i", "p1bad", "s2", 1.0, T2)
    big_score["generated"]["scoreGiven"] = 10**400
    far = grade_event("p1", "POI-101", "p1i", "p1far", "s3", 2.0, FAR_FUTURE)
    far["object"]["startedAtTime"] = T2  # only the eventTime lies past 9999
    version = item_calculated_grade_event("p1", "POI-101", "p1i", "s2", 1.0, 1, T2)
    version["object"]["synVersion"] = 1e300
    due = content_with_due_event("p1", "POI-101", "p1cbad", "Far", FAR_FUTURE, T1)
    text_score = grade_event("p2", "POI-102", "p2i", "p2bad", "s2", 1.0, T2)
    text_score["generated"]["scoreGiven"] = "1e400"
    item = grade_event("p3", "POI-103", "p3bad", "p3a2", "s2", 3.0, T2)
    item["object"]["assignable"]["maxScore"] = 10**400
    nested = group_event("p1", "POI-101", "p1gdeep", "Deep", [], T1)
    nested["object"]["extensions"]["bb:group.users"] = "[" * 5000 + "]" * 5000
    return [big_score, far, version, due, text_score, item, nested]


async def store_unchecked(store: Store, events: list[dict[str, Any]]) -> None:
    """Through the store's own append path, as the reader before these checks read them."""
    batch = ReadBatch()
    for index, raw in enumerate(events):
        read = read_item(raw, f"$[{index}]", checked=False)
        assert isinstance(read, ReadEvent), read
        batch.events.append(read)
    await append_batch(store, batch, source="test (before the checks)")


def error_entities(answer: dict[str, Any]) -> list[str]:
    errors = answer.get("errors", [])
    assert all(e.get("extensions", {}).get("code") == "INTERNAL_SERVER_ERROR" for e in errors), (
        errors
    )
    # The request id ties the answer to the one log line with the traceback.
    assert all(len(e["extensions"]["requestId"]) == 16 for e in errors), errors
    return sorted(e["extensions"]["entity"] for e in errors)


async def test_an_event_stored_before_the_checks_costs_only_its_entity(
    store: Store, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await store_unchecked(store, semester() + pre_fix_poisons())
    attempt = f"{SITE}/gradableItems/p1i/attempts/p1bad"
    grade = f"{course_iri('p1')}|p1i|{SITE}/users/s2"
    content = f"{course_iri('p1')}/content/p1cbad"
    text_attempt = f"{SITE}/gradableItems/p2i/attempts/p2bad"
    gradable = f"{SITE}/gradableItems/p3bad"
    expected = {
        "p1": sorted([attempt, grade, content]),
        "p2": [text_attempt],
        "p3": [gradable],
    }
    with (
        LiveServer(make_settings(database_url)) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        for _ in range(2):  # folded, then from the cache: the error is reported each time
            for course in COURSES:
                answer = graphql(http, COURSE_QUERY, id=course_iri(course))
                assert error_entities(answer) == expected[course], answer.get("errors")
                assert_course_whole(answer, course)
                found = answer["data"]["course"]
                if course == "p1":
                    # Members sent as JSON text nested 5,000 deep say nothing: it answers.
                    deep_group = f"{course_iri('p1')}/groups/p1gdeep"
                    [group] = [g for g in found["groups"]["nodes"] if g["id"] == deep_group]
                    assert (group["name"], group["memberIds"]) == ("Deep", [])
                    # The attempt graded past year 9999 answers, its instant in expanded form.
                    [far] = [a for a in found["attempts"]["nodes"] if a["id"].endswith("/p1far")]
                    assert far["score"]["gradedAt"] == SHOWN_FAR_FUTURE
                    times = [e["eventTime"] for e in found["events"]["nodes"]]
                    assert SHOWN_FAR_FUTURE in times and T1 in times
                if course == "p3":
                    [bad] = [a for a in found["attempts"]["nodes"] if a["id"].endswith("/p3a2")]
                    # Its gradable item cannot be read: what the attempt's IRI says of it.
                    assert bad["gradableItem"] == {"id": gradable, "maxScore": None}

        every = graphql(http, "{ courses { nodes { courseNumber } } }")
        assert "errors" not in every
        assert [c["courseNumber"] for c in every["data"]["courses"]["nodes"]] == list(
            COURSES.values()
        )
        whole = graphql(
            http,
            "query ($id: ID!) { course(id: $id) { attempts { nodes { id } } } }",
            id=course_iri("p1"),
        )
        assert error_entities(whole) == [attempt]

        # Incremental pulls go past the far-future event, two at a time.
        positions: list[int] = []
        after = None
        while True:
            page = graphql(
                http,
                "query ($after: String) { events(first: 2, after: $after) "
                "{ nodes { position eventTime } pageInfo { hasNextPage endCursor } } }",
                after=after,
            )
            assert "errors" not in page
            events = page["data"]["events"]
            positions += [node["position"] for node in events["nodes"]]
            if not events["pageInfo"]["hasNextPage"]:
                break
            after = events["pageInfo"]["endCursor"]
        total = len(semester()) + len(pre_fix_poisons())
        assert positions == list(range(1, total + 1))
        pulled = graphql(
            http,
            "query ($p: Int) { events(filter: { afterPosition: $p }) { nodes { position } } }",
            p=total - 2,
        )
        assert [n["position"] for n in pulled["data"]["events"]["nodes"]] == [total - 1, total]

    # Each fold failure was logged with its traceback, once per entity (then cached).
    failures = [r for r in caplog.records if "cannot be folded" in r.getMessage()]
    assert failures and all(r.exc_info for r in failures)
    assert len({r.getMessage() for r in failures}) == len(failures)

    verified = run_cli("verify", database_url=database_url)
    assert verified.returncode == 0, verified.stderr
    assert "verify: OK" in verified.stdout
    assert f"{len(pre_fix_poisons())} stored events hold values ingest now rejects" in (
        verified.stderr
    )
    assert "`generated.scoreGiven`: the number of 401 digits" in verified.stderr


def test_ingest_rejects_each_poison_with_its_line(database_url: str, tmp_path: Any) -> None:
    path = tmp_path / "events.jsonl"
    poisons = sent_poisons()
    lines = [
        poison if isinstance(poison, str) else dumps(poison).decode() for _, poison, _ in poisons
    ]
    good = semester()
    lines += [dumps(event).decode() for event in good]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_cli("ingest", str(path), database_url=database_url)
    assert result.returncode == 1, result.stderr  # some items were rejected
    output = result.stdout + result.stderr
    lines_out = output.splitlines()
    for line, (name, _, reason) in enumerate(poisons, start=1):
        [said] = [text for text in lines_out if f"events.jsonl:{line}: $: " in text]
        assert reason in said, name
    assert f"appended {len(good)}, duplicates 0, conflicts 0, rejected {len(poisons)}" in output
