"""One deterministic Fall 2026 semester of Blackboard Learn Caliper traffic.

`generate_semester(seed, scale)` simulates a campus (courses, instructors,
students, content outlines, groups, attempts and grades, calculated grades and
the everyday stream of sessions and views) with one `random.Random(seed)` and
no wall clock, then writes what Learn would have sent, as a list of envelopes in
ARRIVAL order, with the quirks design/caliper.md describes: both Caliper
styles, stringified group member lists, 1.1 edits that omit unchanged keys or
clear a field with an explicit null, grades and calculated grades arriving in
nightly batches (some days late), envelopes replayed verbatim and event ids
reused by different events.

Beside the envelopes it returns the ground truth: what the simulation meant to
happen, recorded entity by entity as it happened (seed/truth.py), never read
back from the events. Tests, benchmarks and the demo all use this module.

    python -m seed.generator --write      # regenerate seed/data/semester.jsonl.gz
"""

from __future__ import annotations

import argparse
import bisect
import gc
import gzip
import io
import json
import sys
import time
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any, TypeVar

from seed import catalog
from seed.truth import (
    CONTENT_FIELDS,
    AttemptTruth,
    CalculatedGradeSnapshotTruth,
    CalculatedGradeTruth,
    ContentItemTruth,
    ContentVersion,
    CourseTruth,
    EventRecord,
    GradableItemTruth,
    GroundTruth,
    GroupTruth,
    GroupVersion,
    PersonTruth,
    ScoreTruth,
    content_changed_fields,
    format_instant,
    group_changed_fields,
)
from seed.wire import DATA_VERSION_V1P1, V10, V11, CourseRef, PersonRef, Style, Wire

DEFAULT_SEED = 2026
DEMO_PATH = Path(__file__).resolve().parent / "data" / "semester.jsonl.gz"

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY

COURSES_PER_SCALE = 6
STUDENTS_PER_SCALE = 300
TEACHING_WEEKS = 15

# How often each quirk shows up. Tuned so that scale 1 has a few dozen of each.
REUSED_EVENT_ID_RATE = 0.004
URN_EVENT_ID_RATE = 0.12
REPLAY_RATE = 0.015
LATE_BATCH_RATE = 0.12
STRAGGLER_GRADE_RATE = 0.08

HANDLERS = {
    "folder": ("resource/x-bb-folder", "REG"),
    "document": ("resource/x-bb-document", "REG"),
    "file": ("resource/x-bb-file", "REG"),
    "link": ("resource/x-bb-externallink", "LINK"),
    "lti": ("resource/x-bb-blti-link", "LINK"),
    "forum": ("resource/x-bb-forumlink", "LINK"),
    "assignment": ("resource/x-bb-assignment", "REG"),
    "test": ("resource/x-bb-asmt-test-link", "LINK"),
}

ACTION_AUTOGRADE = "system.grade.history.event.attempt.autograde"
ACTION_GRADE = "instructor.grade.history.event.attempt.grade"
ACTION_REGRADE = "instructor.grade.history.event.attempt.regrade"
ACTION_TOOL_GRADE = "tool.grade.history.event.attempt.grade"

NAVIGATION_PAGES = (
    ("outline", "Course Content"),
    ("announcements", "Announcements"),
    ("grades", "My Grades"),
    ("calendar", "Calendar"),
    ("discussions", "Discussions"),
)


# --- time -------------------------------------------------------------------------


def local_ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    """A campus wall-clock time (US Eastern) → epoch milliseconds, UTC.

    Daylight saving ends 2026-11-01; the semester needs no other rule."""
    wall = datetime(year, month, day, hour, minute, tzinfo=UTC)
    offset = timedelta(hours=4 if wall < datetime(2026, 11, 1, 2, tzinfo=UTC) else 5)
    return int((wall + offset).timestamp() * 1000)


def local_day_start(ms: int) -> int:
    """Epoch ms of the local midnight that starts the campus day holding `ms`."""
    utc = datetime.fromtimestamp(ms / 1000, tz=UTC)
    for hours in (4, 5):
        wall = utc - timedelta(hours=hours)
        start = local_ms(wall.year, wall.month, wall.day)
        if start <= ms < start + DAY + HOUR:
            return start
    raise AssertionError(ms)  # unreachable: one of the two offsets always fits


SEMESTER_START = local_ms(2026, 8, 24)  # Monday of week 1
BUILD_START = SEMESTER_START - 14 * DAY  # instructors start building courses
FINALS_END = SEMESTER_START + (TEACHING_WEEKS + 1) * WEEK - 2 * DAY


def _next_local_day(day_start: int) -> int:
    return local_day_start(day_start + 26 * HOUR)


def iso(ms: int) -> str:
    return format_instant(ms)


# --- the simulated campus -----------------------------------------------------------


@dataclass(slots=True)
class Person:
    ref: PersonRef
    user_hex: str
    given_name: str
    family_name: str
    role: str  # Instructor | Learner
    ability: float = 0.0  # students: expected fraction of points earned
    engagement: float = 0.0  # students: how often they log in
    user_agent: str = ""
    ip_address: str = ""


@dataclass(slots=True)
class Course:
    ref: CourseRef
    entry: catalog.CatalogCourse
    instructors: list[Person]
    students: list[Person] = field(default_factory=list)
    membership_ids: dict[str, str] = field(default_factory=dict)  # person iri → "_N_1"
    total_item_id: str = ""  # calculated grade column: course total
    weighted_item_id: str = ""  # calculated grade column: weighted total
    items: list[ContentPlan] = field(default_factory=list)


@dataclass(slots=True)
class GradablePlan:
    learn_id: str
    iri: str
    max_attempts: int
    open_ms: int  # attempts start after this; points and due date are final by then
    first_graded_ms: int | None = None


@dataclass(slots=True)
class ContentPlan:
    """One content item: its intended versions, appended in eventTime order."""

    course: Course
    kind: str
    learn_id: str
    iri: str
    state: dict[str, Any]
    created_ms: int
    gradable: GradablePlan | None = None
    forum_id: str | None = None
    tool: tuple[str, str] | None = None
    replaced: bool = False  # deleted mid-term, then re-created under the same IRI
    versions: list[ContentVersion] = field(default_factory=list)

    def alive_at(self, ms: int) -> ContentVersion | None:
        """The version in force at `ms`, unless the item did not exist or was deleted."""
        times = [v.valid_from_ms for v in self.versions]
        index = bisect.bisect_right(times, ms) - 1
        if index < 0 or self.versions[index].deleted:
            return None
        return self.versions[index]


@dataclass(frozen=True, slots=True)
class _ItemGrading:
    """What grading one gradable item needs, fixed once its points and due date are."""

    item: ContentPlan
    gradable: GradablePlan
    points: float
    due_ms: int
    auto: bool  # tests and LTI tools score themselves when the attempt ends
    assessment: bool  # tests: the assignable is an Assessment
    grading_days: tuple[int, ...]


@dataclass(slots=True)
class Outgoing:
    """One distinct event on its way out, with what the envelope assembly needs."""

    event: dict[str, Any]
    time_ms: int
    nightly: bool  # grades and calculated grades travel in nightly batches
    style: Style
    event_id: str | None
    event_type: str
    action: str
    course_iri: str | None
    person_iri: str | None = None  # the one person the event is about
    actor_is_person: bool = True
    role: str | None = None  # its membership's role (short form), when it has one
    viewed_iri: str | None = None  # ViewEvent: the content item viewed
    replays: int = 0


# Learn itself (a SoftwareApplication) is the actor of these (seed/wire.py); every other
# event's actor is the person it is about.
LEARN_ACTED_TYPES = frozenset({"GradeEvent", "CalculatedGradeSnapshotEvent"})
# The membership these events carry is the instructor's; every other course event
# carries the person's Learner membership (seed/wire.py).
INSTRUCTOR_MEMBERSHIP_TYPES = frozenset({"ContentEvent", "CourseGroupEvent"})


@dataclass(frozen=True, slots=True)
class Semester:
    seed: int
    scale: int
    envelopes: list[dict[str, Any]]  # in arrival order
    truth: GroundTruth


def generate_semester(seed: int = DEFAULT_SEED, scale: int = 1) -> Semester:
    """The whole semester for `seed`; `scale` multiplies courses and students."""
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    # The build allocates millions of small dicts that all stay alive until it ends;
    # the cyclic collector would rescan them (and any big heap the caller holds) over
    # and over for nothing, which is about half the run time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _SemesterBuilder(seed, scale).build()
    finally:
        if collecting:
            gc.enable()


class _SemesterBuilder:
    def __init__(self, seed: int, scale: int) -> None:
        self.seed = seed
        self.scale = scale
        self.rng = Random(seed)
        self.wire = Wire(self._uuid())
        self.sensor = self.wire.site_uuid
        self.counters: dict[str, int] = {
            "user": 1200,
            "course": 2040,
            "membership": 5100,
            "content": 11200,
            "gradable": 890,
            "group": 120,
            "attempt": 40,
            "forum": 3400,
            "post": 70000,
        }
        self.people: list[Person] = []
        self.courses: list[Course] = []
        self.outgoing: list[Outgoing] = []
        self.issued_event_ids: list[str] = []
        self.first_seen: dict[str, int] = {}
        self.course_first_event: dict[str, int] = {}
        self.session_keys: dict[tuple[str, int], str] = {}
        self.group_versions: dict[str, list[GroupVersion]] = {}
        self.group_meta: dict[str, tuple[str, str]] = {}  # iri → (learn id, course iri)
        self.attempts: dict[str, dict[str, Any]] = {}
        self.attempt_scores: dict[str, list[ScoreTruth]] = defaultdict(list)
        self.calculated: dict[str, dict[str, Any]] = {}

    # --- small helpers ------------------------------------------------------------------

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _hex(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def _learn_id(self, kind: str) -> str:
        self.counters[kind] += self.rng.randint(1, 4)
        return f"_{self.counters[kind]}_1"

    def _event_id(self) -> str:
        """A 1.1 event id: a fresh UUID, sometimes `urn:uuid:`-prefixed, and now and
        then one already used by a different event (Learn does reuse ids)."""
        if self.issued_event_ids and self.rng.random() < REUSED_EVENT_ID_RATE:
            return self.rng.choice(self.issued_event_ids)
        event_id = self._uuid()
        if self.rng.random() < URN_EVENT_ID_RATE:
            event_id = f"urn:uuid:{event_id}"
        self.issued_event_ids.append(event_id)
        return event_id

    def _session_key(self, person: Person, ms: int) -> str:
        """One Learn session per person and campus day, made up on first use."""
        key = (person.ref.iri, local_day_start(ms))
        if key not in self.session_keys:
            self.session_keys[key] = f"{self.rng.getrandbits(128):032X}"
        return self.session_keys[key]

    def _daytime(self, day_start: int, earliest_hour: int = 8, latest_hour: int = 23) -> int:
        """A random moment of a campus day, to the millisecond."""
        return day_start + self.rng.randint(earliest_hour * HOUR, latest_hour * HOUR - 1)

    def _daytime_between(self, low: int, high: int) -> int:
        """A daytime moment on a random campus day between two instants."""
        return self._daytime(local_day_start(self.rng.randint(low, max(low, high))))

    def _emit(
        self,
        event: dict[str, Any],
        time_ms: int,
        *,
        style: Style,
        event_type: str,
        action: str,
        course: Course | None,
        people: Iterable[Person],
        nightly: bool = False,
        viewed_iri: str | None = None,
    ) -> None:
        """Queue one distinct event and note who and what it names for the truth."""
        people = list(people)
        event_id = event.get("id", event.get("@id"))
        course_iri = course.ref.iri if course else None
        role = None
        if course is not None:
            role = "Instructor" if event_type in INSTRUCTOR_MEMBERSHIP_TYPES else "Learner"
        self.outgoing.append(
            Outgoing(
                event,
                time_ms,
                nightly,
                style,
                event_id,
                event_type,
                action,
                course_iri,
                person_iri=people[0].ref.iri if people else None,
                actor_is_person=event_type not in LEARN_ACTED_TYPES,
                role=role,
                viewed_iri=viewed_iri,
            )
        )
        if course_iri is not None:
            first = self.course_first_event.get(course_iri)
            self.course_first_event[course_iri] = time_ms if first is None else min(first, time_ms)
        for person in people:
            first = self.first_seen.get(person.ref.iri)
            self.first_seen[person.ref.iri] = time_ms if first is None else min(first, time_ms)

    def _new_id(self, style: Style) -> str | None:
        # Caliper 1.0 events from Learn usually carry no id at all.
        return self._event_id() if style == V11 else None

    # --- build ------------------------------------------------------------------------

    def build(self) -> Semester:
        self._make_campus()
        for course in self.courses:
            self._build_content(course)
            self._build_groups(course)
        for course in self.courses:
            self._build_grades(course)
        self._build_calculated_grades()
        self._build_activity()
        envelopes = self._assemble_envelopes()
        return Semester(self.seed, self.scale, envelopes, self._truth())

    # --- people and courses ----------------------------------------------------------

    def _make_person(self, role: str, taken: set[str]) -> Person:
        given = self.rng.choice(catalog.GIVEN_NAMES)
        family = self.rng.choice(catalog.FAMILY_NAMES)
        base = _ascii_login(given[0] + family)
        external_id, suffix = base, 1
        while external_id in taken:
            suffix += 1
            external_id = f"{base}{suffix}"
        taken.add(external_id)
        user_hex = self._hex()
        person = Person(
            ref=PersonRef(self.wire.user_iri(user_hex), self._learn_id("user"), external_id),
            user_hex=user_hex,
            given_name=given,
            family_name=family,
            role=role,
            ability=min(0.98, max(0.35, self.rng.gauss(0.78, 0.12))),
            engagement=self.rng.uniform(0.3, 1.0),
            user_agent=self.rng.choice(catalog.USER_AGENTS),
            ip_address=f"10.{self.rng.randint(16, 31)}.{self.rng.randint(0, 255)}."
            f"{self.rng.randint(1, 254)}",
        )
        self.people.append(person)
        return person

    def _make_campus(self) -> None:
        taken: set[str] = set()
        course_count = COURSES_PER_SCALE * self.scale
        # One instructor in each six teaches two courses: people are shared.
        instructors = [
            self._make_person("Instructor", taken)
            for _ in range(course_count - course_count // COURSES_PER_SCALE)
        ]
        sections: dict[str, int] = defaultdict(int)
        for index in range(course_count):
            entry = catalog.COURSES[index % len(catalog.COURSES)]
            code = f"{entry.subject}-{entry.number}"
            sections[code] += 1
            section = sections[code]
            number = f"{code}-{catalog.TERM_CODE}"
            if section > 1:
                number = f"{code}-{section:03d}-{catalog.TERM_CODE}"
            course_hex = self._hex()
            ref = CourseRef(
                self.wire.course_iri(course_hex), self._learn_id("course"), number, entry.title
            )
            teacher = instructors[index % len(instructors)]
            course = Course(ref=ref, entry=entry, instructors=[teacher])
            course.total_item_id = self._learn_id("gradable")
            course.weighted_item_id = self._learn_id("gradable")
            self.courses.append(course)
        # Intro courses draw more students; each student takes one to three of them.
        weights = [1.6 if c.entry.number.startswith("1") else 1.0 for c in self.courses]
        for _ in range(STUDENTS_PER_SCALE * self.scale):
            student = self._make_person("Learner", taken)
            wanted = self.rng.choices((1, 2, 3), weights=(35, 45, 20))[0]
            chosen: list[Course] = []
            while len(chosen) < wanted:
                course = self.rng.choices(self.courses, weights=weights)[0]
                if course not in chosen:
                    chosen.append(course)
            for course in chosen:
                course.students.append(student)
        for course in self.courses:
            for person in course.instructors + course.students:
                course.membership_ids[person.ref.iri] = self._learn_id("membership")

    # --- content ---------------------------------------------------------------------

    def _build_content(self, course: Course) -> None:
        """Plan the outline, then play every item's life (created, edited, maybe
        deleted and restored) as ContentEvents."""
        self._plan_outline(course)
        for item in course.items:
            self._play_item(item)

    def _plan_outline(self, course: Course) -> None:
        rng = self.rng
        entry = course.entry
        prebuilt = rng.random() < 0.5  # some instructors build everything before week 1
        lessons = rng.random() < 0.3  # unit folders as learning modules

        def build_time(unit_start: int) -> int:
            if prebuilt or unit_start <= SEMESTER_START:
                low, high = BUILD_START, SEMESTER_START - DAY
            else:
                low, high = unit_start - 8 * DAY, unit_start - DAY
            day = local_day_start(rng.randint(low, high))
            return self._daytime(day, 9, 21)

        def add(kind: str, name: str, at: int, **extra: Any) -> ContentPlan:
            handler, render = HANDLERS[kind]
            state: dict[str, Any] = dict.fromkeys(CONTENT_FIELDS)
            state.update(
                name=name,
                description=extra.pop("description", ""),
                handler=handler,
                renderType=render,
                isFolder=kind == "folder",
                isLesson=extra.pop("is_lesson", False),
                isGroupContent=extra.pop("group_content", False),
                dataVersion=3,
            )
            learn_id = self._learn_id("content")
            item = ContentPlan(
                course, kind, learn_id, self.wire.content_iri(learn_id), state, at, **extra
            )
            course.items.append(item)
            return item

        def graded(
            item: ContentPlan, points: float, due: int, aggregation: str, attempts: int
        ) -> None:
            item.state.update(scorePossible=points, dueDate=iso(due), aggregationModel=aggregation)
            learn_id = self._learn_id("gradable")
            open_ms = max(item.created_ms + 2 * HOUR, due - 9 * DAY)
            item.gradable = GradablePlan(
                learn_id, self.wire.gradable_item_iri(learn_id), attempts, open_ms
            )

        def due_at(unit_start: int, day: int) -> int:
            # Noon of that campus day, read in UTC, is still the same calendar date.
            noon = unit_start + day * DAY + 12 * HOUR
            when = datetime.fromtimestamp(noon / 1000, tz=UTC) + timedelta(
                days=rng.choice((0, 0, 1))
            )
            return local_ms(when.year, when.month, when.day, 23, 59)

        clock = 0

        def tick() -> int:
            # The next click of an instructor building a folder: a few minutes later.
            nonlocal clock
            clock += rng.randint(2, 5) * MINUTE
            return clock

        # Start Here: syllabus and an introductions forum that starts out graded and
        # is made ungraded before term (an edit that clears three fields with null).
        clock = build_time(SEMESTER_START)
        add("folder", "Start Here", clock)
        syllabus = f"Syllabus_{entry.subject}{entry.number}_{catalog.TERM_CODE}.pdf"
        add("file", syllabus, tick())
        add("document", "Course Schedule", tick())
        add(
            "document",
            "Meet Your Instructor",
            tick(),
            description=f"About {course.instructors[0].given_name}",
        )
        intro = add("forum", "Introductions", tick(), forum_id=self._learn_id("forum"))
        intro.state.update(
            scorePossible=5.0, dueDate=iso(due_at(SEMESTER_START, 6)), aggregationModel="Last"
        )

        tools = rng.sample(catalog.LTI_TOOLS, 2)
        for unit, topic in enumerate(entry.units):
            unit_start = SEMESTER_START + 3 * unit * WEEK
            clock = build_time(unit_start)
            add(
                "folder",
                f"Unit {unit + 1}: {topic}",
                clock,
                is_lesson=lessons,
                description=f"Weeks {3 * unit + 1}-{3 * unit + 3}",
            )
            add("document", f"Unit {unit + 1} Overview", tick())
            add("file", f"Lecture slides - {topic}.pptx", tick(), replaced=unit == 1)
            site, url = rng.choice(catalog.EXTERNAL_SITES)
            add("link", f"{site}: {topic}", tick(), description=url)
            quiz = add("test", f"Quiz {unit + 1}", tick())
            graded(quiz, rng.choice((10.0, 15.0, 20.0, 25.0)), due_at(unit_start, 13), "Highest", 2)
            if unit in (1, 3):
                title = "Lab Report" if entry.lab else "Problem Set"
                if entry.subject in ("ENGL", "HIST", "SOC", "ART"):
                    title = "Essay"
                work = add("assignment", f"{title} {unit // 2 + 1}", tick())
                graded(work, rng.choice((50.0, 100.0)), due_at(unit_start, 11), "Last", 1)
            if unit in (0, 2, 4):
                forum = add(
                    "forum", f"Discussion: {topic}", tick(), forum_id=self._learn_id("forum")
                )
                graded(forum, 10.0, due_at(unit_start, 9), "Last", 1)
            if unit == 2:
                tool = tools[0]
                lti = add("lti", f"{tool[0]}: {topic} homework", tick(), tool=tool)
                graded(lti, 30.0, due_at(unit_start, 12), "Highest", 3)
            if unit == 4:
                tool = tools[1]
                add("lti", f"{tool[0]} practice", tick(), tool=tool)

        midterm_week = SEMESTER_START + 7 * WEEK
        midterm = add("test", "Midterm Exam", build_time(midterm_week - WEEK))
        graded(midterm, 100.0, due_at(midterm_week, 3), "Highest", 1)
        project_start = SEMESTER_START + 11 * WEEK
        project = add("assignment", "Final Project", build_time(project_start), group_content=True)
        graded(project, 100.0, due_at(project_start, 25), "Last", 1)
        final_week = SEMESTER_START + 14 * WEEK
        final = add("test", "Final Exam", build_time(final_week - WEEK))
        graded(final, 150.0, due_at(final_week, 4), "Highest", 1)

    def _play_item(self, item: ContentPlan) -> None:
        """Turn an item's planned life into ContentEvents, recording each version."""
        rng = self.rng
        edits: list[tuple[int, str, dict[str, Any]]] = []  # (time, action, new values)
        semester_span = (max(item.created_ms + HOUR, SEMESTER_START), FINALS_END - 3 * DAY)

        def some_time(low: int, high: int) -> int:
            return rng.randint(low, max(low, high))

        def some_workday_time(low: int, high: int) -> int:
            # Instructors edit between 8 am and 11 pm; the per-item ordering below
            # keeps every edit after the item's creation.
            return self._daytime(local_day_start(some_time(low, high)), 8, 23)

        if item.kind == "forum" and item.state["name"] == "Introductions":
            at = some_time(item.created_ms + 30 * MINUTE, SEMESTER_START - HOUR)
            edits.append(
                (at, "Modified", dict(scorePossible=None, dueDate=None, aggregationModel=None))
            )
        if item.gradable is not None and rng.random() < 0.25:
            # Points and due date change only before anyone can attempt the item, so
            # every grade event carries the final values.
            window = (item.created_ms + 10 * MINUTE, item.gradable.open_ms - 10 * MINUTE)
            if window[1] - window[0] > HOUR:
                at = some_time(*window)
                if rng.random() < 0.5:
                    new_due = _shift_iso(item.state["dueDate"], rng.choice((1, 2, 7)) * DAY)
                    edits.append((at, "Modified", {"dueDate": new_due}))
                else:
                    points = float(item.state["scorePossible"]) + rng.choice((5.0, 10.0))
                    edits.append((at, "Modified", {"scorePossible": points}))
        if rng.random() < 0.25:
            at = some_workday_time(*semester_span)
            edits.append((at, "Modified", {"description": _description_for(item, rng)}))
        if rng.random() < 0.10 and item.kind != "folder":
            at = some_workday_time(*semester_span)
            edits.append((at, "Modified", {"name": _renamed(item.state["name"], rng)}))
        if rng.random() < 0.10:
            at = some_workday_time(*semester_span)
            edits.append((at, "Modified", {}))  # saved without changes: still a version
        if rng.random() < 0.07:
            at = some_workday_time(*semester_span)
            edits.append((at, "Modified", {"description": None}))  # cleared: 1.1 null
        deletable = item.gradable is None and item.kind in ("document", "file", "link")
        if item.replaced or (deletable and rng.random() < 0.12):
            deleted_at = some_workday_time(*semester_span)
            edits = [e for e in edits if e[0] < deleted_at]
            edits.append((deleted_at, "Deleted", {}))
            if item.replaced or rng.random() < 0.4:
                # Restored: re-created (or just edited back) some days later.
                back = some_workday_time(deleted_at + DAY, deleted_at + 10 * DAY)
                action = "Created" if item.replaced else rng.choice(("Created", "Modified"))
                edits.append((back, action, {"name": _renamed(item.state["name"], rng)}))
        edits.sort(key=lambda e: e[0])

        state = dict(item.state)
        self._content_version(item, item.created_ms, "Created", state, deleted=False)
        last_ms = item.created_ms
        for at, action, values in edits:
            at = max(at, last_ms + rng.randint(1, 90_000))  # strictly increasing per item
            state = {**state, **values}
            self._content_version(item, at, action, state, deleted=action == "Deleted")
            last_ms = at

    def _content_version(
        self, item: ContentPlan, at: int, action: str, state: dict[str, Any], deleted: bool
    ) -> None:
        rng = self.rng
        previous = item.versions[-1] if item.versions else None
        old = previous.fields if previous else dict.fromkeys(CONTENT_FIELDS)
        changed = [k for k in CONTENT_FIELDS if state[k] != old[k]]
        clears = any(state[k] is None and old[k] is not None for k in CONTENT_FIELDS)
        # Caliper 1.0 cannot clear a field (null there means "not sent"), so an edit
        # that clears one goes out in the 1.1 style.
        style = V10 if not clears and rng.random() < 0.3 else V11
        if style == V10:
            sent = dict(state)
            changes = None
            if action != "Deleted" and rng.random() < 0.7:
                changes = {
                    "position": (None if previous is None else 0, rng.randint(0, 12)),
                    "mainData": (None, state["description"] or ""),
                    "launchInNewWindow": (None, state["handler"].endswith("link")),
                    "isTracked": (None, False),
                }
                for key in changed:
                    changes[key] = (old[key], state[key])
                if "name" in changed:
                    changes["title"] = (old["name"], state["name"])
        else:
            changes = None
            full = action == "Created" or rng.random() < 0.55
            if action == "Deleted" and rng.random() < 0.5:
                full = False
            sent = {}
            for key in CONTENT_FIELDS:
                # A partial edit still names the item; unchanged keys may be left out.
                wanted = full or key in ("name", "handler")
                if key in changed or (wanted and state[key] is not None):
                    sent[key] = state[key]  # None is sent only when changed: it clears
        fields = dict(state)
        version = ContentVersion(
            valid_from_ms=at,
            action=action,
            fields=fields,
            deleted=deleted,
            changed_fields=content_changed_fields(previous, fields, deleted),
        )
        item.versions.append(version)
        teacher = item.course.instructors[0]
        event = self.wire.content_event(
            style=style,
            event_id=self._new_id(style),
            action=action,
            actor=teacher.ref,
            course=item.course.ref,
            item_iri=item.iri,
            sent_fields=sent,
            changes=changes,
            event_time=iso(at),
            session_key=self._session_key(teacher, at),
        )
        self._emit(
            event,
            at,
            style=style,
            event_type="ContentEvent",
            action=action,
            course=item.course,
            people=[teacher],
        )

    # --- groups ------------------------------------------------------------------------

    def _build_groups(self, course: Course) -> None:
        rng = self.rng
        entry = course.entry
        label = "Lab Group" if entry.lab else "Project Team"
        if entry.subject == "ENGL":
            label = "Writing Workshop"
        roster = list(course.students)
        rng.shuffle(roster)
        size = 5 if entry.lab else 6
        count = max(2, len(roster) // size)
        teams: list[list[Person]] = [roster[i::count] for i in range(count)]
        day = local_day_start(SEMESTER_START + WEEK + rng.randint(0, 3) * DAY)
        clock = self._daytime(day, 9, 17)
        teacher = course.instructors[0]
        iris: list[str] = []
        members: dict[str, list[Person]] = {}
        names: dict[str, str] = {}
        plans: list[tuple[int, str, str | None, list[Person] | None, str]] = []
        # (time, group iri, new name or None, new members or None, action)
        for number, team in enumerate(teams, start=1):
            learn_id = self._learn_id("group")
            iri = f"{course.ref.iri}/groups/{learn_id}"
            self.group_meta[iri] = (learn_id, course.ref.iri)
            iris.append(iri)
            clock += rng.randint(20_000, 120_000)
            name = f"{label} {number}"
            names[iri] = name
            members[iri] = list(team)
            if rng.random() < 0.25:
                # Created empty, filled a few minutes later.
                plans.append((clock, iri, name, [], "Created"))
                plans.append((clock + rng.randint(60_000, 600_000), iri, None, team, "Modified"))
            else:
                plans.append((clock, iri, name, team, "Created"))
        # Students move between groups during the first two thirds of the term; the
        # moves are played in time order since each event carries the whole list.
        moves = sorted(
            self._daytime_between(SEMESTER_START + 2 * WEEK, SEMESTER_START + 10 * WEEK)
            for _ in range(rng.randint(2, 5))
        )
        for at in moves:
            source, target = rng.sample(iris, 2)
            if len(members[source]) <= 2:
                continue
            mover = rng.choice(members[source])
            members[source] = [p for p in members[source] if p is not mover]
            members[target] = [*members[target], mover]
            plans.append((at, source, None, list(members[source]), "Modified"))
            plans.append(
                (at + rng.randint(5_000, 90_000), target, None, list(members[target]), "Modified")
            )
        for iri in iris:
            if rng.random() < 0.35:
                at = self._daytime_between(SEMESTER_START + 2 * WEEK, SEMESTER_START + 12 * WEEK)
                nickname = rng.choice(catalog.TEAM_NICKNAMES)
                number = names[iri].rsplit(" ", 1)[-1]
                plans.append((at, iri, f"Team {number}: {nickname}", None, "Modified"))
            if rng.random() < 0.1:
                at = self._daytime_between(SEMESTER_START + 2 * WEEK, SEMESTER_START + 13 * WEEK)
                plans.append((at, iri, None, None, "Modified"))  # saved, nothing changed
        # An optional study group that lives for a few weeks, then is deleted.
        learn_id = self._learn_id("group")
        study = f"{course.ref.iri}/groups/{learn_id}"
        self.group_meta[study] = (learn_id, course.ref.iri)
        opened = self._daytime(local_day_start(SEMESTER_START + rng.randint(4, 6) * WEEK))
        volunteers = rng.sample(course.students, min(len(course.students), rng.randint(3, 8)))
        plans.append((opened, study, "Exam Review Study Group", volunteers, "Created"))
        closed = self._daytime(local_day_start(opened + rng.randint(3, 6) * WEEK))
        plans.append((closed, study, None, None, "Deleted"))
        plans.sort(key=lambda p: p[0])

        current: dict[str, tuple[str | None, list[str]]] = {}
        last_ms: dict[str, int] = {}
        for at, iri, name, people, action in plans:
            at = max(at, last_ms.get(iri, 0) + rng.randint(1, 60_000))
            last_ms[iri] = at
            old_name, old_members = current.get(iri, (None, []))
            new_name = name if name is not None else old_name
            new_ids = (
                sorted(course.membership_ids[p.ref.iri] for p in people)
                if people is not None
                else old_members
            )
            current[iri] = (new_name, new_ids)
            self._group_version(
                course,
                teacher,
                iri,
                at,
                action,
                new_name,
                new_ids,
                send_name=name is not None,
                people=people,
            )

    def _group_version(
        self,
        course: Course,
        teacher: Person,
        iri: str,
        at: int,
        action: str,
        name: str | None,
        member_ids: list[str],
        *,
        send_name: bool,
        people: list[Person] | None,
    ) -> None:
        rng = self.rng
        history = self.group_versions.setdefault(iri, [])
        previous = history[-1] if history else None
        deleted = action == "Deleted"
        history.append(
            GroupVersion(
                valid_from_ms=at,
                action=action,
                name=name,
                member_ids=list(member_ids),
                deleted=deleted,
                changed_fields=group_changed_fields(previous, name, member_ids, deleted),
            )
        )
        style = V10 if rng.random() < 0.35 else V11
        group_extensions: dict[str, Any] = {}
        event_extensions: dict[str, Any] = {}
        # 1.0 always repeats the name; 1.1 may leave an unchanged name out.
        if style == V10 or send_name or rng.random() < 0.5:
            group_extensions["bb:group.name"] = name
        added_member = None
        if people is not None:
            # Learn lists members in no particular order, keyed by courseMembershipId
            # or id, as JSON or as a string holding that JSON (always so in 1.0).
            key = "courseMembershipId" if rng.random() < 0.7 else "id"
            elements = [{key: course.membership_ids[p.ref.iri]} for p in people]
            rng.shuffle(elements)
            encoded: Any = elements
            if style == V10 or rng.random() < 0.4:
                encoded = json.dumps(elements, separators=(",", ":"))
            if style == V11 and rng.random() < 0.2:
                event_extensions["bb:group.users"] = encoded
            else:
                group_extensions["bb:group.users"] = encoded
            if style == V10 and people:
                newest = people[-1]
                added_member = (
                    course.membership_ids[newest.ref.iri],
                    newest.user_hex,
                    newest.ref,
                )
        event = self.wire.group_event(
            style=style,
            event_id=self._new_id(style),
            action=action,
            actor=teacher.ref,
            course=course.ref,
            group_iri=iri,
            group_extensions=group_extensions,
            event_extensions=event_extensions,
            added_member=added_member,
            event_time=iso(at),
            session_key=self._session_key(teacher, at),
        )
        self._emit(
            event,
            at,
            style=style,
            event_type="CourseGroupEvent",
            action=action,
            course=course,
            people=[teacher],
        )

    # --- attempts and grades ---------------------------------------------------------

    def _build_grades(self, course: Course) -> None:
        rng = self.rng
        for item in course.items:
            if item.gradable is None:
                continue
            final = item.versions[-1].fields
            due = _parse_iso(final["dueDate"])
            grading = _ItemGrading(
                item=item,
                gradable=item.gradable,
                points=float(final["scorePossible"]),
                due_ms=due,
                auto=item.kind in ("test", "lti"),
                assessment=item.kind == "test",
                # Instructors grade a whole column in one or two sittings after the due date.
                grading_days=tuple(
                    local_day_start(due + rng.randint(1, 8) * DAY) for _ in range(rng.randint(1, 2))
                ),
            )
            for student in course.students:
                if rng.random() > 0.45 + 0.5 * student.engagement:
                    continue
                late = rng.random() < 0.05
                opens = item.gradable.open_ms
                low = max(opens, due - 6 * DAY)
                # Most students start close to the due date; 5% start after it.
                started = due - int((due - low) * rng.random() ** 2) - rng.randint(MINUTE, HOUR)
                started = max(started, opens + MINUTE)
                if late:
                    started = due + rng.randint(HOUR, 2 * DAY)
                self._attempt(grading, course, student, 1, started, late)
                if item.gradable.max_attempts > 1 and rng.random() < 0.2:
                    second = started + rng.randint(2 * HOUR, 2 * DAY)
                    if second < due:
                        self._attempt(grading, course, student, 2, second, late=False)

    def _attempt(
        self,
        grading: _ItemGrading,
        course: Course,
        student: Person,
        count: int,
        started: int,
        late: bool,
    ) -> None:
        """One attempt: graded once, sometimes regraded days later."""
        rng = self.rng
        item, gradable, points = grading.item, grading.gradable, grading.points
        learn_id = self._learn_id("attempt")
        iri = f"{gradable.iri}/attempts/{learn_id}"
        self.attempts[iri] = {
            "learn_id": learn_id,
            "course": course,
            "gradable": gradable,
            "item": item,
            "student": student,
            "count": count,
            "started": started,
        }
        fraction = min(1.05, max(0.0, rng.gauss(student.ability, 0.1)))
        if grading.auto:
            graded_at = started + rng.randint(8 * MINUTE, 55 * MINUTE)
            score = round(points * fraction, 2)
            action_name = ACTION_TOOL_GRADE if item.kind == "lti" else ACTION_AUTOGRADE
        else:
            day = rng.choice(grading.grading_days)
            graded_at = max(self._daytime(day, 9, 22), started + HOUR)
            score = round(points * fraction * 2) / 2
            action_name = ACTION_GRADE
        comment = rng.choice(catalog.GRADER_COMMENTS) if rng.random() < 0.15 else None
        penalty = round(points * 0.1, 2) if late else 0.0
        self._score(iri, graded_at, score, action_name, comment, penalty, grading.assessment)
        if grading.assessment and rng.random() < 0.15:
            self._assessment_events(course, item, student, iri, count, started, graded_at)
        if rng.random() < 0.12:
            regraded_at = self._daytime(
                local_day_start(graded_at + rng.randint(1, 10) * DAY), 9, 22
            )
            change = rng.choice((-1, 1)) * points * rng.uniform(0.02, 0.12)
            rescored = round(min(points * 1.05, max(0.0, score + change)), 2)
            comment = "Regraded after review." if rng.random() < 0.5 else None
            self._score(
                iri, regraded_at, rescored, ACTION_REGRADE, comment, penalty, grading.assessment
            )

    def _score(
        self,
        attempt_iri: str,
        graded_at: int,
        score: float,
        action_name: str,
        comment: str | None,
        penalty: float,
        assessment: bool,
    ) -> None:
        rng = self.rng
        attempt = self.attempts[attempt_iri]
        course: Course = attempt["course"]
        gradable: GradablePlan = attempt["gradable"]
        item: ContentPlan = attempt["item"]
        student: Person = attempt["student"]
        final = item.versions[-1].fields
        started = iso(attempt["started"])
        if gradable.first_graded_ms is None or graded_at < gradable.first_graded_ms:
            gradable.first_graded_ms = graded_at
        if rng.random() < 0.35:
            # The older Caliper 1.0 OutcomeEvent: normalScore is the score given.
            event = self.wire.outcome_event(
                course=course.ref,
                student=student.ref,
                attempt_iri=attempt_iri,
                attempt_count=attempt["count"],
                started=started,
                gradable_iri=gradable.iri,
                normal_score=score,
                penalty_score=penalty,
                comment=comment,
                event_time=iso(graded_at),
            )
            truth = ScoreTruth(
                graded_at_ms=graded_at,
                event_type="OutcomeEvent",
                score_given=score,
                max_score=None,
                normal_score=score,
                penalty_score=penalty,
                extra_credit_score=0.0,
                total_score=0.0,
                curved_total_score=0.0,
                comment=comment,
                action_name=None,
            )
            self._emit(
                event,
                graded_at,
                style=V10,
                event_type="OutcomeEvent",
                action="Graded",
                course=course,
                people=[student],
                nightly=True,
            )
        else:
            assignable = self.wire.assignable(
                gradable_iri=gradable.iri,
                assessment=assessment,
                max_score=final["scorePossible"],
                max_attempts=gradable.max_attempts,
                date_to_submit=final["dueDate"],
                created=iso(item.created_ms),
            )
            event = self.wire.grade_event(
                event_id=self._event_id(),
                course=course.ref,
                student=student.ref,
                attempt_iri=attempt_iri,
                attempt_count=attempt["count"],
                started=started,
                assignable=assignable,
                score_given=score,
                action_name=action_name,
                content_id=item.learn_id,
                provider_domain=item.tool[1] if item.tool else None,
                event_time=iso(graded_at),
            )
            truth = ScoreTruth(
                graded_at_ms=graded_at,
                event_type="GradeEvent",
                score_given=score,
                max_score=0.0,
                normal_score=None,
                penalty_score=None,
                extra_credit_score=None,
                total_score=None,
                curved_total_score=None,
                comment=None,
                action_name=action_name,
            )
            self._emit(
                event,
                graded_at,
                style=V11,
                event_type="GradeEvent",
                action="Graded",
                course=course,
                people=[student],
                nightly=True,
            )
        self.attempt_scores[attempt_iri].append(truth)

    def _assessment_events(
        self,
        course: Course,
        item: ContentPlan,
        student: Person,
        attempt_iri: str,
        count: int,
        started: int,
        graded_at: int,
    ) -> None:
        gradable = item.gradable
        assert gradable is not None
        final = item.versions[-1].fields
        submitted = graded_at - self.rng.randint(1_000, 20_000)
        for action, at in (("Started", started), ("Submitted", submitted)):
            version = item.alive_at(at)
            name = version.fields["name"] if version else final["name"]
            style = V10 if self.rng.random() < 0.25 else V11
            event = self.wire.assessment_event(
                style=style,
                event_id=self._new_id(style),
                action=action,
                person=student.ref,
                course=course.ref,
                content_id=item.learn_id,
                gradable_id=gradable.learn_id,
                test_name=name,
                max_score=final["scorePossible"],
                max_attempts=gradable.max_attempts,
                due=final["dueDate"],
                attempt_iri=attempt_iri,
                attempt_count=count,
                started=iso(started),
                session_key=self._session_key(student, at),
                event_time=iso(at),
            )
            self._emit(
                event,
                at,
                style=style,
                event_type="AssessmentEvent",
                action=action,
                course=course,
                people=[student],
            )

    # --- calculated grades -----------------------------------------------------------

    def _build_calculated_grades(self) -> None:
        """Nightly recalculation: two columns per enrolment (course total and weighted
        total), one to four snapshots each; early ones have no score yet, and some
        pairs share an eventTime so that only the version orders them."""
        rng = self.rng
        nights = [SEMESTER_START + d * DAY for d in range((TEACHING_WEEKS + 1) * 7 - 1)]
        scores_by_student: dict[tuple[str, str], list[tuple[ContentPlan, str]]] = defaultdict(list)
        for iri, attempt in self.attempts.items():
            course: Course = attempt["course"]
            student: Person = attempt["student"]
            scores_by_student[(course.ref.iri, student.ref.iri)].append((attempt["item"], iri))
        planned: list[tuple[int, int, dict[str, Any]]] = []  # (time, sequence, snapshot)
        for course in self.courses:
            for student in course.students:
                graded = scores_by_student[(course.ref.iri, student.ref.iri)]
                for item_id, is_course_grade in (
                    (course.total_item_id, True),
                    (course.weighted_item_id, False),
                ):
                    count = rng.choice((1, 2, 2, 3, 3, 4))
                    # Now and then the job runs twice for a column in one night: two
                    # snapshots with one eventTime, where only the version orders them.
                    twice = count >= 2 and rng.random() < 0.12
                    chosen = sorted(rng.sample(nights, count - twice))
                    if rng.random() < 0.3:
                        chosen[0] = nights[rng.randint(0, 6)]  # week 1: nothing graded yet
                        chosen.sort()
                    twice_at = rng.randrange(len(chosen)) if twice else -1
                    previous_time = None
                    for index, night in enumerate(chosen):
                        job = night + DAY + HOUR + rng.randint(0, 90 * MINUTE)  # 1-2:30 am
                        if previous_time is not None and job <= previous_time:
                            job = previous_time + rng.randint(1, 5_000)
                        score, possible = _course_total(graded, self.attempt_scores, job)
                        snapshot = {
                            "course": course,
                            "student": student,
                            "item_id": item_id,
                            "is_course_grade": is_course_grade,
                            "score": score,
                            "possible": possible,
                        }
                        if index == twice_at:
                            stale = dict(snapshot)
                            if score is not None:
                                stale["score"] = round(score * rng.uniform(0.85, 0.99), 2)
                            planned.append((job, len(planned), stale))
                        planned.append((job, len(planned), snapshot))
                        previous_time = job
        planned.sort(key=lambda p: (p[0], p[1]))
        version = 329_180_000 + rng.randint(0, 9_999)
        for at, _, snapshot in planned:
            version += rng.randint(1, 40)  # synVersion grows with every recalculation
            course = snapshot["course"]
            student = snapshot["student"]
            is_course_grade = snapshot["is_course_grade"]
            score, possible = snapshot["score"], snapshot["possible"]
            if not is_course_grade:
                # Weighted total: a percentage of what has been graded so far.
                score = None if score is None or not possible else round(100 * score / possible, 2)
                possible = 100.0
            key = f"{course.ref.iri}|{snapshot['item_id']}|{student.ref.iri}"
            record = self.calculated.setdefault(
                key,
                {
                    "course": course,
                    "student": student,
                    "item_id": snapshot["item_id"],
                    "is_course_grade": is_course_grade,
                    "history": [],
                },
            )
            record["history"].append(CalculatedGradeSnapshotTruth(version, score, possible, at))
            style = V10 if rng.random() < 0.4 else V11
            event = self.wire.calculated_grade_event(
                style=style,
                event_id=self._new_id(style),
                course=course.ref,
                student=student.ref,
                item_id=snapshot["item_id"],
                version=version,
                score=score,
                score_possible=possible,
                is_course_grade=is_course_grade,
                event_time=iso(at),
            )
            action = "GradeCalculated" if style == V10 else "Graded"
            self._emit(
                event,
                at,
                style=style,
                event_type="CalculatedGradeSnapshotEvent",
                action=action,
                course=course,
                people=[student],
                nightly=True,
            )

    # --- the everyday stream ---------------------------------------------------------

    def _build_activity(self) -> None:
        """Logins, course navigation, views, LTI tool use and forum posts."""
        rng = self.rng
        courses_of: dict[str, list[Course]] = defaultdict(list)
        for course in self.courses:
            for student in course.students:
                courses_of[student.ref.iri].append(course)
        for person in self.people:
            if person.role == "Instructor":
                chance, tries = 0.6, 4
            else:
                chance, tries = 0.04 + 0.18 * person.engagement, 3
            for week in range(TEACHING_WEEKS + 1):
                for _ in range(tries):
                    if rng.random() >= chance:
                        continue
                    day = local_day_start(SEMESTER_START + week * WEEK + rng.randint(0, 6) * DAY)
                    self._session(person, self._daytime(day, 7, 23), courses_of[person.ref.iri])

    def _session(self, person: Person, login: int, courses: list[Course]) -> None:
        rng = self.rng
        key = self._session_key(person, login)
        started = iso(login)
        clock = login
        style = V10 if rng.random() < 0.1 else V11
        self._session_event(person, "LoggedIn", style, key, started, clock)
        for _ in range(rng.choice((1, 1, 2)) if courses else 0):
            course = rng.choice(courses)
            clock += rng.randint(5_000, 120_000)
            page, page_name = rng.choice(NAVIGATION_PAGES)
            event = self.wire.navigation_event(
                event_id=self._event_id(),
                person=person.ref,
                course=course.ref,
                page=page,
                page_name=page_name,
                session_key=key,
                event_time=iso(clock),
            )
            self._emit(
                event,
                clock,
                style=V11,
                event_type="NavigationEvent",
                action="NavigatedTo",
                course=course,
                people=[person],
            )
            visible = [(item, v) for item in course.items if (v := item.alive_at(clock))]
            visible = [(item, v) for item, v in visible if item.kind != "folder"]
            for item, version in rng.sample(visible, min(len(visible), rng.randint(0, 2))):
                clock += rng.randint(3_000, 300_000)
                if item.kind == "lti" and item.tool and rng.random() < 0.6:
                    self._tool_use(person, course, item, key, clock)
                elif item.kind == "forum" and item.forum_id and rng.random() < 0.5:
                    self._forum_post(person, course, item, version, key, clock)
                else:
                    view_style = V10 if rng.random() < 0.2 else V11
                    event = self.wire.view_event(
                        style=view_style,
                        event_id=self._new_id(view_style),
                        person=person.ref,
                        course=course.ref,
                        item_iri=item.iri,
                        item_name=version.fields["name"],
                        session_key=key,
                        event_time=iso(clock),
                    )
                    self._emit(
                        event,
                        clock,
                        style=view_style,
                        event_type="ViewEvent",
                        action="Viewed",
                        course=course,
                        people=[person],
                        viewed_iri=item.iri,
                    )
        if rng.random() < 0.7:
            clock += rng.randint(MINUTE, 40 * MINUTE)
            self._session_event(person, "LoggedOut", style, key, started, clock)

    def _session_event(
        self, person: Person, action: str, style: Style, key: str, started: str, at: int
    ) -> None:
        event = self.wire.session_event(
            style=style,
            event_id=self._new_id(style),
            action=action,
            person=person.ref,
            session_key=key,
            started=started,
            user_agent=person.user_agent,
            ip_address=person.ip_address,
            event_time=iso(at),
        )
        self._emit(
            event,
            at,
            style=style,
            event_type="SessionEvent",
            action=action,
            course=None,
            people=[person],
        )

    def _tool_use(
        self, person: Person, course: Course, item: ContentPlan, key: str, at: int
    ) -> None:
        assert item.tool is not None
        event = self.wire.tool_use_event(
            event_id=self._event_id(),
            person=person.ref,
            course=course.ref,
            tool_name=item.tool[0],
            tool_host=item.tool[1],
            item_iri=item.iri,
            session_key=key,
            event_time=iso(at),
        )
        self._emit(
            event,
            at,
            style=V11,
            event_type="ToolUseEvent",
            action="Used",
            course=course,
            people=[person],
        )

    def _forum_post(
        self,
        person: Person,
        course: Course,
        item: ContentPlan,
        version: ContentVersion,
        key: str,
        at: int,
    ) -> None:
        rng = self.rng
        assert item.forum_id is not None
        post_id = self._learn_id("post")
        thread_id = post_id if rng.random() < 0.3 else f"_{self.counters['post'] - 7}_1"
        style = V10 if rng.random() < 0.2 else V11
        length = rng.randint(80, 2400)
        points = version.fields["scorePossible"] or 0.0
        for action, when in (("Created", at), ("Modified", at + rng.randint(MINUTE, DAY))):
            if action == "Modified" and rng.random() > 0.12:
                break  # most posts are never edited
            event = self.wire.forum_event(
                style=style,
                event_id=self._new_id(style),
                action=action,
                person=person.ref,
                course=course.ref,
                forum_id=item.forum_id,
                forum_name=version.fields["name"],
                content_id=item.learn_id,
                points=points,
                due=version.fields["dueDate"],
                post_id=post_id,
                thread_id=thread_id,
                length=length if action == "Created" else length + rng.randint(5, 300),
                first_post=thread_id == post_id,
                session_key=key,
                event_time=iso(when),
            )
            self._emit(
                event,
                when,
                style=style,
                event_type="ForumEvent",
                action=action,
                course=course,
                people=[person],
            )

    # --- envelopes ------------------------------------------------------------------

    def _assemble_envelopes(self) -> list[dict[str, Any]]:
        """Pack events as Learn sends them and order the envelopes by arrival.

        Live events leave within seconds, in small envelopes of one style. Grades and
        calculated grades leave in a nightly batch, shuffled; some batches are days
        late and some grades slip into the next night. A few envelopes are sent again
        verbatim (retries), minutes or days later."""
        rng = self.rng
        arrivals: list[tuple[int, int, dict[str, Any], list[Outgoing]]] = []

        def envelope(style: Style, send_ms: int, events: list[Outgoing]) -> dict[str, Any]:
            head: dict[str, Any] = {"sensor": self.sensor, "sendTime": iso(send_ms)}
            if style == V11:
                head["dataVersion"] = DATA_VERSION_V1P1
            head["data"] = [e.event for e in events]
            return head

        live = sorted((e for e in self.outgoing if not e.nightly), key=lambda e: e.time_ms)
        chunk: list[Outgoing] = []
        cap = 1
        for event in [*live, None]:
            if chunk and (
                event is None
                or event.style != chunk[0].style
                or len(chunk) >= cap
                or event.time_ms - chunk[0].time_ms > 20_000
            ):
                send = chunk[-1].time_ms + rng.randint(300, 6_000)
                arrivals.append(
                    (
                        send + rng.randint(20, 900),
                        len(arrivals),
                        envelope(chunk[0].style, send, chunk),
                        chunk,
                    )
                )
                chunk = []
            if event is not None:
                if not chunk:
                    cap = rng.choice((1, 1, 2, 3, 4, 6))
                chunk.append(event)

        batches: dict[int, list[Outgoing]] = defaultdict(list)
        for event in self.outgoing:
            if event.nightly:
                night = local_day_start(event.time_ms - 3 * HOUR)
                if event.event_type != "CalculatedGradeSnapshotEvent" and (
                    rng.random() < STRAGGLER_GRADE_RATE
                ):
                    night = _next_local_day(night)
                batches[night].append(event)
        for night in sorted(batches):
            events = batches[night]
            rng.shuffle(events)
            # 3 am after the batch's day: later than every event in it (they all
            # happened before 3 am), whatever the length of the day (DST).
            send = _next_local_day(night) + 3 * HOUR + rng.randint(0, 40 * MINUTE)
            if rng.random() < LATE_BATCH_RATE:
                send += rng.randint(1, 3) * DAY + rng.randint(0, 6 * HOUR)
            chunks: list[list[Outgoing]] = []
            for style in (V10, V11):
                same = [e for e in events if e.style == style]
                while same:
                    size = rng.randint(10, 40)
                    chunks.append(same[:size])
                    same = same[size:]
            rng.shuffle(chunks)
            for part in chunks:
                send += rng.randint(150, 2_500)
                arrivals.append(
                    (
                        send + rng.randint(30, 500),
                        len(arrivals),
                        envelope(part[0].style, send, part),
                        part,
                    )
                )

        for arrival, _, original, events in list(arrivals):
            if rng.random() < REPLAY_RATE:
                delay = (
                    rng.randint(5_000, 60_000)
                    if rng.random() < 0.4
                    else rng.randint(10 * MINUTE, 3 * DAY)
                )
                copy = json.loads(json.dumps(original))
                arrivals.append((arrival + delay, len(arrivals), copy, events))
                for event in events:
                    event.replays += 1
        arrivals.sort(key=lambda a: (a[0], a[1]))
        return [a[2] for a in arrivals]

    # --- truth -------------------------------------------------------------------------

    def _truth(self) -> GroundTruth:
        courses = {
            c.ref.iri: CourseTruth(
                iri=c.ref.iri,
                course_number=c.ref.course_number,
                learn_id=c.ref.learn_id,
                name=c.ref.title,
                instructor_iris=tuple(p.ref.iri for p in c.instructors),
                student_iris=tuple(p.ref.iri for p in c.students),
                membership_ids=dict(c.membership_ids),
                first_event_ms=self.course_first_event[c.ref.iri],
            )
            for c in self.courses
            if c.ref.iri in self.course_first_event
        }
        people = {
            p.ref.iri: PersonTruth(
                iri=p.ref.iri,
                user_id=p.ref.user_id,
                external_id=p.ref.external_id,
                given_name=p.given_name,
                family_name=p.family_name,
                role=p.role,
                first_seen_ms=self.first_seen[p.ref.iri],
            )
            for p in self.people
            if p.ref.iri in self.first_seen
        }
        groups = {
            iri: GroupTruth(iri, *self.group_meta[iri], tuple(_in_time_order(history)))
            for iri, history in self.group_versions.items()
        }
        content_items = {
            item.iri: ContentItemTruth(
                item.iri, item.learn_id, c.ref.iri, tuple(_in_time_order(item.versions))
            )
            for c in self.courses
            for item in c.items
        }
        gradable_items = {}
        for course in self.courses:
            for item in course.items:
                plan = item.gradable
                if plan is None or plan.first_graded_ms is None:
                    continue
                final = item.versions[-1].fields
                gradable_items[plan.iri] = GradableItemTruth(
                    iri=plan.iri,
                    learn_id=plan.learn_id,
                    course_iri=course.ref.iri,
                    content_item_iri=item.iri,
                    max_score=float(final["scorePossible"]),
                    max_attempts=plan.max_attempts,
                    date_to_submit=final["dueDate"],
                    first_graded_ms=plan.first_graded_ms,
                )
        attempts = {}
        for iri, attempt in self.attempts.items():
            history = sorted(self.attempt_scores[iri], key=lambda s: s.graded_at_ms)
            attempts[iri] = AttemptTruth(
                iri=iri,
                learn_id=attempt["learn_id"],
                course_iri=attempt["course"].ref.iri,
                gradable_item_iri=attempt["gradable"].iri,
                assignee_iri=attempt["student"].ref.iri,
                count=attempt["count"],
                started_at_ms=attempt["started"],
                history=tuple(history),
            )
        calculated_grades = {
            key: CalculatedGradeTruth(
                key=key,
                course_iri=record["course"].ref.iri,
                item_id=record["item_id"],
                user_iri=record["student"].ref.iri,
                is_course_grade=record["is_course_grade"],
                history=tuple(sorted(record["history"], key=lambda s: s.syn_version)),
            )
            for key, record in self.calculated.items()
        }
        events = tuple(
            EventRecord(
                e.time_ms,
                e.event_id,
                e.event_type,
                e.action,
                e.course_iri,
                e.replays,
                e.person_iri,
                e.actor_is_person,
                e.role,
                e.viewed_iri,
            )
            for e in sorted(self.outgoing, key=lambda e: e.time_ms)
        )
        return GroundTruth(
            instant_ms=None,
            site_iri=self.wire.site_iri,
            sensor=self.sensor,
            courses=courses,
            people=people,
            groups=groups,
            content_items=content_items,
            gradable_items=gradable_items,
            attempts=attempts,
            calculated_grades=calculated_grades,
            events=events,
        )


# --- pure helpers ---------------------------------------------------------------------

_Version = TypeVar("_Version", GroupVersion, ContentVersion)


def _ascii_login(text: str) -> str:
    """'JO'Brien' → 'jobrien': Learn batch_uids are plain lowercase ASCII."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _parse_iso(text: str) -> int:
    moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _shift_iso(text: str, delta_ms: int) -> str:
    return iso(_parse_iso(text) + delta_ms)


def _renamed(name: str, rng: Random) -> str:
    suffix = rng.choice((" (updated)", " - revised", " [required]", " (optional)"))
    return name.split(" (")[0].split(" - revised")[0].split(" [")[0] + suffix


def _description_for(item: ContentPlan, rng: Random) -> str:
    options = (
        "Read before class.",
        "Updated with this week's examples.",
        "See the rubric attached.",
        f"Covers {item.course.entry.title.lower()} material from lecture.",
        "Posted late: see announcement.",
    )
    return rng.choice(options)


def _in_time_order(versions: list[_Version]) -> list[_Version]:
    ordered = sorted(versions, key=lambda v: v.valid_from_ms)
    times = [v.valid_from_ms for v in ordered]
    # Projections fold by eventTime; equal times would leave the order to arrival.
    assert len(set(times)) == len(times), "one entity, two versions at the same instant"
    return ordered


def _course_total(
    graded: list[tuple[ContentPlan, str]],
    scores: dict[str, list[ScoreTruth]],
    at: int,
) -> tuple[float | None, float]:
    """Sum of the best latest score per graded item as of `at`, and the points those
    items are worth; (None, 0.0) while nothing is graded."""
    best: dict[str, tuple[float, float]] = {}
    for item, attempt_iri in graded:
        known = [s for s in scores[attempt_iri] if s.graded_at_ms <= at]
        if not known:
            continue
        latest = max(known, key=lambda s: s.graded_at_ms).score_given
        points = float(item.versions[-1].fields["scorePossible"])
        if item.iri not in best or latest > best[item.iri][0]:
            best[item.iri] = (latest, points)
    if not best:
        return None, 0.0
    return round(sum(s for s, _ in best.values()), 2), sum(p for _, p in best.values())


# --- files ---------------------------------------------------------------------------


def envelopes_to_jsonl(envelopes: Iterable[dict[str, Any]]) -> bytes:
    """One envelope per line, compact, keys in the order they were built."""
    lines = (json.dumps(e, ensure_ascii=False, separators=(",", ":")) for e in envelopes)
    return ("\n".join(lines) + "\n").encode()


def write_jsonl_gz(envelopes: Iterable[dict[str, Any]], path: Path) -> int:
    """Write gzip'd JSON Lines with mtime 0 and no file name, so the bytes depend on
    the content only. Returns the compressed size."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as gz:
        gz.write(envelopes_to_jsonl(envelopes))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return len(buffer.getvalue())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seed.generator", description=__doc__)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--write", action="store_true", help=f"write {DEMO_PATH}")
    parser.add_argument("--out", type=Path, help="write the envelopes to this .jsonl.gz file")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    semester = generate_semester(args.seed, args.scale)
    elapsed = time.perf_counter() - began
    counts = semester.truth.counts
    print(
        f"seed {args.seed} scale {args.scale}: {len(semester.envelopes)} envelopes, "
        f"{counts.distinct} distinct events, {counts.duplicates} replayed copies, "
        f"{counts.conflicts} reused ids, {len(semester.truth.courses)} courses, "
        f"{len(semester.truth.people)} people in {elapsed:.1f}s"
    )
    targets = ([DEMO_PATH] if args.write else []) + ([args.out] if args.out else [])
    for target in targets:
        size = write_jsonl_gz(semester.envelopes, target)
        print(f"wrote {target} ({size / 1_000_000:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
