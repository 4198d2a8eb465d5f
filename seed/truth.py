"""What the semester generator meant to happen, entity by entity, version by version.

The generator records every entity's intended history while it simulates the
semester; nothing here is read back from the Caliper events. Current state is
always derived from the history, so `GroundTruth.as_of(t)` is just "cut every
history at t" and the final truth and any earlier view share one code path.

Field names follow the GraphQL contract (camelCase for content data fields,
snake_case attributes elsewhere); times are milliseconds since the epoch, UTC,
with `format_instant` giving the exact string the API serves.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

# ContentItem data fields in the contract's order (ContentItemVersion minus the
# bookkeeping fields and `deleted`).
CONTENT_FIELDS: tuple[str, ...] = (
    "name",
    "description",
    "handler",
    "renderType",
    "isFolder",
    "isLesson",
    "isGroupContent",
    "dataVersion",
    "scorePossible",
    "dueDate",
    "aggregationModel",
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def format_instant(ms: int) -> str:
    """Milliseconds since the epoch → `2026-09-14T03:59:00.000Z`, as the API serves it."""
    moment = _EPOCH + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_instant(text: str) -> int:
    """ISO-8601 (any offset; none means UTC) → milliseconds since the epoch."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


# --- people and courses -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonTruth:
    iri: str
    user_id: str  # bb:user.id, e.g. "_1234_1"
    external_id: str  # bb:user.externalId (batch_uid), e.g. "jmartinez"
    given_name: str
    family_name: str
    role: str  # "Instructor" or "Learner"; Learn never sends names, tests may use them
    first_seen_ms: int  # eventTime of the first event that names this person


@dataclass(frozen=True, slots=True)
class CourseTruth:
    iri: str
    course_number: str  # e.g. "BIO-101-F26"
    learn_id: str  # bb:course.id, e.g. "_2041_1"
    name: str  # sent as the CourseOffering's `name` in every Caliper 1.1 course node
    instructor_iris: tuple[str, ...]
    student_iris: tuple[str, ...]
    membership_ids: dict[str, str]  # person IRI → course membership id ("_1126_1")
    first_event_ms: int


# --- groups --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupVersion:
    valid_from_ms: int
    action: str  # Created | Modified | Deleted
    name: str | None
    member_ids: list[str]  # course membership ids, sorted
    deleted: bool
    changed_fields: list[str]  # as caliper.md defines them, sorted


@dataclass(frozen=True, slots=True)
class GroupTruth:
    iri: str
    learn_id: str
    course_iri: str
    history: tuple[GroupVersion, ...]  # eventTime order, one per distinct event

    @property
    def name(self) -> str | None:
        return self.history[-1].name

    @property
    def member_ids(self) -> list[str]:
        return self.history[-1].member_ids

    @property
    def deleted(self) -> bool:
        return self.history[-1].deleted

    @property
    def versions(self) -> int:
        return len(self.history)

    @property
    def created_at_ms(self) -> int:
        return self.history[0].valid_from_ms

    @property
    def updated_at_ms(self) -> int:
        return self.history[-1].valid_from_ms


# --- content -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContentVersion:
    valid_from_ms: int
    action: str  # Created | Modified | Deleted
    fields: dict[str, Any]  # every CONTENT_FIELDS key; dueDate as format_instant text
    deleted: bool
    changed_fields: list[str]


@dataclass(frozen=True, slots=True)
class ContentItemTruth:
    iri: str
    learn_id: str
    course_iri: str
    history: tuple[ContentVersion, ...]

    @property
    def fields(self) -> dict[str, Any]:
        return self.history[-1].fields

    @property
    def name(self) -> str | None:
        return self.fields["name"]

    @property
    def deleted(self) -> bool:
        return self.history[-1].deleted

    @property
    def versions(self) -> int:
        return len(self.history)

    @property
    def created_at_ms(self) -> int:
        return self.history[0].valid_from_ms

    @property
    def updated_at_ms(self) -> int:
        return self.history[-1].valid_from_ms


# --- grades ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GradableItemTruth:
    """A gradebook column with attempts. Its maxScore, maxAttempts and dateToSubmit
    travel only in GradeEvent assignables (OutcomeEvent names the item by IRI)."""

    iri: str
    learn_id: str
    course_iri: str
    content_item_iri: str  # the content item whose learnId GradeEvents send as bb:content.id
    max_score: float
    max_attempts: int
    date_to_submit: str | None
    first_graded_ms: int


@dataclass(frozen=True, slots=True)
class ScoreTruth:
    graded_at_ms: int
    event_type: str  # GradeEvent | OutcomeEvent
    score_given: float
    max_score: float | None  # GradeEvent: 0.0 as Learn sends it; OutcomeEvent: None
    normal_score: float | None
    penalty_score: float | None
    extra_credit_score: float | None
    total_score: float | None
    curved_total_score: float | None
    comment: str | None
    action_name: str | None  # bb:action.name (GradeEvent only)


@dataclass(frozen=True, slots=True)
class AttemptTruth:
    iri: str
    learn_id: str
    course_iri: str
    gradable_item_iri: str
    assignee_iri: str
    count: int
    started_at_ms: int
    history: tuple[ScoreTruth, ...]  # by gradedAt, oldest first

    @property
    def score(self) -> ScoreTruth:
        return self.history[-1]

    @property
    def score_given(self) -> float:
        return self.history[-1].score_given

    @property
    def scores(self) -> int:
        return len(self.history)

    @property
    def created_at_ms(self) -> int:
        return self.history[0].graded_at_ms


@dataclass(frozen=True, slots=True)
class CalculatedGradeSnapshotTruth:
    syn_version: int
    score: float | None  # None: nothing graded yet (1.0 sends null, 1.1 leaves `score` out)
    score_possible: float
    calculated_at_ms: int


@dataclass(frozen=True, slots=True)
class CalculatedGradeTruth:
    key: str  # "<course iri>|<itemId>|<user iri>"
    course_iri: str
    item_id: str
    user_iri: str
    is_course_grade: bool
    history: tuple[CalculatedGradeSnapshotTruth, ...]  # by synVersion

    @property
    def score(self) -> float | None:
        return self.history[-1].score

    @property
    def score_possible(self) -> float:
        return self.history[-1].score_possible

    @property
    def syn_version(self) -> int:
        return self.history[-1].syn_version

    @property
    def calculated_at_ms(self) -> int:
        return self.history[-1].calculated_at_ms

    @property
    def snapshots(self) -> int:
        return len(self.history)


# --- the log -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One distinct event the generator sent (replayed copies counted in `replays`)."""

    event_time_ms: int
    event_id: str | None
    event_type: str  # short type, e.g. "GradeEvent"
    action: str  # short, normalised: Created | Modified | Deleted | Graded | ...
    course_iri: str | None  # the course a reader finds for it (caliper.md), if any
    replays: int  # how many extra verbatim copies arrived
    person_iri: str | None = None  # the person it is about (member of its membership)
    actor_is_person: bool = True  # False: Learn itself acted (grade events)
    role: str | None = None  # its membership's role, short form; None without one
    viewed_iri: str | None = None  # a ViewEvent's content item


@dataclass(frozen=True, slots=True)
class EventCounts:
    distinct: int  # what a store appends (conflicts included)
    duplicates: int  # replayed copies, stored once
    conflicts: int  # events whose id an earlier, different event already used
    by_type: dict[str, int]
    by_course: dict[str, int]

    @classmethod
    def of(cls, events: tuple[EventRecord, ...]) -> EventCounts:
        ids = Counter(record.event_id for record in events if record.event_id is not None)
        by_type = Counter(record.event_type for record in events)
        by_course = Counter(record.course_iri for record in events if record.course_iri)
        return cls(
            distinct=len(events),
            duplicates=sum(record.replays for record in events),
            # Order does not matter: of k different events sharing an id, k - 1 conflict.
            conflicts=sum(count - 1 for count in ids.values()),
            by_type=dict(sorted(by_type.items())),
            by_course=dict(sorted(by_course.items())),
        )


# --- the whole truth ---------------------------------------------------------------


@dataclass(frozen=True)
class GroundTruth:
    """The semester as the generator meant it, at `instant_ms` (None: after everything).

    Treat every container as read-only. Dicts keep creation order; use
    `sorted(...)` for the contract's orders."""

    instant_ms: int | None
    site_iri: str
    sensor: str
    courses: dict[str, CourseTruth]
    people: dict[str, PersonTruth]
    groups: dict[str, GroupTruth]
    content_items: dict[str, ContentItemTruth]
    gradable_items: dict[str, GradableItemTruth]
    attempts: dict[str, AttemptTruth]
    calculated_grades: dict[str, CalculatedGradeTruth]
    events: tuple[EventRecord, ...]
    counts: EventCounts = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "counts", EventCounts.of(self.events))

    def as_of(self, instant_ms: int) -> GroundTruth:
        """The same view built only from changes with eventTime <= instant_ms.

        Always cut from the complete histories this truth carries; calling it on an
        earlier view cannot bring back what that view already cut."""

        def keep(ms: int) -> bool:
            return ms <= instant_ms

        groups = {}
        for iri, group in self.groups.items():
            history = tuple(v for v in group.history if keep(v.valid_from_ms))
            if history:
                groups[iri] = GroupTruth(group.iri, group.learn_id, group.course_iri, history)
        content_items = {}
        for iri, item in self.content_items.items():
            history = tuple(v for v in item.history if keep(v.valid_from_ms))
            if history:
                content_items[iri] = ContentItemTruth(
                    item.iri, item.learn_id, item.course_iri, history
                )
        attempts = {}
        for iri, attempt in self.attempts.items():
            history = tuple(s for s in attempt.history if keep(s.graded_at_ms))
            if history:
                attempts[iri] = AttemptTruth(
                    attempt.iri,
                    attempt.learn_id,
                    attempt.course_iri,
                    attempt.gradable_item_iri,
                    attempt.assignee_iri,
                    attempt.count,
                    attempt.started_at_ms,
                    history,
                )
        calculated_grades = {}
        for key, grade in self.calculated_grades.items():
            history = tuple(s for s in grade.history if keep(s.calculated_at_ms))
            if history:
                calculated_grades[key] = CalculatedGradeTruth(
                    grade.key,
                    grade.course_iri,
                    grade.item_id,
                    grade.user_iri,
                    grade.is_course_grade,
                    history,
                )
        return GroundTruth(
            instant_ms=instant_ms,
            site_iri=self.site_iri,
            sensor=self.sensor,
            courses={k: c for k, c in self.courses.items() if keep(c.first_event_ms)},
            people={k: p for k, p in self.people.items() if keep(p.first_seen_ms)},
            groups=groups,
            content_items=content_items,
            gradable_items={
                k: g for k, g in self.gradable_items.items() if keep(g.first_graded_ms)
            },
            attempts=attempts,
            calculated_grades=calculated_grades,
            events=tuple(e for e in self.events if keep(e.event_time_ms)),
        )

    # --- lookups tests need often ---------------------------------------------------

    def course_by_number(self, course_number: str) -> CourseTruth:
        matches = [c for c in self.courses.values() if c.course_number == course_number]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} courses numbered {course_number!r}")
        return matches[0]

    def person_by_user_id(self, user_id: str) -> PersonTruth:
        for person in self.people.values():
            if person.user_id == user_id:
                return person
        raise KeyError(user_id)

    def groups_of(self, course_iri: str) -> list[GroupTruth]:
        return [g for g in self.groups.values() if g.course_iri == course_iri]

    def content_items_of(self, course_iri: str) -> list[ContentItemTruth]:
        return [c for c in self.content_items.values() if c.course_iri == course_iri]

    def attempts_of(self, course_iri: str) -> list[AttemptTruth]:
        return [a for a in self.attempts.values() if a.course_iri == course_iri]

    def calculated_grades_of(self, course_iri: str) -> list[CalculatedGradeTruth]:
        return [g for g in self.calculated_grades.values() if g.course_iri == course_iri]


# --- course analytics (the contract's "Course analytics" definitions) -----------------

DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
_MONDAY_MS = 4 * DAY_MS  # 1970-01-05T00:00Z, a Monday


def bucket_start(ms: int, width_ms: int) -> int:
    """The start of the UTC day, or of the ISO week (Monday 00:00 UTC), holding ms."""
    origin = _MONDAY_MS if width_ms == WEEK_MS else 0
    return origin + (ms - origin) // width_ms * width_ms


@dataclass(frozen=True, slots=True)
class ActivityTruth:
    start_ms: int
    events: int
    active_users: int


@dataclass(frozen=True, slots=True)
class ParticipantTruth:
    person_iri: str
    role: str | None
    first_activity_ms: int
    last_activity_ms: int
    event_count: int
    active_days: int


@dataclass(frozen=True, slots=True)
class ScoreStatisticsTruth:
    scores: tuple[float, ...]  # each attempt's current scoreGiven, sorted

    @property
    def count(self) -> int:
        return len(self.scores)

    @property
    def mean(self) -> float | None:
        return sum(self.scores) / len(self.scores) if self.scores else None

    @property
    def median(self) -> float | None:
        n = len(self.scores)
        if not n:
            return None
        middle = n // 2
        return self.scores[middle] if n % 2 else (self.scores[middle - 1] + self.scores[middle]) / 2

    @property
    def stddev(self) -> float | None:
        mean = self.mean
        if mean is None:
            return None
        return (sum((x - mean) ** 2 for x in self.scores) / len(self.scores)) ** 0.5

    def histogram(self, bins: int, max_score: float | None) -> list[tuple[float, float, int]]:
        """(from, to, count): bins over 0..maxScore when above 0, else lowest..highest."""
        if max_score is not None and max_score > 0:
            lo, hi = 0.0, float(max_score)
        else:
            lo, hi = (self.scores[0], self.scores[-1]) if self.scores else (0.0, 0.0)
        if hi <= lo:
            return [(lo, hi, len(self.scores))]
        edges = [lo + (hi - lo) * i / bins for i in range(bins)] + [hi]
        counts = [0] * bins
        for x in self.scores:
            index = int((x - lo) * bins // (hi - lo))
            counts[min(bins - 1, max(0, index))] += 1
        return [(edges[i], edges[i + 1], counts[i]) for i in range(bins)]


@dataclass(frozen=True, slots=True)
class ViewTruth:
    views: int
    unique_viewers: int
    last_viewed_ms: int | None


def activity_of(truth: GroundTruth, course_iri: str, width_ms: int) -> list[ActivityTruth]:
    """One point per bucket from the course's first to its last event, zeros included."""
    mine = [e for e in truth.events if e.course_iri == course_iri]
    if not mine:
        return []
    events: Counter[int] = Counter()
    users: dict[int, set[str]] = {}
    for e in mine:
        start = bucket_start(e.event_time_ms, width_ms)
        events[start] += 1  # a replayed copy is stored once: one record
        if e.actor_is_person and e.person_iri:
            users.setdefault(start, set()).add(e.person_iri)
    first = bucket_start(min(e.event_time_ms for e in mine), width_ms)
    last = bucket_start(max(e.event_time_ms for e in mine), width_ms)
    return [
        ActivityTruth(start, events[start], len(users.get(start, ())))
        for start in range(first, last + 1, width_ms)
    ]


def participants_of(truth: GroundTruth, course_iri: str) -> dict[str, ParticipantTruth]:
    """Every person who acted in one of the course's events; their role is the one the
    newest of the course's events about them that sends a role carries."""
    mine = [e for e in truth.events if e.course_iri == course_iri and e.person_iri]
    found: dict[str, ParticipantTruth] = {}
    for person in {e.person_iri for e in mine if e.actor_is_person}:
        own = [e for e in mine if e.person_iri == person]
        acted = [e.event_time_ms for e in own if e.actor_is_person]
        with_role = [e for e in own if e.role is not None]
        newest = max(with_role, key=lambda e: e.event_time_ms) if with_role else None
        found[person] = ParticipantTruth(
            person_iri=person,
            role=newest.role if newest else None,
            first_activity_ms=min(acted),
            last_activity_ms=max(acted),
            event_count=len(acted),
            active_days=len({t // DAY_MS for t in acted}),
        )
    return found


def score_statistics_of(truth: GroundTruth, gradable_item_iri: str) -> ScoreStatisticsTruth:
    scores = [
        a.score_given for a in truth.attempts.values() if a.gradable_item_iri == gradable_item_iri
    ]
    return ScoreStatisticsTruth(tuple(sorted(scores)))


def views_of(truth: GroundTruth, content_iri: str) -> ViewTruth:
    views = [e for e in truth.events if e.viewed_iri == content_iri]
    return ViewTruth(
        len(views),
        len({e.person_iri for e in views}),
        max((e.event_time_ms for e in views), default=None),
    )


def group_changed_fields(
    previous: GroupVersion | None, name: str | None, member_ids: list[str], deleted: bool
) -> list[str]:
    """caliper.md: fields that differ from the previous version; for the first version,
    every non-null field (`deleted` only when true)."""
    values = {"name": name, "memberIds": member_ids, "deleted": deleted}
    if previous is None:
        return sorted(
            k for k, v in values.items() if v is not None and (k != "deleted" or v is True)
        )
    before = {"name": previous.name, "memberIds": previous.member_ids, "deleted": previous.deleted}
    return sorted(k for k in values if values[k] != before[k])


def content_changed_fields(
    previous: ContentVersion | None, fields: dict[str, Any], deleted: bool
) -> list[str]:
    if previous is None:
        changed = [k for k in CONTENT_FIELDS if fields[k] is not None]
        return sorted(changed + (["deleted"] if deleted else []))
    changed = [k for k in CONTENT_FIELDS if not _same(fields[k], previous.fields[k])]
    if deleted != previous.deleted:
        changed.append("deleted")
    return sorted(changed)


def _same(a: Any, b: Any) -> bool:
    # 20 and 20.0 are one value, but True is not 1: compare booleans by type too.
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b
