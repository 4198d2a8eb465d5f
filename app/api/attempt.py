from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

from app.api.analytics import ScoreStatistics, item_score_statistics
from app.api.content_item import ContentItem
from app.api.links import owning_course
from app.api.person import Person
from app.api.scalars import DateTime
from app.projections.attempts import AttemptState, GradableItemState
from app.projections.attempts import Score as ScoreState

if TYPE_CHECKING:
    pass


@strawberry.type(
    description="One grade given to an attempt. GradeEvent (Caliper 1.1) fills scoreGiven and "
    "maxScore from `generated`; OutcomeEvent (Caliper 1.0) fills scoreGiven from "
    "generated.normalScore and keeps the other Result scores as they were sent."
)
class Score:
    score_given: float | None
    max_score: float | None
    normal_score: float | None
    penalty_score: float | None
    extra_credit_score: float | None
    total_score: float | None
    curved_total_score: float | None
    comment: str | None
    graded_at: DateTime
    event_type: str
    action_name: str | None
    event_position: int

    @classmethod
    def from_state(cls, s: ScoreState) -> Score:
        return cls(
            score_given=s.score_given,
            max_score=s.max_score,
            normal_score=s.normal_score,
            penalty_score=s.penalty_score,
            extra_credit_score=s.extra_credit_score,
            total_score=s.total_score,
            curved_total_score=s.curved_total_score,
            comment=s.comment,
            graded_at=s.graded_at_ms,
            event_type=s.event_type,
            action_name=s.action_name,
            event_position=s.event_position,
        )


@strawberry.type
class GradableItem:
    id: strawberry.ID
    learn_id: str | None
    max_score: float | None
    max_attempts: int | None
    date_to_submit: DateTime | None
    state: strawberry.Private[GradableItemState]
    course_id: strawberry.Private[str | None]
    as_of: strawberry.Private[int | None]

    @classmethod
    def from_state(
        cls, s: GradableItemState, course_id: str | None, as_of: int | None
    ) -> GradableItem:
        return cls(
            id=strawberry.ID(s.id),
            learn_id=s.learn_id,
            max_score=s.max_score,
            max_attempts=s.max_attempts,
            date_to_submit=s.date_to_submit_ms,
            state=s,
            course_id=course_id,
            as_of=as_of,
        )

    @strawberry.field(
        description="The course's content item whose learnId is the bb:content.id that grade "
        "events for this item carry, where there is one."
    )
    async def content_item(self, info: Info) -> ContentItem | None:
        wanted = self.state.content_learn_id
        if not wanted or not self.course_id:
            return None
        items = await info.context.course_content_items().load((self.course_id, self.as_of))
        for item in items:
            if item.learn_id == wanted:
                return ContentItem.from_state(item, self.as_of)
        return None

    @strawberry.field(description="over the item's attempts whose current score has a scoreGiven")
    async def score_statistics(self, info: Info) -> ScoreStatistics:
        return await item_score_statistics(
            info, self.state.id, self.course_id, self.as_of, self.max_score
        )


@strawberry.type
class Attempt:
    id: strawberry.ID
    learn_id: str | None
    count: int | None
    started_at: DateTime | None
    state: strawberry.Private[AttemptState]
    as_of: strawberry.Private[int | None]

    @classmethod
    def from_state(cls, s: AttemptState, as_of: int | None) -> Attempt:
        return cls(
            id=strawberry.ID(s.id),
            learn_id=s.learn_id,
            count=s.count,
            started_at=s.started_at_ms,
            state=s,
            as_of=as_of,
        )

    @strawberry.field
    async def gradable_item(self, info: Info) -> GradableItem:
        state = await info.context.gradable_items().load((self.state.gradable_item_id, self.as_of))
        if state is None:  # only the attempt's IRI names it: serve what that says
            state = GradableItemState(
                id=self.state.gradable_item_id,
                learn_id=self.state.gradable_item_id.rstrip("/").rsplit("/", 1)[-1],
                max_score=None,
                max_attempts=None,
                date_to_submit_ms=None,
                content_learn_id=None,
                course_id=self.state.course_id,
            )
        return GradableItem.from_state(state, self.state.course_id, self.as_of)

    @strawberry.field
    async def assignee(self, info: Info) -> Person | None:
        if not self.state.assignee_id:
            return None
        state = await info.context.people().load((self.state.assignee_id, self.as_of))
        return Person.from_state(state) if state else None

    course = strawberry.field(resolver=owning_course)

    @strawberry.field(description="the latest by gradedAt; null before any grade")
    def score(self) -> Score | None:
        return Score.from_state(self.state.score) if self.state.score else None

    @strawberry.field(description="oldest first")
    def history(self) -> list[Score]:
        return [Score.from_state(s) for s in self.state.history]
