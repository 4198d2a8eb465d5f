from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from app.api.links import owning_course
from app.api.scalars import DateTime
from app.projections.content_items import ContentItemState

if TYPE_CHECKING:
    pass


@strawberry.type
class ContentItemVersion:
    valid_from: DateTime
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
    due_date: DateTime | None
    aggregation_model: str | None
    deleted: bool


@strawberry.type
class ContentItem:
    id: strawberry.ID
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
    due_date: DateTime | None
    aggregation_model: str | None
    deleted: bool
    created_at: DateTime | None
    updated_at: DateTime | None
    state: strawberry.Private[ContentItemState]
    as_of: strawberry.Private[int | None]

    @classmethod
    def from_state(cls, s: ContentItemState, as_of: int | None) -> ContentItem:
        return cls(
            id=strawberry.ID(s.id),
            learn_id=s.learn_id,
            name=s.name,
            description=s.description,
            handler=s.handler,
            render_type=s.render_type,
            is_folder=s.is_folder,
            is_lesson=s.is_lesson,
            is_group_content=s.is_group_content,
            data_version=s.data_version,
            score_possible=s.score_possible,
            due_date=s.due_date_ms,
            aggregation_model=s.aggregation_model,
            deleted=s.deleted,
            created_at=s.created_at_ms,
            updated_at=s.updated_at_ms,
            state=s,
            as_of=as_of,
        )

    course = strawberry.field(resolver=owning_course)

    @strawberry.field
    def history(self) -> list[ContentItemVersion]:
        return [
            ContentItemVersion(
                valid_from=v.valid_from_ms,
                action=v.action,
                event_position=v.event_position,
                changed_fields=v.changed_fields,
                name=v.name,
                description=v.description,
                handler=v.handler,
                render_type=v.render_type,
                is_folder=v.is_folder,
                is_lesson=v.is_lesson,
                is_group_content=v.is_group_content,
                data_version=v.data_version,
                score_possible=v.score_possible,
                due_date=v.due_date_ms,
                aggregation_model=v.aggregation_model,
                deleted=v.deleted,
            )
            for v in self.state.history
        ]
