"""Attempts and their scores, from GradeEvent (Caliper 1.1) and OutcomeEvent
(Caliper 1.0); gradable items from the same events' `assignable`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.caliper.values import extensions, last_segment, present, ref_id
from app.projections.coerce import as_float, as_int, as_text, as_time_ms
from app.projections.versioning import course_of, fold_order, is_legacy_style, read_sent
from store.records import StoredEvent

GRADE_EVENT = "GradeEvent"
OUTCOME_EVENT = "OutcomeEvent"
EVENT_TYPES = (GRADE_EVENT, OUTCOME_EVENT)


@dataclass(frozen=True, slots=True)
class Score:
    score_given: float | None
    max_score: float | None
    normal_score: float | None
    penalty_score: float | None
    extra_credit_score: float | None
    total_score: float | None
    curved_total_score: float | None
    comment: str | None
    graded_at_ms: int  # the event's eventTime
    event_type: str  # GradeEvent | OutcomeEvent
    action_name: str | None  # bb:action.name where sent
    event_position: int


@dataclass(frozen=True, slots=True)
class AttemptState:
    id: str
    learn_id: str | None
    gradable_item_id: str | None
    assignee_id: str | None  # the student's person IRI
    course_id: str | None
    count: int | None
    started_at_ms: int | None
    score: Score | None  # the latest by gradedAt, then store order
    history: list[Score]  # oldest first


@dataclass(frozen=True, slots=True)
class GradableItemState:
    id: str
    learn_id: str | None
    max_score: float | None
    max_attempts: int | None
    date_to_submit_ms: int | None
    content_learn_id: str | None  # bb:content.id that grade events for this item carry
    course_id: str | None


def fold_attempt(attempt_id: str, events: Iterable[StoredEvent]) -> AttemptState | None:
    own = [event for event in events if event.type in EVENT_TYPES and event.object_id == attempt_id]
    if not own:
        return None
    own.sort(key=fold_order)

    gradable_item_id: str | None = None
    assignee_id: str | None = None
    count: int | None = None
    started_at_ms: int | None = None
    scores: list[Score] = []
    for event in own:
        raw = event.raw
        attempt = raw.get("object")
        if not isinstance(attempt, dict):
            attempt = {}
        legacy = is_legacy_style(raw)
        # References identify; a null one says nothing, so they only ever move on.
        gradable_item_id = ref_id(attempt.get("assignable")) or gradable_item_id
        assignee_id = _assignee_of(event, attempt) or assignee_id
        count = read_sent(attempt, "count", count, legacy, as_int)
        started_at_ms = read_sent(attempt, "startedAtTime", started_at_ms, legacy, as_time_ms)
        score = _score_of(event)
        if score is not None:
            scores.append(score)

    return AttemptState(
        id=attempt_id,
        learn_id=last_segment(attempt_id),
        gradable_item_id=gradable_item_id,
        assignee_id=assignee_id,
        course_id=course_of(own),
        count=count,
        started_at_ms=started_at_ms,
        # Scores follow the fold order, which is gradedAt (eventTime), then store order.
        score=scores[-1] if scores else None,
        history=scores,
    )


def fold_gradable_item(item_id: str, events: Iterable[StoredEvent]) -> GradableItemState | None:
    """maxScore, maxAttempts and dateToSubmit come from the assignable when it is an
    object (1.0 events name it by IRI only); each from the latest event carrying it."""
    own = [
        event
        for event in events
        if event.type in EVENT_TYPES and ref_id(_assignable_of(event)) == item_id
    ]
    if not own:
        return None
    own.sort(key=fold_order)

    max_score: float | None = None
    max_attempts: int | None = None
    date_to_submit_ms: int | None = None
    content_learn_id: str | None = None
    for event in own:
        assignable = _assignable_of(event)
        if isinstance(assignable, dict):
            max_score = _latest(as_float(assignable.get("maxScore")), max_score)
            max_attempts = _latest(as_int(assignable.get("maxAttempts")), max_attempts)
            due = as_time_ms(assignable.get("dateToSubmit"))
            date_to_submit_ms = _latest(due, date_to_submit_ms)
        content_id = extensions(event.raw.get("generated")).get("bb:content.id")
        if present(content_id):
            content_learn_id = str(content_id)

    return GradableItemState(
        id=item_id,
        learn_id=last_segment(item_id),
        max_score=max_score,
        max_attempts=max_attempts,
        date_to_submit_ms=date_to_submit_ms,
        content_learn_id=content_learn_id,
        course_id=course_of(own),
    )


def _latest(value: Any, previous: Any) -> Any:
    """`value` when this event carries one (0 counts), else what an earlier one did."""
    return previous if value is None else value


def _assignable_of(event: StoredEvent) -> Any:
    """The gradable item as the event sends it: an object (1.1) or an IRI (1.0)."""
    attempt = event.raw.get("object")
    return attempt.get("assignable") if isinstance(attempt, dict) else None


def _assignee_of(event: StoredEvent, attempt: dict[str, Any]) -> str | None:
    if event.type == OUTCOME_EVENT:
        # Caliper 1.0: the attempt names its student by IRI in `actor`, who is
        # also the event's actor.
        return ref_id(attempt.get("actor")) or event.actor_id
    return ref_id(attempt.get("assignee"))


def _score_of(event: StoredEvent) -> Score | None:
    generated = event.raw.get("generated")
    if not isinstance(generated, dict):
        return None
    action_name = extensions(generated).get("bb:action.name")
    if not present(action_name):
        action_name = extensions(event.raw).get("bb:action.name")
    if event.type == OUTCOME_EVENT:
        # A Result: the normal score is the score given; the rest is kept as sent
        # (Learn sends totalScore 0.0 beside a normalScore of 10.0).
        normal_score = as_float(generated.get("normalScore"))
        return Score(
            score_given=normal_score,
            max_score=None,
            normal_score=normal_score,
            penalty_score=as_float(generated.get("penaltyScore")),
            extra_credit_score=as_float(generated.get("extraCreditScore")),
            total_score=as_float(generated.get("totalScore")),
            curved_total_score=as_float(generated.get("curvedTotalScore")),
            comment=as_text(generated.get("comment")),
            graded_at_ms=event.event_time_ms,
            event_type=event.type,
            action_name=as_text(action_name),
            event_position=event.position,
        )
    # A Score. maxScore is kept as sent, even the 0 Learn sends beside an
    # assignable whose maxScore is 160.
    return Score(
        score_given=as_float(generated.get("scoreGiven")),
        max_score=as_float(generated.get("maxScore")),
        normal_score=None,
        penalty_score=None,
        extra_credit_score=None,
        total_score=None,
        curved_total_score=None,
        comment=as_text(generated.get("comment")),
        graded_at_ms=event.event_time_ms,
        event_type=event.type,
        action_name=as_text(action_name),
        event_position=event.position,
    )
