from __future__ import annotations

from typing import Any

from app.projections.attempts import fold_attempt, fold_gradable_item
from store.records import StoredEvent

from .factories import COURSE, LEARN, SITE, STUDENT, at, caliper_event, ms, node, stored

ITEM = f"{SITE}/gradableItems/_893_1"
ATTEMPT = f"{ITEM}/attempts/_9_1"
GRADE_ACTION = "instructor.grade.history.event.attempt.grade"


def assessment(**fields: Any) -> dict[str, Any]:
    return node("1.1", ITEM, "Assessment", **fields)


def grade_event(
    minute: int,
    position: int,
    score_given: float | None,
    *,
    second: int = 0,
    assignable: Any = ITEM,
    generated_extensions: dict[str, Any] | None = None,
    **attempt_fields: Any,
) -> StoredEvent:
    """A Caliper 1.1 GradeEvent: the application grades the student's attempt."""
    attempt = node(
        "1.1",
        ATTEMPT,
        "Attempt",
        assignee=node("1.1", STUDENT, "Person", extensions={"bb:user.id": "_12_1"}),
        assignable=assignable,
        **attempt_fields,
    )
    score = node(
        "1.1",
        f"{ATTEMPT}/score",
        "Score",
        scoreGiven=score_given,
        maxScore=0,
        extensions={"bb:action.name": GRADE_ACTION}
        if generated_extensions is None
        else generated_extensions,
    )
    raw = caliper_event(
        "1.1",
        "GradeEvent",
        "Graded",
        minute,
        attempt,
        second=second,
        actor=node("1.1", LEARN, "SoftwareApplication"),
        generated=score,
    )
    return stored(raw, position)


def outcome_event(
    minute: int, position: int, normal_score: float, **attempt_fields: Any
) -> StoredEvent:
    """A Caliper 1.0 OutcomeEvent: references are IRI strings, the student is the actor."""
    attempt = node("1.0", ATTEMPT, "Attempt", assignable=ITEM, actor=STUDENT, **attempt_fields)
    result = node(
        "1.0",
        f"{ATTEMPT}/result",
        "Result",
        extensions={},
        normalScore=normal_score,
        penaltyScore=1.5,
        extraCreditScore=0.0,
        totalScore=0.0,
        curvedTotalScore=0.0,
        curveFactor=0.0,
        comment="Well done",
    )
    raw = caliper_event(
        "1.0",
        "OutcomeEvent",
        "Graded",
        minute,
        attempt,
        actor=node("1.0", STUDENT, "Person", extensions={"bb:user.id": "_12_1"}),
        generated=result,
    )
    return stored(raw, position)


def test_no_event_no_attempt() -> None:
    assert fold_attempt(ATTEMPT, []) is None
    assert fold_gradable_item(ITEM, []) is None


def test_grade_event_score_keeps_the_max_score_learn_sent() -> None:
    event = grade_event(
        1,
        1,
        39.45205,
        assignable=assessment(maxScore=160, maxAttempts=0, dateToSubmit=at(0)),
        count=1,
        startedAtTime=at(0, 30),
    )

    attempt = fold_attempt(ATTEMPT, [event])

    assert attempt is not None
    assert attempt.learn_id == "_9_1"
    assert attempt.gradable_item_id == ITEM
    assert attempt.assignee_id == STUDENT
    assert attempt.course_id == COURSE
    assert attempt.count == 1
    assert attempt.started_at_ms == ms(0, 30)
    score = attempt.score
    assert score is not None
    assert score.score_given == 39.45205
    assert score.max_score == 0
    assert (score.normal_score, score.total_score, score.comment) == (None, None, None)
    assert score.graded_at_ms == ms(1)
    assert score.event_type == "GradeEvent"
    assert score.action_name == GRADE_ACTION
    assert score.event_position == 1
    assert attempt.history == [score]


def test_outcome_event_score_is_the_normal_score_and_keeps_the_rest_as_sent() -> None:
    attempt = fold_attempt(ATTEMPT, [outcome_event(1, 1, 10.0, count=2)])

    assert attempt is not None
    assert attempt.assignee_id == STUDENT
    assert attempt.gradable_item_id == ITEM
    assert attempt.count == 2
    score = attempt.score
    assert score is not None
    assert score.score_given == 10.0
    assert score.normal_score == 10.0
    assert score.max_score is None
    assert score.penalty_score == 1.5
    assert score.extra_credit_score == 0.0
    assert score.total_score == 0.0
    assert score.curved_total_score == 0.0
    assert score.comment == "Well done"
    assert score.event_type == "OutcomeEvent"
    assert score.action_name is None


def test_outcome_event_assignee_falls_back_to_the_event_actor() -> None:
    attempt_node = node("1.0", ATTEMPT, "Attempt", assignable=ITEM, actor=None)
    raw = caliper_event(
        "1.0", "OutcomeEvent", "Graded", 1, attempt_node, actor=node("1.0", STUDENT, "Person")
    )

    attempt = fold_attempt(ATTEMPT, [stored(raw, 1)])

    assert attempt is not None
    assert attempt.assignee_id == STUDENT
    assert attempt.score is None
    assert attempt.history == []


def test_regrades_order_by_graded_at_then_store_order() -> None:
    events = [
        grade_event(9, 3, 80.0),
        grade_event(5, 7, 60.0),
        grade_event(5, 2, 50.0),
        grade_event(1, 9, 10.0),
    ]

    attempt = fold_attempt(ATTEMPT, events)

    assert attempt is not None
    assert [score.score_given for score in attempt.history] == [10.0, 50.0, 60.0, 80.0]
    assert [score.event_position for score in attempt.history] == [9, 2, 7, 3]
    assert attempt.score is not None
    assert attempt.score.score_given == 80.0
    as_of_minute_5 = fold_attempt(ATTEMPT, [e for e in events if e.event_time_ms <= ms(5)])
    assert as_of_minute_5 is not None
    assert as_of_minute_5.score is not None
    assert as_of_minute_5.score.event_position == 7


def test_grade_and_outcome_events_share_one_history() -> None:
    attempt = fold_attempt(ATTEMPT, [grade_event(2, 1, 7.0), outcome_event(1, 2, 5.0)])

    assert attempt is not None
    assert [score.event_type for score in attempt.history] == ["OutcomeEvent", "GradeEvent"]


def test_attempt_fields_absent_keep_and_null_clears() -> None:
    events = [
        grade_event(1, 1, 1.0, count=1, startedAtTime=at(0)),
        grade_event(2, 2, 2.0),
        grade_event(3, 3, 3.0, count=None),
    ]

    kept = fold_attempt(ATTEMPT, events[:2])
    cleared = fold_attempt(ATTEMPT, events)

    assert kept is not None
    assert (kept.count, kept.started_at_ms) == (1, ms(0))
    assert cleared is not None
    assert (cleared.count, cleared.started_at_ms) == (None, ms(0))


def test_a_cleared_score_is_a_score_with_no_score_given() -> None:
    attempt = fold_attempt(ATTEMPT, [grade_event(1, 1, 5.0), grade_event(2, 2, None)])

    assert attempt is not None
    assert attempt.score is not None
    assert attempt.score.score_given is None
    assert len(attempt.history) == 2


def test_action_name_falls_back_to_the_events_extensions() -> None:
    event = grade_event(1, 1, 3.0, generated_extensions={})
    raw = {**event.raw, "extensions": {"bb:action.name": "student.submit"}}

    attempt = fold_attempt(ATTEMPT, [stored(raw, 1)])

    assert attempt is not None
    assert attempt.score is not None
    assert attempt.score.action_name == "student.submit"


def test_gradable_item_reads_the_latest_assignable_object() -> None:
    events = [
        grade_event(3, 3, 1.0, assignable=assessment(maxScore=200)),
        grade_event(
            1,
            1,
            1.0,
            assignable=assessment(maxScore=160, maxAttempts=2, dateToSubmit=at(30)),
            generated_extensions={"bb:content.id": "_555_1"},
        ),
        outcome_event(4, 4, 1.0),
    ]

    item = fold_gradable_item(ITEM, events)

    assert item is not None
    assert item.learn_id == "_893_1"
    assert item.max_score == 200.0
    assert item.max_attempts == 2
    assert item.date_to_submit_ms == ms(30)
    assert item.content_learn_id == "_555_1"
    assert item.course_id == COURSE


def test_gradable_item_named_by_iri_only() -> None:
    item = fold_gradable_item(ITEM, [outcome_event(1, 1, 1.0)])

    assert item is not None
    assert (item.max_score, item.max_attempts, item.date_to_submit_ms) == (None, None, None)
    assert item.content_learn_id is None
    assert fold_gradable_item(f"{ITEM}0", [outcome_event(1, 1, 1.0)]) is None
