"""What Blackboard's own documentation samples project to.

The samples live in the shared folder (COURSEGRAPH_SHARED_DIR, default ../shared
beside the repository) and are read in place, never copied here. They carry
copy-paste defects: U+00A0 used as indentation and raw line breaks inside
strings, repaired here as `coursegraph ingest --repair` does."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from app.caliper.reader import calculated_grade_key, read_body
from app.caliper.values import parse_time_ms
from app.projections.attempts import fold_attempt, fold_gradable_item
from app.projections.calculated_grades import fold_calculated_grade
from app.projections.content_items import fold_content_item
from app.projections.courses import fold_course
from app.projections.groups import fold_group
from app.projections.people import fold_person
from store.records import StoredEvent

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("COURSEGRAPH_SHARED_DIR", REPO.parent / "shared"))
SAMPLES = SHARED / "caliper-samples" / "blackboard"

SITE = "https://caliper-mapping.cloudbb.blackboard.com/v1/sites"
SITE_2015 = f"{SITE}/df1b6234-73e8-45a4-b953-4066760dfbda"
SITE_2021 = f"{SITE}/54b54b42-dd02-42f8-88ed-07bd719bfb7c"


def time_ms(text: str) -> int:
    found = parse_time_ms(text)
    assert found is not None
    return found


def load(name: str) -> list[StoredEvent]:
    """The sample's events, stored in file order from position 1."""
    path = SAMPLES / f"{name}.json"
    if not path.is_file():
        pytest.skip(f"documentation sample {path} not found (set COURSEGRAPH_SHARED_DIR)")
    text = path.read_text(encoding="utf-8").replace("\u00a0", " ")
    batch = read_body(json.loads(text, strict=False))
    assert batch.rejected == []
    return [
        StoredEvent(
            position=position,
            event_id=event.event_id,
            type=event.type,
            action=event.action,
            event_time_ms=event.event_time_ms,
            received_at_ms=event.event_time_ms,
            actor_id=event.actor_id,
            object_id=event.object_id,
            course_id=event.course_id,
            raw=event.raw,
        )
        for position, event in enumerate(batch.events, start=1)
    ]


def test_course_group_event_1_caliper_1_0() -> None:
    events = load("CourseGroupEvent-1")
    course_id = f"{SITE_2015}/courses/3fbbc28ce97a430ca0f51b5ecd2db557"
    group_id = f"{course_id}/groups/_122_1"

    group = fold_group(group_id, events)

    assert group is not None
    assert group.name == "New Group 2"
    assert group.member_ids == ["_1126_1", "_1127_1"]
    assert group.learn_id == "_122_1"
    assert group.deleted is False
    assert group.course_id == course_id
    assert group.created_at_ms == group.updated_at_ms == time_ms("2017-01-31T04:06:45.458Z")
    [version] = group.history
    assert version.action == "Created"
    assert version.event_position == 1
    assert version.changed_fields == ["memberIds", "name"]

    course = fold_course(course_id, events)
    assert course is not None
    assert (course.course_number, course.learn_id) == ("NEW_EVENTTEST_001", "_687_1")

    person = fold_person(f"{SITE_2015}/users/701cbe9a4acd4c31a91af84f25b2f19f", events)
    assert person is not None
    assert (person.user_id, person.external_id) == ("_7_1", "jwiseman")


def test_course_group_event_2_caliper_1_1() -> None:
    events = load("CourseGroupEvent-2")
    course_id = f"{SITE_2021}/courses/a3fe89604fc6437ea381979569cd6d81"

    group = fold_group(f"{course_id}/groups/_12345_1", events)

    assert group is not None
    assert group.name == "Team 2"
    assert group.member_ids == []
    assert group.learn_id == "_12345_1"
    assert group.course_id == course_id
    [version] = group.history
    assert version.action == "Created"
    # No bb:group.users: the members were never sent.
    assert version.changed_fields == ["name"]

    course = fold_course(course_id, events)
    assert course is not None
    assert (course.course_number, course.learn_id) == ("BIO-101", "_12345_1")


def test_content_event_2_two_identical_edits_make_two_versions() -> None:
    events = load("ContentEvent-2")
    item_id = f"{SITE_2021}/content/_12345_1"

    item = fold_content_item(item_id, reversed(events))

    assert item is not None
    assert item.learn_id == "_12345_1"
    assert item.course_id == f"{SITE_2021}/courses/3ced8bf8f6174c339908f7dab224f0fa"
    assert (item.name, item.description) == ("", "")
    assert item.handler == "resource/x-bb-forumlink"
    assert item.render_type == "LINK"
    assert (item.is_folder, item.is_lesson, item.is_group_content) == (False, False, False)
    assert item.data_version == 3
    assert item.score_possible == 20.0
    assert item.due_date_ms == time_ms("2021-01-19T06:59:00.000Z")
    assert item.aggregation_model == "Last"
    assert item.deleted is False
    assert item.created_at_ms == time_ms("2021-01-05T14:50:29.906Z")
    assert item.updated_at_ms == time_ms("2021-01-05T14:50:30.114Z")
    first, second = item.history
    assert (first.action, first.event_position) == ("Modified", 1)
    assert first.changed_fields == [
        "aggregationModel",
        "dataVersion",
        "description",
        "dueDate",
        "handler",
        "isFolder",
        "isGroupContent",
        "isLesson",
        "name",
        "renderType",
        "scorePossible",
    ]
    assert (second.action, second.event_position) == ("Modified", 2)
    assert second.changed_fields == []


def test_grade_event_1() -> None:
    events = load("GradeEvent-1")
    item_id = f"{SITE_2021}/gradableItems/_12345_1"

    attempt = fold_attempt(f"{item_id}/attempts/_12345_1", events)

    assert attempt is not None
    assert attempt.learn_id == "_12345_1"
    assert attempt.gradable_item_id == item_id
    assert attempt.assignee_id == f"{SITE_2021}/users/0e9625cdef42403c9c8aed38d7cd80b2"
    assert attempt.course_id == f"{SITE_2021}/courses/6d0140f42843472da7e3ecd150908fa3"
    assert attempt.count == 1
    assert attempt.started_at_ms == time_ms("2021-01-04T12:57:55.941Z")
    score = attempt.score
    assert score is not None
    assert score.score_given == 39.45205
    assert score.max_score == 0
    assert score.graded_at_ms == time_ms("2021-01-04T12:59:47.248Z")
    assert score.event_type == "GradeEvent"
    assert score.action_name == "instructor.grade.history.event.attempt.grade"
    assert score.event_position == 1
    assert attempt.history == [score]

    item = fold_gradable_item(item_id, events)
    assert item is not None
    assert item.learn_id == "_12345_1"
    assert item.max_score == 160
    assert item.max_attempts == 0
    assert item.date_to_submit_ms == time_ms("2021-01-04T12:57:55.941Z")
    assert item.content_learn_id == "_12345_1"


def test_outcome_event_1_two_attempts_of_one_student() -> None:
    events = load("OutcomeEvent-1")
    student = f"{SITE_2015}/users/c56ca36b2c004550b7df20606d3ce48b"
    course_id = f"{SITE_2015}/courses/5bd2e1842197458196bed7ae58835c81"

    first = fold_attempt(f"{SITE_2015}/gradableItems/_893_1/attempts/_9_1", events)
    second = fold_attempt(f"{SITE_2015}/gradableItems/_894_1/attempts/_10_1", events)

    assert first is not None
    assert second is not None
    assert first.gradable_item_id == f"{SITE_2015}/gradableItems/_893_1"
    assert second.gradable_item_id == f"{SITE_2015}/gradableItems/_894_1"
    assert first.assignee_id == second.assignee_id == student
    assert first.course_id == second.course_id == course_id
    assert (first.learn_id, first.count) == ("_9_1", 1)
    assert first.started_at_ms == time_ms("2015-12-10T21:06:28.707Z")
    assert first.score is not None
    assert first.score.score_given == 0.0
    assert first.score.graded_at_ms == time_ms("2015-12-10T21:06:28.707Z")
    score = second.score
    assert score is not None
    assert score.score_given == 10.0
    assert score.normal_score == 10.0
    assert score.total_score == 0.0
    assert (score.penalty_score, score.extra_credit_score, score.curved_total_score) == (
        0.0,
        0.0,
        0.0,
    )
    assert score.max_score is None
    assert score.comment is None
    assert score.event_type == "OutcomeEvent"
    assert score.action_name is None
    assert score.event_position == 2

    assignee = fold_person(student, events)
    assert assignee is not None
    assert (assignee.user_id, assignee.external_id) == ("_8510_1", "123-456-789-123")

    item = fold_gradable_item(f"{SITE_2015}/gradableItems/_893_1", events)
    assert item is not None
    assert (item.learn_id, item.max_score) == ("_893_1", None)

    course = fold_course(course_id, events)
    assert course is not None
    assert (course.course_number, course.learn_id) == (
        "JOHN_TEST_002",
        "5bd2e1842197458196bed7ae58835c81",
    )


def test_calculated_grade_snapshot_event_1_caliper_1_0() -> None:
    events = load("CalculatedGradeSnapshotEvent-1")
    site = f"{SITE}/b56c1e20-78eb-4a50-941e-9658d93464ae"
    course_id = f"{site}/courses/47739d59c68444a98856210a8f36f6f1"
    user_id = f"{site}/users/1ea8c4bd28424309a0ef5c04298af019"
    key = calculated_grade_key(course_id, "_1360_1", user_id)

    grade = fold_calculated_grade(key, events)

    assert grade is not None
    assert grade.id == f"{course_id}|_1360_1|{user_id}"
    assert (grade.item_id, grade.user_id, grade.course_id) == ("_1360_1", user_id, course_id)
    assert grade.score is None
    assert grade.score_possible == 0.0
    assert grade.is_course_grade is True
    assert grade.syn_version == 156525
    assert grade.calculated_at_ms == time_ms("2016-01-12T09:00:00.358Z")
    [snapshot] = grade.history
    assert (snapshot.syn_version, snapshot.score, snapshot.event_position) == (156525, None, 1)

    student = fold_person(user_id, events)
    assert student is not None
    assert (student.user_id, student.external_id) == ("_8510_1", "tbrady")


def test_calculated_grade_snapshot_event_2_caliper_1_1() -> None:
    events = load("CalculatedGradeSnapshotEvent-2")
    course_id = f"{SITE_2021}/courses/ab336626104044daab61e9a9d72ac8e2"
    user_id = f"{SITE_2021}/users/b1ea2fccd95144a29e5e906034e4ddee"

    grade = fold_calculated_grade(calculated_grade_key(course_id, "_12345_1", user_id), events)

    assert grade is not None
    # No `score` key at all: not graded.
    assert grade.score is None
    assert grade.score_possible == 100.0
    assert grade.is_course_grade is False
    assert grade.syn_version == 329189703
    assert grade.calculated_at_ms == time_ms("2021-01-05T08:20:33.572Z")
    assert grade.course_id == course_id
