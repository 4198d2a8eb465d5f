"""Content items, from ContentEvent (Created / Modified / Deleted).

The object carries the item's state at that moment; Caliper 1.0 events may add
`generated` of type UpdatedContentProperties, {oldValue, newValue} per changed
property, applied after the object."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from app.caliper.values import extensions, last_segment, present, short_type
from app.projections.coerce import as_bool, as_float, as_int, as_text, as_time_ms
from app.projections.versioning import Revision, fold_history
from store.records import StoredEvent

EVENT_TYPE = "ContentEvent"

# GraphQL field name (also the object's key) → how its value is read.
_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "aggregationModel": as_text,
    "dataVersion": as_int,
    "description": as_text,
    "dueDate": as_time_ms,
    "handler": as_text,
    "isFolder": as_bool,
    "isGroupContent": as_bool,
    "isLesson": as_bool,
    "name": as_text,
    "renderType": as_text,
    "scorePossible": as_float,
}
FIELDS = tuple(_CONVERTERS)

# UpdatedContentProperties calls the name `title`. Its `mainData` is the item's body,
# which the API does not serve (it is not the description), so it is not applied.
_PROPERTY_ALIASES = {"title": "name"}
_PROPERTY_FIELDS = {**{field: field for field in FIELDS}, **_PROPERTY_ALIASES}


@dataclass(frozen=True, slots=True)
class ContentItemVersion:
    valid_from_ms: int
    action: str
    event_position: int
    changed_fields: list[str]
    name: str | None
    description: str | None
    handler: str | None
    render_type: str | None
    is_folder: bool | None
    is_lesson: bool | None
    is_group_content: bool | None
    data_version: int | None
    score_possible: float | None
    due_date_ms: int | None
    aggregation_model: str | None
    deleted: bool


@dataclass(frozen=True, slots=True)
class ContentItemState:
    id: str
    learn_id: str | None
    name: str | None
    description: str | None
    handler: str | None
    render_type: str | None
    is_folder: bool | None
    is_lesson: bool | None
    is_group_content: bool | None
    data_version: int | None
    score_possible: float | None
    due_date_ms: int | None
    aggregation_model: str | None
    deleted: bool
    created_at_ms: int
    updated_at_ms: int
    course_id: str | None
    history: list[ContentItemVersion]


def fold_content_item(item_id: str, events: Iterable[StoredEvent]) -> ContentItemState | None:
    history = fold_history(item_id, events, EVENT_TYPE, FIELDS, _read_updates)
    if history is None:
        return None
    versions = [_version(revision) for revision in history.revisions]
    current = versions[-1]
    return ContentItemState(
        id=item_id,
        learn_id=_learn_id(item_id, history.revisions),
        name=current.name,
        description=current.description,
        handler=current.handler,
        render_type=current.render_type,
        is_folder=current.is_folder,
        is_lesson=current.is_lesson,
        is_group_content=current.is_group_content,
        data_version=current.data_version,
        score_possible=current.score_possible,
        due_date_ms=current.due_date_ms,
        aggregation_model=current.aggregation_model,
        deleted=current.deleted,
        created_at_ms=history.created_at_ms,
        updated_at_ms=history.updated_at_ms,
        course_id=history.course_id,
        history=versions,
    )


def _version(revision: Revision) -> ContentItemVersion:
    values = revision.values
    event = revision.event
    return ContentItemVersion(
        valid_from_ms=event.event_time_ms,
        action=event.action,
        event_position=event.position,
        changed_fields=revision.changed_fields,
        name=values["name"],
        description=values["description"],
        handler=values["handler"],
        render_type=values["renderType"],
        is_folder=values["isFolder"],
        is_lesson=values["isLesson"],
        is_group_content=values["isGroupContent"],
        data_version=values["dataVersion"],
        score_possible=values["scorePossible"],
        due_date_ms=values["dueDate"],
        aggregation_model=values["aggregationModel"],
        deleted=values["deleted"],
    )


def _read_updates(raw: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    content = raw.get("object")
    if isinstance(content, dict):
        for field, convert in _CONVERTERS.items():
            if field in content:
                value = content[field]
                yield field, None if value is None else convert(value)
    changes = raw.get("generated")
    if isinstance(changes, dict) and short_type(changes) == "UpdatedContentProperties":
        for key, field in _PROPERTY_FIELDS.items():
            change = changes.get(key)
            # An unchanged property is null, or has no newValue.
            if isinstance(change, dict) and "newValue" in change:
                value = change["newValue"]
                yield field, None if value is None else _CONVERTERS[field](value)


def _learn_id(item_id: str, revisions: list[Revision]) -> str | None:
    """bb:content.id from the latest event that carries it, else the IRI's last segment."""
    for revision in reversed(revisions):
        learn_id = extensions(revision.event.raw.get("object")).get("bb:content.id")
        if present(learn_id):
            return str(learn_id)
    return last_segment(item_id)
