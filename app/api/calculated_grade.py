from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

from app.api.links import owning_course
from app.api.person import Person
from app.api.scalars import DateTime
from app.projections.calculated_grades import CalculatedGradeState
from app.projections.people import PersonState

if TYPE_CHECKING:
    pass


@strawberry.type
class CalculatedGradeSnapshot:
    syn_version: int
    score: float | None
    score_possible: float | None
    calculated_at: DateTime
    event_position: int


@strawberry.type(
    description="One user's calculated grade column. Learn sends a new snapshot IRI each time "
    '(…/calculatedGrade/<synVersion>), so the stable id is "<course id>|<itemId>|<user id>". '
    "Snapshots are ordered by synVersion."
)
class CalculatedGrade:
    id: strawberry.ID
    item_id: str
    score: float | None
    score_possible: float | None
    is_course_grade: bool
    syn_version: int
    calculated_at: DateTime
    state: strawberry.Private[CalculatedGradeState]
    as_of: strawberry.Private[int | None]

    @classmethod
    def from_state(cls, s: CalculatedGradeState, as_of: int | None) -> CalculatedGrade:
        return cls(
            id=strawberry.ID(s.id),
            item_id=s.item_id or "",
            score=s.score,
            score_possible=s.score_possible,
            is_course_grade=bool(s.is_course_grade),
            syn_version=s.syn_version or 0,
            calculated_at=s.calculated_at_ms,
            state=s,
            as_of=as_of,
        )

    @strawberry.field
    async def user(self, info: Info) -> Person:
        state = await info.context.people().load((self.state.user_id, self.as_of))
        if state is None:
            state = PersonState(
                id=self.state.user_id or "",
                user_id=None,
                external_id=None,
                last_event_ms=0,
                last_event_position=0,
            )
        return Person.from_state(state)

    course = strawberry.field(resolver=owning_course)

    @strawberry.field
    def history(self) -> list[CalculatedGradeSnapshot]:
        return [
            CalculatedGradeSnapshot(
                syn_version=snap.syn_version or 0,
                score=snap.score,
                score_possible=snap.score_possible,
                calculated_at=snap.calculated_at_ms,
                event_position=snap.event_position,
            )
            for snap in self.state.history
        ]
