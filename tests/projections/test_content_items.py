from __future__ import annotations

from typing import Any

from app.projections.content_items import fold_content_item
from store.records import StoredEvent

from .factories import COURSE, SITE, caliper_event, ms, node, stored

ITEM = f"{SITE}/content/_11206_1"
DUE = "2021-01-19T06:59:00.000Z"
DUE_MS = 1_611_039_540_000


def content_event(
    action: str,
    minute: int,
    position: int,
    *,
    style: str = "1.1",
    generated: dict[str, Any] | None = None,
    **fields: Any,
) -> StoredEvent:
    extra = {} if generated is None else {"generated": generated}
    item = node(style, ITEM, "Content", **fields)
    return stored(caliper_event(style, "ContentEvent", action, minute, item, **extra), position)


def changes(**properties: Any) -> dict[str, Any]:
    """A Caliper 1.0 UpdatedContentProperties: {oldValue, newValue} per property."""
    return node("1.0", f"{ITEM}/updatedProperties", "UpdatedContentProperties", **properties)


FULL_ITEM = {
    "name": "",
    "description": "",
    "handler": "resource/x-bb-forumlink",
    "isLesson": False,
    "isFolder": False,
    "isGroupContent": False,
    "dataVersion": 3,
    "renderType": "LINK",
    "scorePossible": 20,
    "dueDate": DUE,
    "aggregationModel": "Last",
}


def test_no_event_no_item() -> None:
    assert fold_content_item(ITEM, []) is None


def test_created_item_reads_every_field_of_the_object() -> None:
    item = fold_content_item(ITEM, [content_event("Created", 1, 1, **FULL_ITEM)])

    assert item is not None
    assert item.learn_id == "_11206_1"
    assert item.name == ""
    assert item.description == ""
    assert item.handler == "resource/x-bb-forumlink"
    assert item.render_type == "LINK"
    assert (item.is_folder, item.is_lesson, item.is_group_content) == (False, False, False)
    assert item.data_version == 3
    assert item.score_possible == 20.0
    assert isinstance(item.score_possible, float)
    assert item.due_date_ms == DUE_MS
    assert item.aggregation_model == "Last"
    assert item.deleted is False
    assert item.course_id == COURSE
    # Empty strings and false are values; a false `deleted` is not listed.
    assert item.history[0].changed_fields == [
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


def test_first_version_leaves_out_fields_never_sent() -> None:
    item = fold_content_item(ITEM, [content_event("Created", 1, 1, name="Week 1", isFolder=True)])

    assert item is not None
    assert item.history[0].changed_fields == ["isFolder", "name"]
    assert item.description is None


def test_absent_keeps_and_null_clears_in_the_1_1_style() -> None:
    events = [
        content_event("Modified", 3, 3, scorePossible=None, dueDate=None),
        content_event("Modified", 2, 2, name="Renamed"),
        content_event("Created", 1, 1, **FULL_ITEM),
    ]

    item = fold_content_item(ITEM, events)

    assert item is not None
    assert [version.changed_fields for version in item.history] == [
        item.history[0].changed_fields,
        ["name"],
        ["dueDate", "scorePossible"],
    ]
    renamed = item.history[1]
    assert (renamed.name, renamed.score_possible, renamed.due_date_ms) == ("Renamed", 20.0, DUE_MS)
    assert (item.name, item.score_possible, item.due_date_ms) == ("Renamed", None, None)
    assert item.handler == "resource/x-bb-forumlink"


def test_null_keeps_in_the_1_0_style() -> None:
    events = [
        content_event("Created", 1, 1, style="1.0", handler="resource/x-bb-folder", isFolder=True),
        content_event("Modified", 2, 2, style="1.0", handler=None, isFolder=None),
    ]

    item = fold_content_item(ITEM, events)

    assert item is not None
    assert item.history[1].action == "Modified"
    assert item.history[1].changed_fields == []
    assert (item.handler, item.is_folder) == ("resource/x-bb-folder", True)


def test_updated_content_properties_apply_new_values_and_title_as_name() -> None:
    created = content_event(
        "Created",
        1,
        1,
        style="1.0",
        handler="resource/x-bb-document",
        generated=changes(
            title={"oldValue": None, "newValue": "Syllabus"},
            mainData={"oldValue": None, "newValue": ""},
            position={"oldValue": None, "newValue": -1},
            startDate=None,
        ),
    )
    modified = content_event(
        "Modified",
        2,
        2,
        style="1.0",
        generated=changes(
            title={"oldValue": "Syllabus", "newValue": "Course syllabus"},
            mainData={"oldValue": "", "newValue": None},
            dueDate={"oldValue": None, "newValue": DUE},
            scorePossible={"oldValue": None, "newValue": 10},
        ),
    )

    item = fold_content_item(ITEM, [modified, created])

    assert item is not None
    first, second = item.history
    # mainData is the body, not the description: it leaves the description unset.
    assert (first.name, first.description) == ("Syllabus", None)
    assert first.changed_fields == ["handler", "name"]
    assert (second.name, second.description, second.score_possible) == (
        "Course syllabus",
        None,
        10.0,
    )
    assert second.due_date_ms == DUE_MS
    assert second.changed_fields == ["dueDate", "name", "scorePossible"]


def test_updated_content_properties_win_over_the_object() -> None:
    created = content_event(
        "Created",
        1,
        1,
        style="1.0",
        name="Old",
        generated=changes(title={"oldValue": "Old", "newValue": "New"}),
    )

    item = fold_content_item(ITEM, [created])

    assert item is not None
    assert item.name == "New"


def test_deleted_then_modified() -> None:
    events = [
        content_event("Created", 1, 1, name="Page"),
        content_event("Deleted", 2, 2),
        content_event("Modified", 3, 3),
    ]

    item = fold_content_item(ITEM, events)

    assert item is not None
    assert [version.deleted for version in item.history] == [False, True, False]
    assert [version.changed_fields for version in item.history] == [
        ["name"],
        ["deleted"],
        ["deleted"],
    ]
    assert item.deleted is False
    assert item.name == "Page"
    assert item.created_at_ms == ms(1)
    assert item.updated_at_ms == ms(3)


def test_same_event_time_keeps_store_order() -> None:
    events = [
        content_event("Modified", 1, 8, dataVersion=5),
        content_event("Modified", 1, 4, dataVersion=4),
    ]

    item = fold_content_item(ITEM, events)

    assert item is not None
    assert [version.data_version for version in item.history] == [4, 5]
    assert item.data_version == 5


def test_learn_id_prefers_bb_content_id() -> None:
    item = fold_content_item(
        ITEM, [content_event("Created", 1, 1, extensions={"bb:content.id": "_7_1"})]
    )

    assert item is not None
    assert item.learn_id == "_7_1"


def test_view_events_of_the_item_are_not_versions() -> None:
    view = stored(caliper_event("1.1", "ViewEvent", "Viewed", 2, node("1.1", ITEM, "Content")), 2)

    item = fold_content_item(ITEM, [content_event("Created", 1, 1, name="Page"), view])

    assert item is not None
    assert len(item.history) == 1
