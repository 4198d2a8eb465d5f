from __future__ import annotations

from typing import Any

from app.caliper.reader import calculated_grade_key
from app.projections.calculated_grades import NO_VERSION, fold_calculated_grade
from store.records import StoredEvent

from .factories import COURSE, LEARN, SITE, STUDENT, caliper_event, ms, node, stored

ITEM_ID = "_1360_1"
KEY = calculated_grade_key(COURSE, ITEM_ID, STUDENT)
OMITTED = object()


def snapshot(
    version: int | None,
    minute: int,
    position: int,
    score: Any = OMITTED,
    *,
    style: str = "1.1",
    user: str = STUDENT,
    second: int = 0,
    **fields: Any,
) -> StoredEvent:
    """One snapshot; `score` left out of the object unless given (None sends null)."""
    grade: dict[str, Any] = {"itemId": ITEM_ID, "scorePossible": 100, "isCourseGrade": False}
    if score is not OMITTED:
        grade["score"] = score
    if version is not None:
        grade["synVersion" if style == "1.0" else "syncVersion"] = version
    grade["user"] = node(style, user, "Person")
    grade["course"] = node(style, COURSE, "CourseOffering")
    grade.update(fields)
    obj = node(
        style,
        f"{SITE}/gradableItems/{ITEM_ID}/calculatedGrade/{version}",
        "CalculatedGrade",
        **grade,
    )
    action = "Graded" if style == "1.1" else "GradeCalculated"
    actor = node(style, LEARN, "SoftwareApplication")
    raw = caliper_event(
        style, "CalculatedGradeSnapshotEvent", action, minute, obj, actor=actor, second=second
    )
    return stored(raw, position)


def test_no_snapshot_no_grade() -> None:
    assert fold_calculated_grade(KEY, []) is None


def test_one_snapshot_is_the_grade() -> None:
    grade = fold_calculated_grade(KEY, [snapshot(7, 1, 1, 42.5, isCourseGrade=True)])

    assert grade is not None
    assert grade.id == KEY == f"{COURSE}|{ITEM_ID}|{STUDENT}"
    assert grade.item_id == ITEM_ID
    assert grade.user_id == STUDENT
    assert grade.course_id == COURSE
    assert grade.score == 42.5
    assert grade.score_possible == 100.0
    assert grade.is_course_grade is True
    assert grade.syn_version == 7
    assert grade.calculated_at_ms == ms(1)
    [first] = grade.history
    assert (first.syn_version, first.score, first.calculated_at_ms, first.event_position) == (
        7,
        42.5,
        ms(1),
        1,
    )


def test_snapshots_order_by_version_before_event_time() -> None:
    events = [
        snapshot(3, 1, 5, 30.0),
        snapshot(1, 9, 6, 10.0),
        snapshot(2, 5, 7, 20.0),
    ]

    grade = fold_calculated_grade(KEY, events)

    assert grade is not None
    assert [entry.syn_version for entry in grade.history] == [1, 2, 3]
    assert [entry.score for entry in grade.history] == [10.0, 20.0, 30.0]
    assert grade.score == 30.0
    assert grade.syn_version == 3
    assert grade.calculated_at_ms == ms(1)


def test_snapshots_sharing_an_event_time() -> None:
    events = [
        snapshot(5, 2, 1, 50.0),
        snapshot(4, 2, 2, 40.0),
        # Same version and eventTime: store order decides.
        snapshot(5, 2, 3, 55.0),
    ]

    grade = fold_calculated_grade(KEY, events)

    assert grade is not None
    assert [(entry.syn_version, entry.event_position) for entry in grade.history] == [
        (4, 2),
        (5, 1),
        (5, 3),
    ]
    assert grade.score == 55.0


def test_same_version_orders_by_event_time() -> None:
    grade = fold_calculated_grade(KEY, [snapshot(5, 3, 1, 2.0), snapshot(5, 1, 2, 1.0)])

    assert grade is not None
    assert [entry.score for entry in grade.history] == [1.0, 2.0]


def test_an_absent_score_clears_the_grade() -> None:
    grade = fold_calculated_grade(KEY, [snapshot(1, 1, 1, 80.0), snapshot(2, 2, 2)])

    assert grade is not None
    assert [entry.score for entry in grade.history] == [80.0, None]
    assert grade.score is None
    assert grade.score_possible == 100.0


def test_a_null_score_clears_the_grade_even_in_the_1_0_style() -> None:
    events = [snapshot(1, 1, 1, 80.0, style="1.0"), snapshot(2, 2, 2, None, style="1.0")]

    grade = fold_calculated_grade(KEY, events)

    assert grade is not None
    assert grade.score is None
    assert grade.history[0].score == 80.0


def test_a_snapshot_without_version_sorts_first() -> None:
    grade = fold_calculated_grade(KEY, [snapshot(2, 1, 1, 2.0), snapshot(None, 5, 2, 9.0)])

    assert grade is not None
    assert [entry.syn_version for entry in grade.history] == [NO_VERSION, 2]
    assert grade.score == 2.0


def test_only_snapshots_of_this_grade_count() -> None:
    other_user = f"{SITE}/users/student-2"
    events = [snapshot(1, 1, 1, 10.0), snapshot(9, 2, 2, 90.0, user=other_user)]

    grade = fold_calculated_grade(KEY, events)

    assert grade is not None
    assert [entry.event_position for entry in grade.history] == [1]
    assert (
        fold_calculated_grade(calculated_grade_key(COURSE, ITEM_ID, other_user), events) is not None
    )
