from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from app.api.links import owning_course
from app.api.scalars import DateTime
from app.projections.groups import GroupState

if TYPE_CHECKING:
    pass


@strawberry.type
class GroupVersion:
    valid_from: DateTime
    action: str
    event_position: int
    changed_fields: list[str]
    name: str | None
    member_ids: list[str]
    deleted: bool


@strawberry.type
class Group:
    id: strawberry.ID
    learn_id: str | None
    name: str | None
    member_ids: list[str] = strawberry.field(
        description="course membership ids from bb:group.users, sorted"
    )
    deleted: bool
    created_at: DateTime | None
    updated_at: DateTime | None
    state: strawberry.Private[GroupState]
    as_of: strawberry.Private[int | None]

    @classmethod
    def from_state(cls, state: GroupState, as_of: int | None) -> Group:
        return cls(
            id=strawberry.ID(state.id),
            learn_id=state.learn_id,
            name=state.name,
            member_ids=state.member_ids,
            deleted=state.deleted,
            created_at=state.created_at_ms,
            updated_at=state.updated_at_ms,
            state=state,
            as_of=as_of,
        )

    course = strawberry.field(resolver=owning_course)

    @strawberry.field
    def history(self) -> list[GroupVersion]:
        return [
            GroupVersion(
                valid_from=v.valid_from_ms,
                action=v.action,
                event_position=v.event_position,
                changed_fields=v.changed_fields,
                name=v.name,
                member_ids=v.member_ids,
                deleted=v.deleted,
            )
            for v in self.state.history
        ]
