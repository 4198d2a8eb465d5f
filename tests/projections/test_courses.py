from __future__ import annotations

from typing import Any

from app.projections.courses import fold_course

from .factories import COURSE, OTHER_COURSE, caliper_event, ms, node, stored


def course_node(style: str = "1.1", **fields: Any) -> dict[str, Any]:
    return node(style, COURSE, "CourseOffering", **fields)


def test_no_event_no_course() -> None:
    assert fold_course(COURSE, []) is None


def test_course_object_wins_over_the_membership() -> None:
    raw = caliper_event(
        "1.1",
        "GradeEvent",
        "Graded",
        1,
        "urn:attempt",
        group=course_node(
            courseNumber="BIO-101", name="Biology", extensions={"bb:course.id": "_5_1"}
        ),
    )
    raw["membership"]["extensions"] = {"bb:course.externalId": "IGNORED", "bb:course.id": "_6_1"}

    course = fold_course(COURSE, [stored(raw, 1)])

    assert course is not None
    assert course.course_number == "BIO-101"
    assert course.learn_id == "_5_1"
    assert course.name == "Biology"
    assert course.created_at_ms == course.last_event_ms == ms(1)
    assert course.last_event_position == 1


def test_membership_names_the_course_when_the_course_object_does_not() -> None:
    raw = caliper_event("1.1", "ContentEvent", "Modified", 1, "urn:content")
    raw["membership"]["extensions"] = {"bb:course.externalId": "CHEM-2", "bb:course.id": "_6_1"}

    course = fold_course(COURSE, [stored(raw, 1)])

    assert course is not None
    assert (course.course_number, course.learn_id, course.name) == ("CHEM-2", "_6_1", None)


def test_each_field_comes_from_the_latest_event_that_carries_it() -> None:
    older = caliper_event(
        "1.1",
        "ViewEvent",
        "Viewed",
        1,
        "urn:x",
        group=course_node(courseNumber="OLD", name="Named"),
    )
    newer = caliper_event(
        "1.1", "ViewEvent", "Viewed", 5, "urn:x", group=course_node(courseNumber="NEW")
    )
    newest_without = caliper_event(
        "1.1", "ViewEvent", "Viewed", 9, "urn:x", group=course_node(courseNumber=None)
    )
    elsewhere = caliper_event("1.1", "ViewEvent", "Viewed", 7, "urn:x", course=OTHER_COURSE)

    course = fold_course(
        COURSE,
        [stored(newer, 1), stored(newest_without, 2), stored(older, 3), stored(elsewhere, 4)],
    )

    assert course is not None
    assert course.course_number == "NEW"
    assert course.name == "Named"
    # No bb:course.id anywhere: the IRI's last segment.
    assert course.learn_id == "course-1"
    assert course.created_at_ms == ms(1)
    assert (course.last_event_ms, course.last_event_position) == (ms(9), 2)
