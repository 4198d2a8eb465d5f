"""The realistic semester from seed/ (both Caliper styles, edits and deletions, regrades
in both forms, calculated-grade snapshots sharing an instant, shuffled arrival,
replayed envelopes, reused ids), half POSTed to /caliper and half through
`coursegraph ingest`, then read back over HTTP and compared with what the generator
meant to happen — its own ground truth, never the projection code."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from seed.generator import SEMESTER_START, envelopes_to_jsonl
from seed.loader import demo_truth, iter_demo_envelopes
from seed.truth import (
    GroundTruth,
    activity_of,
    format_instant,
    participants_of,
    score_statistics_of,
    views_of,
)
from tests.conftest import (
    BACKENDS,
    INGEST_TOKEN,
    LiveServer,
    _create_postgres_database,
    _drop_postgres_database,
    make_settings,
    postgres_base_url,
    run_cli,
)

DAY_MS = 86_400_000
MID_SEMESTER = SEMESTER_START + 45 * DAY_MS + 3_600_000


class Api:
    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def query(self, document: str, **variables: Any) -> dict[str, Any]:
        response = self.http.post("/graphql", json={"query": document, "variables": variables})
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def all_pages(self, document: str, path: list[str], **variables: Any) -> list[dict[str, Any]]:
        """Every node of a connection, page by page; totalCount must equal what was seen."""
        nodes: list[dict[str, Any]] = []
        after = None
        while True:
            data = self.query(document, after=after, **variables)
            for key in path:
                data = data[key]
            nodes += data["nodes"]
            if not data["pageInfo"]["hasNextPage"]:
                assert data["totalCount"] == len(nodes)
                return nodes
            after = data["pageInfo"]["endCursor"]


def _load(server: LiveServer, database_url: str, tmp: Path) -> None:
    envelopes = list(iter_demo_envelopes())
    half = len(envelopes) // 2
    with httpx.Client(base_url=server.url, timeout=60) as http:
        for start in range(0, half, 400):
            answer = http.post(
                "/caliper",
                json=envelopes[start : min(start + 400, half)],
                headers={"authorization": f"Bearer {INGEST_TOKEN}"},
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["rejected"] == []
    dump = tmp / "nightly.jsonl.gz"
    dump.write_bytes(gzip.compress(envelopes_to_jsonl(envelopes[half:])))
    done = run_cli("ingest", str(dump), database_url=database_url)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module", params=BACKENDS)
def semester(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Api, GroundTruth]]:
    tmp = tmp_path_factory.mktemp("semester")
    base = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'semester.db'}"
    else:
        base = postgres_base_url()
        url = asyncio.run(_create_postgres_database(base))
    try:
        with LiveServer(make_settings(url)) as server:
            _load(server, url, tmp)
            with httpx.Client(base_url=server.url, timeout=60) as http:
                yield Api(http), demo_truth()
    finally:
        if base is not None:
            asyncio.run(_drop_postgres_database(base, url))


COURSE = """query($id: ID!, $at: DateTime) { course(id: $id, asOf: $at) { id courseNumber learnId name } }"""
GROUPS = """query($id: ID!, $at: DateTime, $after: String) { course(id: $id, asOf: $at) {
  groups(includeDeleted: true, first: 7, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    nodes { id learnId name memberIds deleted createdAt updatedAt
      history { validFrom action changedFields name memberIds deleted } } } } }"""
CONTENT = """query($id: ID!, $at: DateTime, $after: String) { course(id: $id, asOf: $at) {
  contentItems(includeDeleted: true, first: 40, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    nodes { id learnId deleted createdAt updatedAt name description handler renderType isFolder isLesson
      isGroupContent dataVersion scorePossible dueDate aggregationModel
      history { validFrom action changedFields deleted } } } } }"""
ATTEMPTS = """query($id: ID!, $after: String) { course(id: $id) {
  attempts(first: 300, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    nodes { id learnId count startedAt assignee { id userId externalId }
      gradableItem { id learnId maxScore maxAttempts dateToSubmit contentItem { id } }
      score { scoreGiven maxScore normalScore totalScore eventType gradedAt actionName comment }
      history { scoreGiven gradedAt eventType } } } } }"""
GRADES = """query($id: ID!, $after: String) { course(id: $id) {
  calculatedGrades(first: 250, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    nodes { id itemId isCourseGrade score scorePossible synVersion calculatedAt user { id userId externalId }
      history { synVersion score calculatedAt } } } } }"""


def _check_courses(api: Api, truth: GroundTruth, at: str | None) -> None:
    for iri, course in truth.courses.items():
        got = api.query(COURSE, id=iri, at=at)["course"]
        assert got == {
            "id": iri,
            "courseNumber": course.course_number,
            "learnId": course.learn_id,
            "name": course.name,
        }


def _check_groups(api: Api, truth: GroundTruth, at: str | None) -> int:
    checked = 0
    for iri in truth.courses:
        nodes = api.all_pages(GROUPS, ["course", "groups"], id=iri, at=at)
        expected = {g.iri: g for g in truth.groups_of(iri)}
        assert {n["id"] for n in nodes} == set(expected)
        for node in nodes:
            group = expected[node["id"]]
            assert (node["name"], node["memberIds"], node["deleted"]) == (
                group.name,
                group.member_ids,
                group.deleted,
            ), node["id"]
            assert node["learnId"] == group.learn_id
            assert node["createdAt"] == format_instant(group.created_at_ms)
            assert node["updatedAt"] == format_instant(group.updated_at_ms)
            assert [
                (
                    v["validFrom"],
                    v["action"],
                    v["changedFields"],
                    v["name"],
                    v["memberIds"],
                    v["deleted"],
                )
                for v in node["history"]
            ] == [
                (
                    format_instant(v.valid_from_ms),
                    v.action,
                    v.changed_fields,
                    v.name,
                    v.member_ids,
                    v.deleted,
                )
                for v in group.history
            ], node["id"]
            checked += 1
    return checked


def _check_content(api: Api, truth: GroundTruth, at: str | None) -> int:
    checked = 0
    for iri in truth.courses:
        nodes = api.all_pages(CONTENT, ["course", "contentItems"], id=iri, at=at)
        expected = {c.iri: c for c in truth.content_items_of(iri)}
        assert {n["id"] for n in nodes} == set(expected)
        for node in nodes:
            item = expected[node["id"]]
            assert node["deleted"] == item.deleted and node["learnId"] == item.learn_id
            for field, value in item.fields.items():
                assert node[field] == value, (node["id"], field)
            assert [
                (v["validFrom"], v["action"], v["changedFields"], v["deleted"])
                for v in node["history"]
            ] == [
                (format_instant(v.valid_from_ms), v.action, v.changed_fields, v.deleted)
                for v in item.history
            ], node["id"]
            checked += 1
    return checked


def test_courses(semester: tuple[Api, GroundTruth]) -> None:
    api, truth = semester
    _check_courses(api, truth, None)
    listed = api.all_pages(
        """query($after: String) { courses(first: 4, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id courseNumber } } }""",
        ["courses"],
    )
    assert [n["courseNumber"] for n in listed] == sorted(
        c.course_number for c in truth.courses.values()
    )


def test_groups_with_history(semester: tuple[Api, GroundTruth]) -> None:
    api, truth = semester
    assert _check_groups(api, truth, None) == len(truth.groups)


def test_content_items_with_history(semester: tuple[Api, GroundTruth]) -> None:
    api, truth = semester
    assert _check_content(api, truth, None) == len(truth.content_items)


def test_as_of_mid_semester(semester: tuple[Api, GroundTruth]) -> None:
    api, truth = semester
    then = truth.as_of(MID_SEMESTER)
    at = format_instant(MID_SEMESTER)
    assert _check_groups(api, then, at) == len(then.groups)
    assert _check_content(api, then, at) == len(then.content_items)
    assert then.groups != truth.groups or then.content_items != truth.content_items


def test_attempts_and_scores(semester: tuple[Api, GroundTruth]) -> None:
    api, truth = semester
    seen = 0
    for iri in truth.courses:
        nodes = api.all_pages(ATTEMPTS, ["course", "attempts"], id=iri)
        expected = {a.iri: a for a in truth.attempts_of(iri)}
        assert {n["id"] for n in nodes} == set(expected)
        for node in nodes:
            attempt = expected[node["id"]]
            item = truth.gradable_items[attempt.gradable_item_iri]
            person = truth.people[attempt.assignee_iri]
            latest = attempt.score
            assert node["gradableItem"]["id"] == attempt.gradable_item_iri
            assert node["gradableItem"]["maxScore"] == item.max_score
            assert node["gradableItem"]["contentItem"] == {"id": item.content_item_iri}
            assert node["assignee"] == {
                "id": person.iri,
                "userId": person.user_id,
                "externalId": person.external_id,
            }
            assert node["count"] == attempt.count and node["startedAt"] == format_instant(
                attempt.started_at_ms
            )
            assert node["score"]["scoreGiven"] == latest.score_given
            assert node["score"]["eventType"] == latest.event_type
            assert node["score"]["maxScore"] == latest.max_score
            assert node["score"]["totalScore"] == latest.total_score
            assert node["score"]["gradedAt"] == format_instant(latest.graded_at_ms)
            assert [(h["scoreGiven"], h["eventType"]) for h in node["history"]] == [
                (s.score_given, s.event_type) for s in attempt.history
            ]
            seen += 1
    assert seen == len(truth.attempts)
    assert {s.event_type for a in truth.attempts.values() for s in a.history} == {
        "GradeEvent",
        "OutcomeEvent",
    }


def test_calculated_grades(semester: tuple[Api, GroundTruth]) -> None:
    api, truth = semester
    seen = 0
    for iri in truth.courses:
        nodes = api.all_pages(GRADES, ["course", "calculatedGrades"], id=iri)
        expected = truth.calculated_grades_of(iri)
        assert {n["id"] for n in nodes} == {g.key for g in expected}
        by_key = {g.key: g for g in expected}
        for node in nodes:
            grade = by_key[node["id"]]
            assert (node["score"], node["synVersion"], node["isCourseGrade"], node["itemId"]) == (
                grade.score,
                grade.syn_version,
                grade.is_course_grade,
                grade.item_id,
            ), node["id"]
            assert node["calculatedAt"] == format_instant(grade.calculated_at_ms)
            assert [h["synVersion"] for h in node["history"]] == [
                s.syn_version for s in grade.history
            ]
            assert node["user"]["userId"] == truth.people[grade.user_iri].user_id
            seen += 1
    assert seen == len(truth.calculated_grades)


def test_people_and_log_counts(semester: tuple[Api, GroundTruth]) -> None:
    api, truth = semester
    for person in list(truth.people.values())[:25]:
        by_id = api.query(
            "query($id: ID!) { person(id: $id) { id userId externalId } }", id=person.iri
        )
        assert by_id["person"] == {
            "id": person.iri,
            "userId": person.user_id,
            "externalId": person.external_id,
        }
        by_user = api.query("query($u: String!) { person(userId: $u) { id } }", u=person.user_id)
        assert by_user["person"] == {"id": person.iri}
    counted = api.query("{ events(first: 1) { totalCount } }")["events"]["totalCount"]
    assert counted == truth.counts.distinct
    grades = api.query('{ events(filter: {type: "GradeEvent"}, first: 1) { totalCount } }')
    assert grades["events"]["totalCount"] == truth.counts.by_type["GradeEvent"]
    course = next(iter(truth.courses.values()))
    by_number = api.query(
        "query($n: String!) { events(filter: {courseNumber: $n}, first: 1) { totalCount } }",
        n=course.course_number,
    )
    assert by_number["events"]["totalCount"] == truth.counts.by_course[course.iri]


# --- course analytics, against the generator's own figures ---------------------------

ACTIVITY = """query($id: ID!, $at: DateTime, $bucket: ActivityBucket) { course(id: $id, asOf: $at) {
  activity(bucket: $bucket) { start events activeUsers } } }"""
PARTICIPANTS = """query($id: ID!, $at: DateTime, $after: String) { course(id: $id, asOf: $at) {
  participants(first: 40, after: $after, orderBy: LAST_ACTIVITY_ASC) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { person { id } role firstActivityAt lastActivityAt eventCount activeDays
      gradedAttempts courseGrade { score isCourseGrade } } } } }"""
ITEM_STATISTICS = """query($id: ID!, $after: String) { course(id: $id) {
  attempts(first: 1000, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    nodes { gradableItem { id maxScore scoreStatistics { count mean median min max stddev
      histogram(bins: 7) { from to count } } } } } } }"""
VIEWS = """query($id: ID!, $at: DateTime) { course(id: $id, asOf: $at) {
  contentItems(includeDeleted: true, first: 500) { nodes { id deleted
    viewStatistics { views uniqueViewers lastViewedAt } } } } }"""


@pytest.mark.parametrize("at", [None, MID_SEMESTER])
def test_activity_per_day_and_week(semester: tuple[Api, GroundTruth], at: int | None) -> None:
    api, truth = semester
    view = truth.as_of(at) if at else truth
    for iri in truth.courses:
        for bucket, width in (("DAY", DAY_MS), ("WEEK", 7 * DAY_MS)):
            at_text = format_instant(at) if at else None
            points = api.query(ACTIVITY, id=iri, at=at_text, bucket=bucket)["course"]["activity"]
            expected = [
                {
                    "start": format_instant(p.start_ms),
                    "events": p.events,
                    "activeUsers": p.active_users,
                }
                for p in activity_of(view, iri, width)
            ]
            assert points == expected, (iri, bucket)
            assert sum(p["events"] for p in points) == view.counts.by_course.get(iri, 0)


@pytest.mark.parametrize("at", [None, MID_SEMESTER])
def test_participants(semester: tuple[Api, GroundTruth], at: int | None) -> None:
    api, truth = semester
    view = truth.as_of(at) if at else truth
    at_text = format_instant(at) if at else None
    checked = 0
    roles: set[str | None] = set()
    for iri in truth.courses:
        nodes = api.all_pages(PARTICIPANTS, ["course", "participants"], id=iri, at=at_text)
        expected = participants_of(view, iri)
        assert [n["person"]["id"] for n in nodes] == sorted(
            expected, key=lambda p: (expected[p].last_activity_ms, p)
        )
        grades = {g.user_iri: g.score for g in view.calculated_grades_of(iri) if g.is_course_grade}
        for node in nodes:
            person = expected[node["person"]["id"]]
            assert node["role"] == person.role
            roles.add(node["role"])
            assert node["firstActivityAt"] == format_instant(person.first_activity_ms)
            assert node["lastActivityAt"] == format_instant(person.last_activity_ms)
            assert (node["eventCount"], node["activeDays"]) == (
                person.event_count,
                person.active_days,
            )
            assert node["gradedAttempts"] == sum(
                1 for a in view.attempts_of(iri) if a.assignee_iri == person.person_iri
            )
            if person.person_iri in grades:
                assert node["courseGrade"] == {
                    "score": grades[person.person_iri],
                    "isCourseGrade": True,
                }
            else:
                assert node["courseGrade"] is None
            checked += 1
    assert checked > 100
    assert {"Learner", "Instructor"} <= roles


def test_score_statistics(semester: tuple[Api, GroundTruth]) -> None:
    api, truth = semester
    seen: dict[str, dict[str, Any]] = {}
    for iri in truth.courses:
        for node in api.all_pages(ITEM_STATISTICS, ["course", "attempts"], id=iri):
            seen[node["gradableItem"]["id"]] = node["gradableItem"]
    assert set(seen) == set(truth.gradable_items)
    for item_iri, item in seen.items():
        stats = item["scoreStatistics"]
        expected = score_statistics_of(truth, item_iri)
        assert stats["count"] == expected.count > 0
        assert stats["mean"] == pytest.approx(expected.mean)
        assert stats["median"] == pytest.approx(expected.median)
        assert (stats["min"], stats["max"]) == (expected.scores[0], expected.scores[-1])
        assert stats["stddev"] == pytest.approx(expected.stddev)
        bins = [(b["from"], b["to"], b["count"]) for b in stats["histogram"]]
        wanted = expected.histogram(7, truth.gradable_items[item_iri].max_score)
        assert [c for _, _, c in bins] == [c for _, _, c in wanted]
        assert [e for f, t, _ in bins for e in (f, t)] == pytest.approx(
            [e for f, t, _ in wanted for e in (f, t)]
        )


@pytest.mark.parametrize("at", [None, MID_SEMESTER])
def test_view_statistics(semester: tuple[Api, GroundTruth], at: int | None) -> None:
    api, truth = semester
    view = truth.as_of(at) if at else truth
    at_text = format_instant(at) if at else None
    viewed = 0
    for iri in truth.courses:
        items = api.query(VIEWS, id=iri, at=at_text)["course"]["contentItems"]["nodes"]
        for node in items:
            expected = views_of(view, node["id"])
            last = expected.last_viewed_ms
            assert node["viewStatistics"] == {
                "views": expected.views,
                "uniqueViewers": expected.unique_viewers,
                "lastViewedAt": format_instant(last) if last is not None else None,
            }, node["id"]
            viewed += expected.views
    assert viewed > 100
