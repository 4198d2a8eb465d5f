"""`coursegraph seed` loads the demo semester once; the named operations in
graphql/operations/ answer it correctly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.settings import REPO_ROOT
from seed.loader import demo_truth
from seed.truth import (
    DAY_MS,
    GroundTruth,
    activity_of,
    format_instant,
    participants_of,
    score_statistics_of,
    views_of,
)
from tests.conftest import LiveServer, make_settings, run_cli

OPERATIONS = REPO_ROOT / "graphql" / "operations"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, GroundTruth]]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('seed') / 'demo.db'}"
    first = run_cli("seed", database_url=url)
    assert first.returncode == 0, first.stderr
    truth = demo_truth()
    assert f"appended {truth.counts.distinct}," in first.stdout
    again = run_cli("seed", database_url=url)
    assert again.returncode == 0, again.stderr
    assert "appended 0," in again.stdout
    with (
        LiveServer(make_settings(url)) as server,
        httpx.Client(base_url=server.url, timeout=60) as http,
    ):
        yield http, truth


def run(http: httpx.Client, name: str, **variables: Any) -> dict[str, Any]:
    document = (OPERATIONS / f"{name}.graphql").read_text()
    response = http.post(
        "/graphql", json={"query": document, "variables": variables, "operationName": name}
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def test_seed_twice_appends_nothing_and_overview_answers(
    seeded: tuple[httpx.Client, GroundTruth],
) -> None:
    http, truth = seeded
    course = truth.course_by_number("BIO-101-F26")
    data = run(http, "CourseOverview", courseNumber="BIO-101-F26")["course"]
    assert data["id"] == course.iri and data["learnId"] == course.learn_id
    live_groups = [g for g in truth.groups_of(course.iri) if not g.deleted]
    assert data["groups"]["totalCount"] == len(live_groups) > 0
    assert {g["name"] for g in data["groups"]["nodes"]} == {g.name for g in live_groups}
    live_items = [c for c in truth.content_items_of(course.iri) if not c.deleted]
    assert data["contentItems"]["totalCount"] == len(live_items) > 0
    course_grades = [g for g in truth.calculated_grades_of(course.iri) if g.is_course_grade]
    assert data["calculatedGrades"]["totalCount"] == len(course_grades) > 0
    scores = {n["user"]["id"]: n["score"] for n in data["calculatedGrades"]["nodes"]}
    assert scores == {g.user_iri: g.score for g in course_grades}


def test_gradebook_pages(seeded: tuple[httpx.Client, GroundTruth]) -> None:
    http, truth = seeded
    course = truth.course_by_number("CHEM-121-F26")
    seen: dict[str, Any] = {}
    after = None
    while True:
        page = run(http, "Gradebook", courseNumber="CHEM-121-F26", after=after)["course"][
            "attempts"
        ]
        seen.update({n["id"]: n for n in page["nodes"]})
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    expected = {a.iri: a for a in truth.attempts_of(course.iri)}
    assert set(seen) == set(expected) and len(seen) == page["totalCount"] > 0
    for iri, node in seen.items():
        assert node["score"]["scoreGiven"] == expected[iri].score_given
        assert node["assignee"]["userId"] == truth.people[expected[iri].assignee_iri].user_id


def test_content_history_and_as_of(seeded: tuple[httpx.Client, GroundTruth]) -> None:
    http, truth = seeded
    course = truth.course_by_number("HIST-210-F26")
    nodes = run(http, "ContentHistory", courseNumber="HIST-210-F26")["course"]["contentItems"][
        "nodes"
    ]
    expected = {c.iri: c for c in truth.content_items_of(course.iri)}
    assert {n["id"] for n in nodes} == set(expected)
    assert any(n["deleted"] for n in nodes)
    for node in nodes:
        assert len(node["history"]) == expected[node["id"]].versions
    instant = min(c.updated_at_ms for c in expected.values())
    then = truth.as_of(instant)
    at = run(http, "CourseAsOf", courseNumber="HIST-210-F26", at=format_instant(instant))["course"]
    assert {n["id"]: n["name"] for n in at["contentItems"]["nodes"]} == {
        c.iri: c.name for c in then.content_items_of(course.iri)
    }


def test_student_grades_and_recent_events(seeded: tuple[httpx.Client, GroundTruth]) -> None:
    http, truth = seeded
    course = truth.course_by_number("MATH-151-F26")
    student = truth.people[course.student_iris[0]]
    data = run(http, "StudentGrades", courseNumber="MATH-151-F26", userId=student.user_id)
    assert data["person"] == {
        "id": student.iri,
        "userId": student.user_id,
        "externalId": student.external_id,
    }
    grades = [g for g in truth.calculated_grades_of(course.iri) if g.user_iri == student.iri]
    assert len(data["course"]["calculatedGrades"]["nodes"]) == len(grades) > 0
    attempts = [a for a in truth.attempts_of(course.iri) if a.assignee_iri == student.iri]
    assert {n["id"] for n in data["course"]["attempts"]["nodes"]} == {a.iri for a in attempts}
    recent = run(http, "RecentEvents", courseNumber="MATH-151-F26")["events"]
    expected = sum(
        1 for e in truth.events if e.course_iri == course.iri and e.event_type == "GradeEvent"
    )
    assert recent["totalCount"] == expected > 0
    assert all(
        n["type"] == "GradeEvent" and n["raw"]["type"] == "GradeEvent" for n in recent["nodes"]
    )


def test_course_activity(seeded: tuple[httpx.Client, GroundTruth]) -> None:
    http, truth = seeded
    course = truth.course_by_number("PSYC-100-F26")
    data = run(http, "CourseActivity", id=course.iri)["course"]
    assert data["activity"] == [
        {"start": format_instant(p.start_ms), "events": p.events, "activeUsers": p.active_users}
        for p in activity_of(truth, course.iri, DAY_MS)
    ]
    items = data["contentItems"]["nodes"]
    assert len(items) == len([c for c in truth.content_items_of(course.iri) if not c.deleted])
    for item in items:
        assert item["viewStatistics"]["views"] == views_of(truth, item["id"]).views
    assert sum(i["viewStatistics"]["views"] for i in items) > 0


def test_at_risk_students(seeded: tuple[httpx.Client, GroundTruth]) -> None:
    http, truth = seeded
    course = truth.course_by_number("ENGL-102-F26")
    everyone = participants_of(truth, course.iri)
    cutoff = sorted(p.last_activity_ms for p in everyone.values())[len(everyone) // 3]
    data = run(http, "AtRiskStudents", id=course.iri, inactiveSince=format_instant(cutoff))
    found = data["course"]["participants"]
    expected = sorted(
        (p for p in everyone.values() if p.last_activity_ms < cutoff),
        key=lambda p: (p.last_activity_ms, p.person_iri),
    )
    assert [n["person"]["id"] for n in found["nodes"]] == [p.person_iri for p in expected]
    assert found["totalCount"] == len(expected) > 0
    assert all(n["lastActivityAt"] < format_instant(cutoff) for n in found["nodes"])


def test_item_statistics(seeded: tuple[httpx.Client, GroundTruth]) -> None:
    http, truth = seeded
    course = truth.course_by_number("BIO-101-F26")
    data = run(http, "ItemStatistics", id=course.iri, bins=4)["course"]["gradableItems"]
    items = {g.iri for g in truth.gradable_items.values() if g.course_iri == course.iri}
    assert {n["id"] for n in data["nodes"]} == items and data["totalCount"] == len(items)
    for node in data["nodes"]:
        expected = score_statistics_of(truth, node["id"])
        stats = node["scoreStatistics"]
        assert stats["count"] == expected.count
        assert stats["median"] == pytest.approx(expected.median)
        assert [b["count"] for b in stats["histogram"]] == [
            c for _, _, c in expected.histogram(4, node["maxScore"])
        ]


def test_every_operation_file_was_exercised() -> None:
    names = {path.stem for path in Path(OPERATIONS).glob("*.graphql")}
    assert names == {
        "CourseOverview",
        "Gradebook",
        "ContentHistory",
        "CourseAsOf",
        "StudentGrades",
        "RecentEvents",
        "CourseActivity",
        "AtRiskStudents",
        "ItemStatistics",
    }
