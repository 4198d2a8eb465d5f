"""Blackboard-Learn-shaped Caliper 1.1 events for the benchmarks, with varied ids.

The shapes follow Learn's documented payloads (GradeEvent, ContentEvent,
CourseGroupEvent, CalculatedGradeSnapshotEvent, SessionEvent, ViewEvent); every id,
name and time is made up here from a seeded random.Random, so a run is repeatable.

Two sources:
- `ingest_stream(n)`: GradeEvent and ContentEvent only, spread over n/1000 courses
  (what bench/ingest.py writes as JSON Lines).
- `semester(courses, ...)`: whole courses of a fixed shape (COURSE_SHAPE), plus
  optionally one course holding 10,000 graded attempts, merged into one log in
  eventTime order (what bench/query.py loads).
- `campus(events, courses)`: a campus's stream (what bench/campus.py ingests): courses
  of three sizes (CAMPUS_TIERS), mostly sessions, views and navigation, plus the
  10,000-attempt course and the analytics course; part of the sessions, views and
  navigation in the Caliper 1.0 style; about 5% of the lines replays of earlier ones.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

# Bump when the generated data changes: cached stores and files are keyed by these.
GENERATOR_VERSION = 1  # semester()
INGEST_VERSION = 2  # ingest_stream()
CAMPUS_VERSION = 1  # campus()

SITE = "7d3f1c9e-2b4a-4e8f-9a61-5c0d8e2f4b17"
BASE = f"https://caliper-mapping.cloudbb.blackboard.com/v1/sites/{SITE}"
CTX_11 = "http://purl.imsglobal.org/ctx/caliper/v1p1"
BB_CTX = ["http://caliper.blackboard.com/ctx/caliper/v1/Context", CTX_11]
LEARN_APP = {"id": f"{BASE}/applications/learn", "type": "SoftwareApplication"}
SEMESTER_START_MS = 1_787_529_600_000  # 2026-08-24T00:00:00Z
DAY_MS = 86_400_000
SEMESTER_DAYS = 105
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# What one ordinary course holds.
COURSE_SHAPE = {
    "students": 35,
    "groups": 6,
    "content_items": 25,
    "graded_items": 6,
    "calculated_grades_per_student": 2,
    "snapshots": (1, 4),
    "events": 1000,  # sessions and views fill the course up to this
}
BIG_COURSE_STUDENTS = 200
BIG_COURSE_ITEMS = 50  # 200 × 50 = 10,000 attempts, one GradeEvent each
BIG_COURSE_EVENTS = BIG_COURSE_STUDENTS * BIG_COURSE_ITEMS
# The analytics course (bench/analytics.py): 200 people who view, post and get grades,
# and one item graded 10,000 times (each student's 50 attempts).
ANALYTICS_COURSE_SHAPE = {**COURSE_SHAPE, "students": 200, "events": 8000}
ANALYTICS_ITEM_ATTEMPTS = 50  # per student
ANALYTICS_COURSE_EVENTS = (
    ANALYTICS_COURSE_SHAPE["events"] + ANALYTICS_COURSE_SHAPE["students"] * ANALYTICS_ITEM_ATTEMPTS
)

# A campus (bench/campus.py): (name, share of the courses, students, events as a multiple
# of the mean), and what every campus course holds besides its students. Fewer graded
# items and snapshots than COURSE_SHAPE: a campus's stream is mostly sessions, views and
# navigation (about two thirds here).
CAMPUS_TIERS = (
    ("large", 0.1, 100, 3.0),
    ("small", 0.4, 10, 0.5),
    ("medium", 0.5, 30, 1.0),
)
CAMPUS_SHAPE = {
    "groups": 4,
    "content_items": 15,
    "graded_items": 2,
    "calculated_grades_per_student": 1,
    "snapshots": (1, 2),
    "navigation": 0.35,  # of the filling events; sessions 0.3, views the rest
}
CAMPUS_REPLAY_SHARE = 0.05  # of all lines: an event sent again, byte for byte
CAMPUS_CALIPER_10_SHARE = 0.3  # of sessions, views and navigation: sent in the 1.0 style

SUBJECTS = ("BIO", "CHEM", "MATH", "HIST", "PSYC", "ENGL", "PHYS", "ECON", "SOC", "CS")
HANDLERS = (
    ("resource/x-bb-document", "INLINE", False),
    ("resource/x-bb-file", "DOWNLOAD", False),
    ("resource/x-bb-folder", "FOLDER", True),
    ("resource/x-bb-externallink", "LINK", False),
    ("resource/x-bb-forumlink", "LINK", False),
)
GRADED_HANDLERS = ("resource/x-bb-assignment", "resource/x-bb-asmt-test-link")


def iso(ms: int) -> str:
    moment = EPOCH + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _hex(*parts: object) -> str:
    return hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=16).hexdigest()


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}"


# --- people and courses ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class User:
    index: int
    hex: str
    learn_id: str
    external_id: str

    @property
    def iri(self) -> str:
        return f"{BASE}/users/{self.hex}"

    def node(self) -> dict[str, Any]:
        return {
            "id": self.iri,
            "type": "Person",
            "extensions": {"bb:user.id": self.learn_id, "bb:user.externalId": self.external_id},
        }


def user(index: int) -> User:
    return User(index, _hex("user", index), f"_{100_000 + index}_1", f"s{index:07d}")


def instructor(index: int) -> User:
    return User(-1 - index, _hex("instructor", index), f"_{9_000 + index}_1", f"i{index:05d}")


@dataclass(slots=True)
class Course:
    index: int
    number: str
    hex: str
    learn_id: str
    instructor: User
    students: list[User]
    membership_ids: dict[int, str] = field(default_factory=dict)

    @property
    def iri(self) -> str:
        return f"{BASE}/courses/{self.hex}"

    def node(self) -> dict[str, Any]:
        return {
            "id": self.iri,
            "type": "CourseOffering",
            "extensions": {"bb:course.id": self.learn_id},
            "members": [],
            "courseNumber": self.number,
        }

    def membership(self, who: User, role: str) -> dict[str, Any]:
        return {
            "id": f"{self.iri}/members/{who.hex}",
            "type": "Membership",
            "extensions": {
                "bb:course.id": self.learn_id,
                "bb:course.externalId": self.number,
                "bb:user.id": who.learn_id,
                "bb:user.externalId": who.external_id,
            },
            "member": who.node(),
            "organization": self.node(),
            "roles": [role],
            "status": "Active",
        }


def make_course(index: int, pool: int, students: int, number: str | None = None) -> Course:
    rng = random.Random(f"course-{index}")
    subject = SUBJECTS[index % len(SUBJECTS)]
    chosen = sorted(rng.sample(range(pool), min(students, pool)))
    return Course(
        index=index,
        number=number or f"{subject}-{100 + index % 300}-F26-{index:05d}",
        hex=_hex("course", index),
        learn_id=f"_{5_000 + index}_1",
        instructor=instructor(index // 3),
        students=[user(i) for i in chosen],
    )


# --- the event shapes -----------------------------------------------------------------


def _session(who: User, session_hex: str, started_ms: int) -> dict[str, Any]:
    return {
        "startedAtTime": iso(started_ms),
        "id": f"{BASE}/sessions/{session_hex}",
        "type": "LtiSession",
        "name": session_hex,
        "dateCreated": iso(started_ms),
        "user": who.node(),
    }


def grade_event(
    rng: random.Random,
    course: Course,
    student: User,
    item_learn_id: str,
    content_learn_id: str,
    attempt_learn_id: str,
    max_score: float | int,
    score: float,
    started_ms: int,
    graded_ms: int,
    due_ms: int,
    count: int = 1,
) -> dict[str, Any]:
    item_iri = f"{BASE}/gradableItems/{item_learn_id}"
    attempt_iri = f"{item_iri}/attempts/{attempt_learn_id}"
    assignable = {
        "dateToSubmit": iso(due_ms),
        "maxAttempts": 0,
        "maxSubmits": 0,
        "maxScore": max_score,
        "id": item_iri,
        "type": "Assessment",
        "dateCreated": iso(SEMESTER_START_MS + 3_600_000),
        "dateModified": iso(SEMESTER_START_MS + 7_200_000),
        "creators": [],
        "learningObjectives": [],
        "keywords": [],
        "items": [],
    }
    attempt = {
        "startedAtTime": iso(started_ms),
        "id": attempt_iri,
        "type": "Attempt",
        "assignable": assignable,
        "assignee": student.node(),
        "count": count,
    }
    return {
        "@context": CTX_11,
        "type": "GradeEvent",
        "id": _uuid(rng),
        "actor": LEARN_APP,
        "action": "Graded",
        "object": attempt,
        "generated": {
            "id": f"{attempt_iri}/score",
            "type": "Score",
            "dateCreated": iso(graded_ms),
            "dateModified": iso(graded_ms),
            "extensions": {
                "bb:action.name": "instructor.grade.history.event.attempt.grade",
                "bb:content.id": content_learn_id,
            },
            "attempt": dict(attempt),
            "maxScore": max_score,
            "scoreGiven": score,
            "scoredBy": LEARN_APP,
        },
        "eventTime": iso(graded_ms),
        "edApp": LEARN_APP,
        "group": course.node(),
        "membership": course.membership(student, "Learner"),
        "extensions": {},
    }


def content_event(
    rng: random.Random,
    course: Course,
    content_learn_id: str,
    action: str,
    at_ms: int,
    *,
    name: str,
    handler: str,
    render_type: str,
    is_folder: bool,
    score_possible: float | int | None,
    due_ms: int | None,
    data_version: int,
    session_hex: str,
) -> dict[str, Any]:
    who = course.instructor
    session_iri = f"{BASE}/sessions/{session_hex}"
    return {
        "@context": BB_CTX,
        "type": "http://caliper.blackboard.com/caliper/v1/ContentEvent",
        "id": _uuid(rng),
        "actor": who.node(),
        "action": action,
        "object": {
            "@context": BB_CTX,
            "type": "http://caliper.blackboard.com/caliper/v1/Content",
            "id": f"{BASE}/content/{content_learn_id}",
            "name": name,
            "description": f"<p>{name}: read before class.</p>",
            "handler": handler,
            "isLesson": False,
            "isFolder": is_folder,
            "isGroupContent": False,
            "dataVersion": data_version,
            "renderType": render_type,
            "scorePossible": score_possible,
            "dueDate": iso(due_ms) if due_ms is not None else None,
            "aggregationModel": "Last" if score_possible is not None else None,
            "extensions": {},
        },
        "eventTime": iso(at_ms),
        "edApp": LEARN_APP,
        "membership": course.membership(who, "Instructor"),
        "federatedSession": _session(who, session_hex, at_ms - 5_000),
        "extensions": {},
        "session": {"id": session_iri, "type": "Session"},
    }


def group_event(
    rng: random.Random,
    course: Course,
    group_learn_id: str,
    action: str,
    at_ms: int,
    name: str,
    members: list[str],
) -> dict[str, Any]:
    who = course.instructor
    users = "[" + ",".join(f'{{"courseMembershipId":"{m}"}}' for m in members) + "]"
    group = {
        "id": f"{course.iri}/groups/{group_learn_id}",
        "type": "Group",
        "extensions": {"bb:group.name": name, "bb:group.users": users},
        "subOrganizationOf": course.node(),
        "members": [],
    }
    return {
        "@context": BB_CTX,
        "type": "http://caliper.blackboard.com/caliper/v1/CourseGroupEvent",
        "id": _uuid(rng),
        "actor": who.node(),
        "action": action,
        "object": group,
        "eventTime": iso(at_ms),
        "edApp": LEARN_APP,
        "group": dict(group),
        "membership": course.membership(who, "Instructor"),
        "federatedSession": _session(who, _hex("s", course.index, at_ms)[:32].upper(), at_ms),
        "extensions": {},
    }


def calculated_grade_event(
    rng: random.Random,
    course: Course,
    student: User,
    item_learn_id: str,
    version: int,
    score: float | None,
    score_possible: float,
    is_course_grade: bool,
    at_ms: int,
) -> dict[str, Any]:
    return {
        "@context": BB_CTX,
        "type": "http://caliper.blackboard.com/caliper/v1/CalculatedGradeSnapshotEvent",
        "id": _uuid(rng),
        "actor": LEARN_APP,
        "action": "Graded",
        "object": {
            "@context": BB_CTX,
            "type": "http://caliper.blackboard.com/caliper/v1/CalculatedGrade",
            "id": f"{BASE}/gradableItems/{item_learn_id}/calculatedGrade/{version}",
            "name": "",
            "description": "",
            "itemId": item_learn_id,
            "scorePossible": score_possible,
            "score": score,
            "isCourseGrade": is_course_grade,
            "syncVersion": version,
            "user": student.node(),
            "course": course.node(),
            "extensions": {},
        },
        "eventTime": iso(at_ms),
        "edApp": LEARN_APP,
        "membership": course.membership(student, "Learner"),
        "extensions": {},
    }


def session_event(rng: random.Random, who: User, action: str, at_ms: int) -> dict[str, Any]:
    session_hex = _hex("session", who.index, at_ms)[:32].upper()
    return {
        "@context": CTX_11,
        "type": "SessionEvent",
        "id": _uuid(rng),
        "actor": who.node(),
        "action": action,
        "object": {**LEARN_APP, "name": "Blackboard Learn"},
        "eventTime": iso(at_ms),
        "edApp": LEARN_APP,
        "session": {
            "id": f"{BASE}/sessions/{session_hex}",
            "type": "Session",
            "user": who.node(),
            "startedAtTime": iso(at_ms),
        },
        "extensions": {},
    }


def view_event(
    rng: random.Random, course: Course, who: User, content_learn_id: str, at_ms: int
) -> dict[str, Any]:
    return {
        "@context": CTX_11,
        "type": "ViewEvent",
        "id": _uuid(rng),
        "actor": who.node(),
        "action": "Viewed",
        "object": {
            "id": f"{BASE}/content/{content_learn_id}",
            "type": "Document",
            "creators": [],
            "learningObjectives": [],
            "keywords": [],
        },
        "eventTime": iso(at_ms),
        "edApp": {**LEARN_APP, "extensions": {}},
        "group": course.node(),
        "membership": course.membership(who, "Learner"),
        "federatedSession": _session(who, _hex("v", who.index, at_ms)[:32].upper(), at_ms),
        "extensions": {},
    }


def navigation_event(
    rng: random.Random, course: Course, who: User, content_learn_id: str, at_ms: int
) -> dict[str, Any]:
    return {
        "@context": CTX_11,
        "type": "NavigationEvent",
        "id": _uuid(rng),
        "actor": who.node(),
        "action": "NavigatedTo",
        "object": {
            "id": f"{BASE}/content/{content_learn_id}",
            "type": "WebPage",
            "name": f"Content {content_learn_id}",
        },
        "eventTime": iso(at_ms),
        "edApp": LEARN_APP,
        "referrer": {"id": f"{course.iri}/outline", "type": "WebPage", "name": "Course outline"},
        "group": course.node(),
        "membership": course.membership(who, "Learner"),
        "session": {
            "id": f"{BASE}/sessions/{_hex('n', who.index, at_ms // DAY_MS)[:32].upper()}",
            "type": "Session",
        },
        "extensions": {},
    }


CTX_10 = "http://purl.imsglobal.org/ctx/caliper/v1/Context"
IMS_TYPES_10 = "http://purl.imsglobal.org/caliper/v1/"
ACTIONS_10 = "http://purl.imsglobal.org/vocab/caliper/v1/action#"
LIS_TYPES = frozenset({"Person", "CourseOffering", "Membership", "Group"})


def _node_10(value: Any) -> Any:
    if isinstance(value, list):
        return [_node_10(item) for item in value]
    if not isinstance(value, dict):
        return value
    converted: dict[str, Any] = {}
    for key, item in value.items():
        if key == "id":
            converted["@id"] = item
        elif key == "type":
            is_iri = item.startswith("http")
            converted["@type"] = (
                item if is_iri else f"{IMS_TYPES_10}{'lis/' if item in LIS_TYPES else ''}{item}"
            )
        elif key == "@context":
            converted[key] = CTX_10
        else:
            converted[key] = _node_10(item)
    return converted


def as_caliper_10(event: dict[str, Any]) -> dict[str, Any]:
    """The same event in the Caliper 1.0 style: `@id`/`@type`, full type and action IRIs,
    the 1.0 context, and no event id (1.0 senders usually send none)."""
    converted = _node_10({key: value for key, value in event.items() if key != "id"})
    converted["@context"] = CTX_10
    converted["action"] = ACTIONS_10 + event["action"]
    return converted


# --- ingest: GradeEvent and ContentEvent only -----------------------------------------


def ingest_stream(n: int, seed: int = 1) -> Iterator[dict[str, Any]]:
    """n events, about 60% GradeEvent and 40% ContentEvent, over n/1000 courses."""
    rng = random.Random(seed)
    courses = max(1, n // 1000)
    pool = max(35, courses * 35 // 4)
    cache: dict[int, Course] = {}
    for i in range(n):
        ci = rng.randrange(courses)
        course = cache.get(ci) or cache.setdefault(ci, make_course(ci, pool, 35))
        at = SEMESTER_START_MS + rng.randrange(SEMESTER_DAYS * DAY_MS)
        if rng.random() < 0.6:
            student = rng.choice(course.students)
            item = 1_000 + ci * 10 + rng.randrange(6)
            # whole maxima are sent as integers, as in Learn's samples
            max_score = rng.choice((10, 20, 50, 100, 160))
            yield grade_event(
                rng,
                course,
                student,
                item_learn_id=f"_{item}_1",
                content_learn_id=f"_{20_000 + item}_1",
                attempt_learn_id=f"_{i + 1}_1",
                max_score=max_score,
                score=round(rng.uniform(0.4, 1.0) * max_score, 5),
                started_ms=at - rng.randrange(3_600_000),
                graded_ms=at,
                due_ms=at - rng.randrange(3 * DAY_MS),
            )
        else:
            handler, render, folder = rng.choice(HANDLERS)
            content = 50_000 + ci * 40 + rng.randrange(25)
            yield content_event(
                rng,
                course,
                f"_{content}_1",
                rng.choice(("Created", "Modified", "Modified", "Deleted")),
                at,
                name=f"Week {rng.randrange(1, 16)} reading {rng.randrange(100)}",
                handler=handler,
                render_type=render,
                is_folder=folder,
                score_possible=None if rng.random() < 0.7 else rng.choice((10, 20, 100)),
                due_ms=None if rng.random() < 0.5 else at + 7 * DAY_MS,
                data_version=3,
                session_hex=f"{rng.getrandbits(128):032X}",
            )


# --- whole courses ------------------------------------------------------------------


def _course_events(course: Course, shape: dict[str, Any]) -> list[tuple[int, int, Any]]:
    """(eventTime, sequence, render) for every event of one ordinary course, sorted."""
    rng = random.Random(f"events-{course.index}")
    ci = course.index
    start = SEMESTER_START_MS
    specs: list[tuple[int, Any]] = []

    def at(day_lo: float, day_hi: float) -> int:
        return start + int(rng.uniform(day_lo, day_hi) * DAY_MS)

    for k, student in enumerate(course.students):
        course.membership_ids[student.index] = f"_{ci * 1000 + k + 1}_1"
    memberships = list(course.membership_ids.values())

    # groups: created in the first two weeks, two of them reshuffled later
    for g in range(shape["groups"]):
        gid = f"_{ci * 100 + g + 1}_1"
        members = sorted(rng.sample(memberships, max(1, len(memberships) // shape["groups"])))
        name = f"Lab Group {g + 1}"
        created = at(0, 14)
        specs.append((created, ("group", gid, "Created", name, members)))
        if g < 2:
            moved = sorted(rng.sample(memberships, len(members)))
            specs.append((at(20, 60), ("group", gid, "Modified", f"{name} (new)", moved)))

    # content: 25 items created early; about half edited later; one deleted
    graded_content: list[tuple[str, int, float]] = []
    for c in range(shape["content_items"]):
        cid = f"_{20_000 + ci * 100 + c}_1"
        graded = c < shape["graded_items"]
        if graded:
            handler, render, folder = rng.choice(GRADED_HANDLERS), "LINK", False
            due = start + (14 + c * 14) * DAY_MS - 60_000
            possible: float | None = float(rng.choice((10, 20, 50, 100)))
            graded_content.append((cid, due, possible))
        else:
            handler, render, folder = rng.choice(HANDLERS)
            due, possible = None, None
        item = {
            "name": f"Unit {c // 5 + 1}: item {c + 1}",
            "handler": handler,
            "render_type": render,
            "is_folder": folder,
            "score_possible": possible,
            "due_ms": due,
        }
        specs.append((at(0, 12), ("content", cid, "Created", item, 1)))
        if c % 2 == 1:
            edited = {**item, "name": f"{item['name']} (revised)"}
            specs.append((at(14, 90), ("content", cid, "Modified", edited, 2)))
        if c == shape["content_items"] - 1:
            specs.append((at(95, 100), ("content", cid, "Deleted", item, 3)))

    # graded attempts: one per student and item, a fifth of them regraded
    for g, (cid, due, possible) in enumerate(graded_content):
        item_id = f"_{ci * 100 + g + 1}_1"
        for k, student in enumerate(course.students):
            attempt = f"_{ci * 10_000 + g * 1000 + k + 1}_1"
            started = due - rng.randrange(1, 4 * DAY_MS)
            graded = due + rng.randrange(DAY_MS, 5 * DAY_MS)
            score = round(rng.uniform(0.45, 1.0) * possible, 2)
            grade = ("grade", student, item_id, cid, attempt, possible, score, started, due)
            specs.append((graded, (*grade, 1)))
            if rng.random() < 0.2:
                regraded = min(score + 1.0, possible)
                late = graded + rng.randrange(DAY_MS, 7 * DAY_MS)
                specs.append((late, (*grade[:6], regraded, started, due, 1)))

    # calculated grades: a course total and one category column per student,
    # each with 1–4 nightly snapshots
    lo, hi = shape["snapshots"]
    for student in course.students:
        for column in range(shape["calculated_grades_per_student"]):
            item_id = f"_{ci * 100 + 90 + column}_1"
            is_course_grade = column == 0
            days = sorted(rng.sample(range(15, SEMESTER_DAYS), rng.randint(lo, hi)))
            for day in days:
                when = start + day * DAY_MS + 9 * 3_600_000 + rng.randrange(60_000)
                score = round(rng.uniform(55, 100), 2) if rng.random() > 0.05 else None
                version = 300_000_000 + day * 100_000 + ci * 50 + column
                spec = ("calc", student, item_id, version, score, 100.0, is_course_grade)
                specs.append((when, spec))

    # sessions and views fill the course up to its event count
    content_ids = [f"_{20_000 + ci * 100 + c}_1" for c in range(shape["content_items"])]
    navigation = shape.get("navigation", 0.0)
    while len(specs) < shape["events"]:
        student = rng.choice(course.students)
        when = at(0, SEMESTER_DAYS)
        roll = rng.random()
        if roll < 0.3:
            specs.append((when, ("session", student)))
        elif roll < 0.3 + navigation:
            specs.append((when, ("navigation", student, rng.choice(content_ids))))
        else:
            specs.append((when, ("view", student, rng.choice(content_ids))))

    specs.sort(key=lambda spec: spec[0])
    return [(when, ci * 100_000 + n, spec) for n, (when, spec) in enumerate(specs)]


def _big_course_events(course: Course) -> list[tuple[int, int, Any]]:
    rng = random.Random("big-course")
    specs = []
    for g in range(BIG_COURSE_ITEMS):
        item_id = f"_{900_000 + g}_1"
        cid = f"_{990_000 + g}_1"
        due = SEMESTER_START_MS + (7 + g * 2) * DAY_MS
        for k, student in enumerate(course.students):
            attempt = f"_{9_000_000 + g * 1000 + k}_1"
            graded = due + rng.randrange(DAY_MS, 3 * DAY_MS)
            score = round(rng.uniform(5, 10), 2)
            specs.append(
                (graded, ("grade", student, item_id, cid, attempt, 10.0, score, due, due, 1))
            )
    specs.sort(key=lambda spec: spec[0])
    return [(when, 10**9 + n, spec) for n, (when, spec) in enumerate(specs)]


def _analytics_course_events(course: Course) -> list[tuple[int, int, Any]]:
    """An ordinary course of 200 students, plus one item each student attempted 50 times."""
    specs = [(when, spec) for when, _seq, spec in _course_events(course, ANALYTICS_COURSE_SHAPE)]
    rng = random.Random("analytics-course")
    item_id, cid = "_800000_1", "_880000_1"
    due = SEMESTER_START_MS + 60 * DAY_MS
    for k, student in enumerate(course.students):
        for a in range(ANALYTICS_ITEM_ATTEMPTS):
            attempt = f"_{8_000_000 + k * 100 + a}_1"
            graded = due - rng.randrange(0, 50 * DAY_MS)
            score = round(rng.uniform(0, 100), 2)
            specs.append(
                (graded, ("grade", student, item_id, cid, attempt, 100.0, score, due, due, 1))
            )
    specs.sort(key=lambda spec: spec[0])
    return [(when, 2 * 10**9 + n, spec) for n, (when, spec) in enumerate(specs)]


def _render(course: Course, rng: random.Random, when: int, spec: tuple[Any, ...]) -> dict:
    kind = spec[0]
    if kind == "grade":
        _, student, item_id, cid, attempt, possible, score, started, due, count = spec
        return grade_event(
            rng, course, student, item_id, cid, attempt, possible, score, started, when, due, count
        )
    if kind == "calc":
        _, student, item_id, version, score, possible, is_course_grade = spec
        return calculated_grade_event(
            rng, course, student, item_id, version, score, possible, is_course_grade, when
        )
    if kind == "content":
        _, cid, action, item, data_version = spec
        return content_event(
            rng,
            course,
            cid,
            action,
            when,
            data_version=data_version,
            session_hex=f"{rng.getrandbits(128):032X}",
            **item,
        )
    if kind == "group":
        _, gid, action, name, members = spec
        return group_event(rng, course, gid, action, when, name, members)
    if kind == "session":
        return session_event(rng, spec[1], "LoggedIn", when)
    if kind == "view":
        return view_event(rng, course, spec[1], spec[2], when)
    if kind == "navigation":
        return navigation_event(rng, course, spec[1], spec[2], when)
    raise ValueError(kind)


STYLE_10_TYPES = frozenset({"SessionEvent", "ViewEvent", "NavigationEvent"})


@dataclass
class Semester:
    courses: list[Course]
    big_course: Course | None
    total: int
    analytics_course: Course | None = None
    shapes: list[dict[str, Any]] | None = None  # one per course; None: COURSE_SHAPE
    replay_share: float = 0.0
    caliper_10_share: float = 0.0

    def events(self) -> Iterator[dict[str, Any]]:
        """Every event of every course, merged into one log in eventTime order; with a
        replay share, earlier events sent again among them."""
        if not (self.replay_share or self.caliper_10_share):
            yield from self._events()
            return
        rng = random.Random("campus-stream")
        recent: list[dict[str, Any]] = []
        replay = self.replay_share / (1 - self.replay_share)  # of the lines, not of the events
        for event in self._events():
            if event["type"] in STYLE_10_TYPES and rng.random() < self.caliper_10_share:
                event = as_caliper_10(event)
            yield event
            if len(recent) < 2_000:
                recent.append(event)
            else:
                recent[rng.randrange(len(recent))] = event
            if rng.random() < replay:
                yield rng.choice(recent)

    def _events(self) -> Iterator[dict[str, Any]]:
        shapes = self.shapes or [COURSE_SHAPE] * len(self.courses)
        lists = [
            _course_events(course, shape)
            for course, shape in zip(self.courses, shapes, strict=True)
        ]
        if self.big_course is not None:
            lists.append(_big_course_events(self.big_course))
        if self.analytics_course is not None:
            lists.append(_analytics_course_events(self.analytics_course))
        owners = list(self.courses) + ([self.big_course] if self.big_course else [])
        owners += [self.analytics_course] if self.analytics_course else []
        rngs = [random.Random(f"render-{c.index}") for c in owners]
        tagged = [
            [(when, seq, i, spec) for when, seq, spec in events] for i, events in enumerate(lists)
        ]
        del lists
        for when, _seq, i, spec in heapq.merge(*tagged):
            yield _render(owners[i], rngs[i], when, spec)


def semester(total_events: int, *, big_course: bool, analytics_course: bool = False) -> Semester:
    """Ordinary courses of COURSE_SHAPE (and the 10,000-attempt course, and the analytics
    course) adding up to total_events."""
    per_course = COURSE_SHAPE["events"]
    rest = total_events - (BIG_COURSE_EVENTS if big_course else 0)
    rest -= ANALYTICS_COURSE_EVENTS if analytics_course else 0
    count = max(1, rest // per_course)
    pool = max(COURSE_SHAPE["students"], count * COURSE_SHAPE["students"] // 4)
    courses = [make_course(i, pool, COURSE_SHAPE["students"]) for i in range(count)]
    big = None
    if big_course:
        big = make_course(
            count, max(pool, BIG_COURSE_STUDENTS), BIG_COURSE_STUDENTS, number="BIG-ATTEMPTS-F26"
        )
    total = count * per_course + (BIG_COURSE_EVENTS if big else 0)
    analytics = None
    if analytics_course:
        analytics = make_course(
            count + 1,
            max(pool, ANALYTICS_COURSE_SHAPE["students"]),
            ANALYTICS_COURSE_SHAPE["students"],
            number="ANALYTICS-F26",
        )
        total += ANALYTICS_COURSE_EVENTS
    return Semester(courses, big, total, analytics)


def campus_tier(index: int) -> tuple[str, float, int, float]:
    """The tier of ordinary campus course `index`: 1 in 10 large, 4 small, 5 medium."""
    slot = index % 10
    large, small, medium = CAMPUS_TIERS
    return large if slot == 0 else small if slot <= 4 else medium


def campus(total_events: int, courses: int, special_courses: bool = True) -> Semester:
    """A campus: courses of CAMPUS_TIERS' sizes, the 10,000-attempt course and the
    analytics course, adding up to about total_events distinct events over `courses`
    courses; plus CAMPUS_REPLAY_SHARE replayed lines. Semester.total counts the
    distinct events planned (small courses may need a few more than their share).
    Without special_courses (small tests), ordinary courses only."""
    ordinary = max(1, courses - 2 if special_courses else courses)
    special = BIG_COURSE_EVENTS + ANALYTICS_COURSE_EVENTS if special_courses else 0
    mean = max(50.0, (total_events - special) / ordinary)
    shapes = []
    for index in range(ordinary):
        _name, _share, students, weight = campus_tier(index)
        shapes.append({**CAMPUS_SHAPE, "students": students, "events": math.ceil(mean * weight)})
    enrolments = sum(shape["students"] for shape in shapes)
    pool = max(BIG_COURSE_STUDENTS, ANALYTICS_COURSE_SHAPE["students"], enrolments * 2 // 9)
    plan = [make_course(i, pool, shape["students"]) for i, shape in enumerate(shapes)]
    big = analytics = None
    if special_courses:
        big = make_course(ordinary, pool, BIG_COURSE_STUDENTS, number="BIG-ATTEMPTS-F26")
        analytics = make_course(
            ordinary + 1, pool, ANALYTICS_COURSE_SHAPE["students"], number="ANALYTICS-F26"
        )
    total = sum(shape["events"] for shape in shapes) + special
    return Semester(
        plan,
        big,
        total,
        analytics,
        shapes=shapes,
        replay_share=CAMPUS_REPLAY_SHARE,
        caliper_10_share=CAMPUS_CALIPER_10_SHARE,
    )
