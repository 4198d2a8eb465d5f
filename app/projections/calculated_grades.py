"""Calculated grades, from the nightly CalculatedGradeSnapshotEvent.

Learn gives every snapshot a new object IRI (…/calculatedGrade/<synVersion>), so
a grade is keyed by course IRI + itemId + user IRI (reader.calculated_grade_key).
Each snapshot carries the grade's whole state: unlike every other entity, a
score that is null or absent clears the previous one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.caliper.reader import calculated_grade_key
from app.caliper.values import ref_id
from app.projections.coerce import as_bool, as_float, as_int
from store.records import StoredEvent

EVENT_TYPE = "CalculatedGradeSnapshotEvent"

# A snapshot without a version sorts before every versioned one: nothing says it is newer.
NO_VERSION = 0


@dataclass(frozen=True, slots=True)
class CalculatedGradeSnapshot:
    syn_version: int  # synVersion (1.0) or syncVersion (1.1); NO_VERSION when neither
    score: float | None  # None: not graded
    score_possible: float | None
    calculated_at_ms: int  # the snapshot's eventTime
    event_position: int


@dataclass(frozen=True, slots=True)
class CalculatedGradeState:
    id: str  # "<course IRI>|<itemId>|<user IRI>"
    item_id: str | None
    user_id: str | None  # the person's IRI
    course_id: str | None
    score: float | None
    score_possible: float | None
    is_course_grade: bool
    syn_version: int
    calculated_at_ms: int
    history: list[CalculatedGradeSnapshot]  # by version, then eventTime, then store order


def fold_calculated_grade(
    grade_key: str, events: Iterable[StoredEvent]
) -> CalculatedGradeState | None:
    snapshots: list[tuple[tuple[int, int, int], StoredEvent, dict[str, Any]]] = []
    for event in events:
        if event.type != EVENT_TYPE:
            continue
        grade = event.raw.get("object")
        if not isinstance(grade, dict):
            continue
        if calculated_grade_key(event.course_id, grade.get("itemId"), _user_of(grade)) != grade_key:
            continue
        version = _version_of(grade)
        snapshots.append(((version, event.event_time_ms, event.position), event, grade))
    if not snapshots:
        return None
    snapshots.sort(key=lambda snapshot: snapshot[0])

    history = [
        CalculatedGradeSnapshot(
            syn_version=order[0],
            score=as_float(grade.get("score")),
            score_possible=as_float(grade.get("scorePossible")),
            calculated_at_ms=event.event_time_ms,
            event_position=event.position,
        )
        for order, event, grade in snapshots
    ]
    _, last_event, last_grade = snapshots[-1]
    current = history[-1]
    item_id = last_grade.get("itemId")
    return CalculatedGradeState(
        id=grade_key,
        item_id=None if item_id is None else str(item_id),
        user_id=_user_of(last_grade),
        course_id=last_event.course_id,
        score=current.score,
        score_possible=current.score_possible,
        is_course_grade=as_bool(last_grade.get("isCourseGrade")) or False,
        syn_version=current.syn_version,
        calculated_at_ms=current.calculated_at_ms,
        history=history,
    )


def _user_of(grade: dict[str, Any]) -> str | None:
    return ref_id(grade.get("user"))


def _version_of(grade: dict[str, Any]) -> int:
    version = grade.get("synVersion")
    if version is None:
        version = grade.get("syncVersion")
    found = as_int(version)
    return NO_VERSION if found is None else found
