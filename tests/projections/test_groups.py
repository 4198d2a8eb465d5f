from __future__ import annotations

import json
from typing import Any

from app.projections.groups import fold_group
from store.records import StoredEvent

from .factories import COURSE, OTHER_COURSE, SITE, caliper_event, ms, node, stored

GROUP = f"{SITE}/courses/course-1/groups/_42_1"


def group_event(
    action: str,
    minute: int,
    position: int,
    *,
    style: str = "1.1",
    course: str = COURSE,
    second: int = 0,
    **group_extensions: Any,
) -> StoredEvent:
    """A CourseGroupEvent whose group object carries `group_extensions`
    (bb_group_name= → bb:group.name, bb_group_users= → bb:group.users)."""
    ext = {key.replace("bb_group_", "bb:group."): value for key, value in group_extensions.items()}
    group = node(style, GROUP, "Group", extensions=ext)
    raw = caliper_event(
        style, "CourseGroupEvent", action, minute, group, course=course, second=second
    )
    return stored(raw, position)


def test_no_event_no_group() -> None:
    assert fold_group(GROUP, []) is None


def test_created_group_from_a_stringified_member_list() -> None:
    users = json.dumps([{"courseMembershipId": "_9_1"}, {"courseMembershipId": "_2_1"}])

    group = fold_group(
        GROUP, [group_event("Created", 1, 1, bb_group_name="Team", bb_group_users=users)]
    )

    assert group is not None
    assert group.id == GROUP
    assert group.learn_id == "_42_1"
    assert group.name == "Team"
    assert group.member_ids == ["_2_1", "_9_1"]
    assert group.deleted is False
    assert group.course_id == COURSE
    assert group.created_at_ms == group.updated_at_ms == ms(1)
    [version] = group.history
    assert version.action == "Created"
    assert version.valid_from_ms == ms(1)
    assert version.event_position == 1
    assert version.changed_fields == ["memberIds", "name"]


def test_member_lists_of_ids_and_of_objects_with_id() -> None:
    events = [
        group_event("Created", 1, 1, bb_group_users=["_5_1", "_3_1"]),
        group_event("Modified", 2, 2, bb_group_users=[{"id": "_7_1"}, {"id": "_4_1"}]),
    ]

    group = fold_group(GROUP, events)

    assert group is not None
    assert [version.member_ids for version in group.history] == [["_3_1", "_5_1"], ["_4_1", "_7_1"]]
    assert [version.changed_fields for version in group.history] == [["memberIds"], ["memberIds"]]


def test_members_carried_on_the_events_own_extensions() -> None:
    raw = caliper_event(
        "1.1",
        "CourseGroupEvent",
        "Modified",
        1,
        node("1.1", GROUP, "Group"),
        extensions={"bb:group.users": '[{"courseMembershipId":"_8_1"}]'},
    )

    group = fold_group(GROUP, [stored(raw, 1)])

    assert group is not None
    assert group.member_ids == ["_8_1"]


def test_first_version_without_users_does_not_list_member_ids() -> None:
    group = fold_group(GROUP, [group_event("Created", 1, 1, bb_group_name="Team")])

    assert group is not None
    assert group.member_ids == []
    assert group.history[0].member_ids == []
    assert group.history[0].changed_fields == ["name"]


def test_first_version_with_an_empty_member_list_lists_member_ids() -> None:
    group = fold_group(GROUP, [group_event("Created", 1, 1, bb_group_name="", bb_group_users="[]")])

    assert group is not None
    assert group.name == ""
    assert group.history[0].changed_fields == ["memberIds", "name"]


def test_events_fold_by_event_time_not_arrival() -> None:
    events = [
        group_event("Modified", 5, 1, bb_group_name="Renamed"),
        group_event("Created", 1, 2, bb_group_name="Team", bb_group_users=["_1_1"]),
    ]

    group = fold_group(GROUP, events)

    assert group is not None
    assert group.name == "Renamed"
    assert group.member_ids == ["_1_1"]
    assert [version.event_position for version in group.history] == [2, 1]
    assert [version.action for version in group.history] == ["Created", "Modified"]
    assert group.created_at_ms == ms(1)
    assert group.updated_at_ms == ms(5)


def test_same_event_time_keeps_store_order() -> None:
    events = [
        group_event("Modified", 3, 20, bb_group_name="Second"),
        group_event("Created", 1, 1, bb_group_name="Team"),
        group_event("Modified", 3, 10, bb_group_name="First"),
    ]

    group = fold_group(GROUP, events)

    assert group is not None
    assert group.name == "Second"
    assert [version.name for version in group.history] == ["Team", "First", "Second"]
    assert [version.event_position for version in group.history] == [1, 10, 20]


def test_absent_keeps_and_explicit_null_clears_in_the_1_1_style() -> None:
    events = [
        group_event("Created", 1, 1, bb_group_name="Team", bb_group_users=["_1_1"]),
        group_event("Modified", 2, 2),
        group_event("Modified", 3, 3, bb_group_name=None, bb_group_users=None),
    ]

    group = fold_group(GROUP, events)

    assert group is not None
    kept, cleared = group.history[1], group.history[2]
    assert (kept.name, kept.member_ids, kept.changed_fields) == ("Team", ["_1_1"], [])
    assert (cleared.name, cleared.member_ids) == (None, [])
    assert cleared.changed_fields == ["memberIds", "name"]
    assert group.name is None


def test_null_keeps_in_the_1_0_style() -> None:
    events = [
        group_event("Created", 1, 1, style="1.0", bb_group_name="Team", bb_group_users="[]"),
        group_event("Modified", 2, 2, style="1.0", bb_group_name=None, bb_group_users=None),
    ]

    group = fold_group(GROUP, events)

    assert group is not None
    assert group.history[0].action == "Created"
    assert group.history[1].action == "Modified"
    assert group.history[1].changed_fields == []
    assert group.name == "Team"


def test_two_modified_events_that_change_nothing_make_two_empty_versions() -> None:
    events = [
        group_event("Created", 1, 1, bb_group_name="Team", bb_group_users=["_1_1"]),
        group_event("Modified", 2, 2, bb_group_name="Team", bb_group_users=["_1_1"]),
        group_event("Modified", 3, 3, bb_group_name="Team", bb_group_users=["_1_1"]),
    ]

    group = fold_group(GROUP, events)

    assert group is not None
    assert len(group.history) == 3
    assert [version.changed_fields for version in group.history[1:]] == [[], []]
    assert group.updated_at_ms == ms(3)


def test_deleted_then_modified_is_live_again() -> None:
    events = [
        group_event("Created", 1, 1, bb_group_name="Team"),
        group_event("Deleted", 2, 2),
        group_event("Modified", 3, 3, bb_group_name="Back"),
    ]

    group = fold_group(GROUP, events)

    assert group is not None
    assert [version.deleted for version in group.history] == [False, True, False]
    assert [version.changed_fields for version in group.history] == [
        ["name"],
        ["deleted"],
        ["deleted", "name"],
    ]
    assert group.deleted is False
    assert group.name == "Back"

    deleted_as_of_minute_2 = fold_group(GROUP, events[:2])
    assert deleted_as_of_minute_2 is not None
    assert deleted_as_of_minute_2.deleted is True
    assert deleted_as_of_minute_2.name == "Team"


def test_a_first_version_that_deletes_lists_deleted() -> None:
    group = fold_group(GROUP, [group_event("Deleted", 1, 1)])

    assert group is not None
    assert group.history[0].changed_fields == ["deleted"]


def test_name_falls_back_to_the_events_group_when_it_is_the_same_group() -> None:
    raw = caliper_event(
        "1.1",
        "CourseGroupEvent",
        "Created",
        1,
        node("1.1", GROUP, "Group"),
        group=node("1.1", GROUP, "Group", extensions={"bb:group.name": "From group"}),
    )
    other = caliper_event(
        "1.1",
        "CourseGroupEvent",
        "Modified",
        2,
        node("1.1", GROUP, "Group"),
        group=node("1.1", f"{GROUP}x", "Group", extensions={"bb:group.name": "Not this one"}),
    )

    group = fold_group(GROUP, [stored(raw, 1), stored(other, 2)])

    assert group is not None
    assert group.name == "From group"
    assert group.history[1].changed_fields == []


def test_learn_id_prefers_bb_group_id() -> None:
    group = fold_group(GROUP, [group_event("Created", 1, 1, bb_group_id="_99_1")])

    assert group is not None
    assert group.learn_id == "_99_1"


def test_group_belongs_to_the_course_of_its_first_event() -> None:
    events = [
        group_event("Modified", 2, 1, course=OTHER_COURSE),
        group_event("Created", 1, 2, course=COURSE),
    ]

    group = fold_group(GROUP, events)

    assert group is not None
    assert group.course_id == COURSE


def test_only_course_group_events_about_this_group_make_versions() -> None:
    view = stored(caliper_event("1.1", "ViewEvent", "Viewed", 2, node("1.1", GROUP, "Group")), 2)
    other_group = stored(
        caliper_event("1.1", "CourseGroupEvent", "Created", 3, node("1.1", f"{GROUP}0", "Group")), 3
    )

    group = fold_group(GROUP, [group_event("Created", 1, 1), view, other_group])

    assert group is not None
    assert [version.event_position for version in group.history] == [1]
    assert fold_group(GROUP, [view]) is None
