from __future__ import annotations

import strawberry

from app.projections.people import PersonState


@strawberry.type
class Person:
    id: strawberry.ID
    user_id: str | None = strawberry.field(description="bb:user.id")
    external_id: str | None = strawberry.field(description="bb:user.externalId (batch_uid)")

    @classmethod
    def from_state(cls, state: PersonState) -> Person:
        return cls(id=strawberry.ID(state.id), user_id=state.user_id, external_id=state.external_id)
