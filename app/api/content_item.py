from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from app.api.analytics import ViewStatistics, item_view_statistics
from app.api.links import owning_course
from app.api.scalars import DateTime
from app.projections.content_items import ContentItemState
from app.projections.content_items import ContentItemVersion as VersionState

# GraphQL field → projection attribute, for the data fields items and versions share.
_DATA_FIELDS = {
    "name": "name",
    "description": "description",
    "handler": "handler",
    "render_type": "render_type",
    "is_folder": "is_folder",
    "is_lesson": "is_lesson",
    "is_group_content": "is_group_content",
    "data_version": "data_version",
    "score_possible": "score_possible",
    "due_date": "due_date_ms",
    "aggregation_model": "aggregation_model",
    "deleted": "deleted",
}


def _data(state: ContentItemState | VersionState) -> dict[str, Any]:
    return {field: getattr(state, attribute) for field, attribute in _DATA_FIELDS.items()}


@strawberry.type
class ContentData:
    """The data fields of a content item, now or at one version."""

    name: str | None
    description: str | None
    handler: str | None
    render_type: str | None
    is_folder: bool | None
    is_lesson: bool | None
    is_group_content: bool | None
    data_version: int | None
    score_possible: float | None
    due_date: DateTime | None
    aggregation_model: str | None
    deleted: bool


@strawberry.type
class ContentItemVersion(ContentData):
    valid_from: DateTime
    action: str
    event_position: int
    changed_fields: list[str]

    @classmethod
    def from_state(cls, v: VersionState) -> ContentItemVersion:
        return cls(
            valid_from=v.valid_from_ms,
            action=v.action,
            event_position=v.event_position,
            changed_fields=v.changed_fields,
            **_data(v),
        )


@strawberry.type
class ContentItem(ContentData):
    id: strawberry.ID
    learn_id: str | None
    created_at: DateTime | None
    updated_at: DateTime | None
    state: strawberry.Private[ContentItemState]
    as_of: strawberry.Private[int | None]

    @classmethod
    def from_state(cls, s: ContentItemState, as_of: int | None) -> ContentItem:
        return cls(
            id=strawberry.ID(s.id),
            learn_id=s.learn_id,
            created_at=s.created_at_ms,
            updated_at=s.updated_at_ms,
            state=s,
            as_of=as_of,
            **_data(s),
        )

    course = strawberry.field(resolver=owning_course)

    @strawberry.field(description="Viewed or NavigatedTo events whose object is the item")
    async def view_statistics(self, info: Info) -> ViewStatistics:
        return await item_view_statistics(info, self.state.id, self.as_of)

    @strawberry.field
    def history(self) -> list[ContentItemVersion]:
        return [ContentItemVersion.from_state(v) for v in self.state.history]
