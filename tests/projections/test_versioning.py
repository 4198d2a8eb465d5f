from __future__ import annotations

from app.projections.coerce import as_float, as_int, as_time_ms
from app.projections.versioning import (
    changed_fields,
    course_of,
    deleted_after,
    fold_order,
    is_legacy_style,
    merge_sent,
    read_sent,
)

from .factories import COURSE, OTHER_COURSE, caliper_event, ms, stored

FIELDS = ("deleted", "memberIds", "name")


def test_first_version_lists_every_value_but_null_and_a_false_deleted() -> None:
    current = {"deleted": False, "memberIds": [], "name": ""}

    assert changed_fields(None, current, FIELDS) == ["memberIds", "name"]
    assert changed_fields(None, {**current, "memberIds": None}, FIELDS) == ["name"]
    assert changed_fields(None, {**current, "deleted": True}, FIELDS) == [
        "deleted",
        "memberIds",
        "name",
    ]


def test_first_version_lists_false_for_fields_other_than_deleted() -> None:
    assert changed_fields(None, {"isFolder": False, "deleted": False}, ("deleted", "isFolder")) == [
        "isFolder"
    ]


def test_later_version_lists_only_differences_sorted() -> None:
    previous = {"deleted": False, "memberIds": ["_1_1"], "name": "A"}

    assert changed_fields(previous, dict(previous), FIELDS) == []
    assert changed_fields(previous, {**previous, "name": "B", "deleted": True}, FIELDS) == [
        "deleted",
        "name",
    ]
    assert changed_fields(previous, {**previous, "memberIds": None}, FIELDS) == ["memberIds"]


def test_changed_fields_come_out_sorted_whatever_the_order_given() -> None:
    assert changed_fields(None, {"name": "A", "dueDate": 1}, ("name", "dueDate")) == [
        "dueDate",
        "name",
    ]


def test_absent_keeps_and_null_clears_in_the_1_1_style() -> None:
    assert read_sent({}, "count", 3, False, as_int) == 3
    assert read_sent({"count": None}, "count", 3, False, as_int) is None
    assert read_sent({"count": 4}, "count", 3, False, as_int) == 4


def test_null_keeps_in_the_1_0_style() -> None:
    assert read_sent({"count": None}, "count", 3, True, as_int) == 3
    assert read_sent({"count": 4}, "count", 3, True, as_int) == 4
    assert merge_sent("kept", None, True) == "kept"
    assert merge_sent("kept", None, False) is None


def test_style_is_read_per_event() -> None:
    assert is_legacy_style({"@type": "http://purl.imsglobal.org/caliper/v1/OutcomeEvent"})
    assert not is_legacy_style({"type": "GradeEvent"})
    assert not is_legacy_style({"@type": "x", "type": "GradeEvent"})


def test_deleted_is_the_last_word() -> None:
    assert deleted_after("Deleted", False) is True
    assert deleted_after("Modified", True) is False
    assert deleted_after("Created", True) is False
    assert deleted_after("Viewed", True) is True


def test_fold_order_is_event_time_then_position() -> None:
    late = stored(caliper_event("1.1", "ViewEvent", "Viewed", 5, "urn:x"), 1)
    early_second = stored(caliper_event("1.1", "ViewEvent", "Viewed", 1, "urn:x"), 9)
    early_first = stored(caliper_event("1.1", "ViewEvent", "Viewed", 1, "urn:x"), 4)

    ordered = sorted([late, early_second, early_first], key=fold_order)

    assert [event.position for event in ordered] == [4, 9, 1]
    assert ordered[0].event_time_ms == ms(1)


def test_an_entity_belongs_to_the_course_of_its_first_event() -> None:
    first = stored(caliper_event("1.1", "ViewEvent", "Viewed", 1, "urn:x", course=COURSE), 2)
    later = stored(caliper_event("1.1", "ViewEvent", "Viewed", 2, "urn:x", course=OTHER_COURSE), 1)
    courseless = stored(
        {**caliper_event("1.1", "ViewEvent", "Viewed", 0, "urn:x"), "membership": None}, 3
    )

    assert course_of([first, later]) == COURSE
    # No course on the first event: the first one named.
    assert courseless.course_id is None
    assert course_of([courseless, later, first]) == OTHER_COURSE
    assert course_of([courseless]) is None


def test_values_are_read_leniently() -> None:
    assert as_float(20) == 20.0
    assert as_float(True) is None
    assert as_int(3.0) == 3
    assert as_int(3.5) is None
    assert as_time_ms("2021-01-05T10:01:00.000Z") == ms(1)
    assert as_time_ms("") is None
