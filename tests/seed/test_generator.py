"""The semester generator: deterministic, realistic in shape, and as messy as Learn."""

from __future__ import annotations

import itertools
import json
import re
import time
from collections import Counter, defaultdict
from typing import Any

import pytest

from seed.generator import (
    HOUR,
    Semester,
    envelopes_to_jsonl,
    generate_semester,
    local_day_start,
)
from seed.truth import GroundTruth, parse_instant

SITE = r"https://caliper-mapping\.cloudbb\.blackboard\.com/v1/sites/[0-9a-f-]{36}"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
V1P1 = "http://purl.imsglobal.org/ctx/caliper/v1p1"


def type_of(event: dict[str, Any]) -> str:
    return str(event.get("type", event.get("@type"))).rsplit("/", 1)[-1]


def is_v10(event: dict[str, Any]) -> bool:
    return "@type" in event


def of_type(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if type_of(e) == name]


# --- determinism and size -------------------------------------------------------------


def test_same_seed_gives_the_same_envelopes_byte_for_byte(semester: Semester) -> None:
    again = generate_semester(2026)
    assert envelopes_to_jsonl(again.envelopes) == envelopes_to_jsonl(semester.envelopes)
    assert again.truth.counts == semester.truth.counts


def test_another_seed_gives_another_semester(semester: Semester) -> None:
    other = generate_semester(7)
    assert other.envelopes[0] != semester.envelopes[0]
    assert other.truth.site_iri != semester.truth.site_iri


def test_scale_one_is_generated_in_a_few_seconds() -> None:
    # CPU time, not wall time: other jobs on a busy machine must not fail this.
    began = time.process_time()
    generate_semester(2026)
    assert time.process_time() - began < 6


def test_scale_one_has_six_real_looking_courses(truth: GroundTruth) -> None:
    courses = list(truth.courses.values())
    assert [(c.course_number, c.learn_id, c.name) for c in courses] == [
        ("BIO-101-F26", "_2044_1", "Principles of Biology"),
        ("HIST-210-F26", "_2045_1", "The United States since 1877"),
        ("CHEM-121-F26", "_2046_1", "General Chemistry I"),
        ("MATH-151-F26", "_2049_1", "Calculus I"),
        ("PSYC-100-F26", "_2053_1", "Introduction to Psychology"),
        ("ENGL-102-F26", "_2054_1", "College Writing II"),
    ]
    assert [len(c.student_iris) for c in courses] == [96, 59, 100, 69, 104, 97]
    for course in courses:
        assert re.fullmatch(SITE + r"/courses/[0-9a-f]{32}", course.iri)
    # One instructor teaches BIO-101 and ENGL-102: people are shared across courses.
    assert courses[0].instructor_iris == courses[5].instructor_iris


def test_people_look_like_learn_users(truth: GroundTruth) -> None:
    people = list(truth.people.values())
    assert Counter(p.role for p in people) == {"Learner": 300, "Instructor": 5}
    assert all(re.fullmatch(r"_\d+_1", p.user_id) for p in people)
    assert all(re.fullmatch(r"[a-z]+\d*", p.external_id) for p in people)
    assert len({p.external_id for p in people}) == len(people)
    assert len({p.user_id for p in people}) == len(people)
    first = people[0]
    assert (first.given_name, first.family_name, first.external_id) == (
        "Megan",
        "Schmidt",
        "mschmidt",
    )
    enrolments = Counter(iri for c in truth.courses.values() for iri in c.student_iris)
    assert Counter(enrolments.values()) == {1: 121, 2: 133, 3: 46}


def test_scale_one_has_about_twenty_thousand_events(semester: Semester) -> None:
    counts = semester.truth.counts
    assert counts.distinct == 21427
    assert 15_000 <= counts.distinct <= 25_000
    assert len(semester.envelopes) == 12164
    assert counts.by_type == {
        "AssessmentEvent": 916,
        "CalculatedGradeSnapshotEvent": 2644,
        "ContentEvent": 406,
        "CourseGroupEvent": 208,
        "ForumEvent": 233,
        "GradeEvent": 4334,
        "NavigationEvent": 3093,
        "OutcomeEvent": 2453,
        "SessionEvent": 4275,
        "ToolUseEvent": 105,
        "ViewEvent": 2760,
    }


def test_scale_multiplies_courses_and_students() -> None:
    bigger = generate_semester(2026, scale=2).truth
    numbers = [c.course_number for c in bigger.courses.values()]
    assert len(numbers) == 12 == len(set(numbers))
    assert numbers[6:] == [
        "CS-110-F26",
        "ECON-201-F26",
        "PHYS-211-F26",
        "SOC-101-F26",
        "NURS-220-F26",
        "ART-130-F26",
    ]
    assert sum(p.role == "Learner" for p in bigger.people.values()) == 600
    assert 30_000 <= bigger.counts.distinct <= 50_000


def test_scale_must_be_positive() -> None:
    with pytest.raises(ValueError, match="scale"):
        generate_semester(2026, scale=0)


# --- both Caliper styles --------------------------------------------------------------


def test_envelopes_declare_their_style(semester: Semester) -> None:
    for envelope in semester.envelopes:
        assert envelope["sensor"] == semester.truth.sensor
        parse_instant(envelope["sendTime"])
        styles = {is_v10(event) for event in envelope["data"]}
        if "dataVersion" in envelope:
            assert envelope["dataVersion"] == V1P1
            assert styles == {False}
        else:
            assert styles == {True}
    assert list(semester.envelopes[0]) == ["sensor", "sendTime", "dataVersion", "data"]


@pytest.mark.parametrize(
    "event_type",
    [
        "ContentEvent",
        "CourseGroupEvent",
        "CalculatedGradeSnapshotEvent",
        "SessionEvent",
        "ViewEvent",
        "ForumEvent",
        "AssessmentEvent",
    ],
)
def test_event_types_come_in_both_styles(events: list[dict[str, Any]], event_type: str) -> None:
    assert {is_v10(e) for e in of_type(events, event_type)} == {True, False}


def test_caliper_10_events_use_iris_and_nulls(events: list[dict[str, Any]]) -> None:
    legacy = [e for e in events if is_v10(e)]
    assert all(isinstance(e["@context"], str) and "@id" not in e for e in legacy)
    assert all(e["@type"].startswith("http://") for e in legacy)
    actions = defaultdict(set)
    for event in legacy:
        actions[type_of(event)].add(event["action"])
    bb = "http://caliper.blackboard.com/vocab/caliper/v1/action#"
    ims = "http://purl.imsglobal.org/vocab/caliper/v1/action#"
    assert actions["ContentEvent"] == {bb + "Create", bb + "Updated", bb + "Delete"}
    assert actions["CourseGroupEvent"] == {bb + "Create", bb + "Update", bb + "Delete"}
    assert actions["OutcomeEvent"] == {ims + "Graded"}
    assert actions["CalculatedGradeSnapshotEvent"] == {bb + "GradeCalculated"}
    assert actions["SessionEvent"] == {ims + "LoggedIn", ims + "LoggedOut"}

    outcome = of_type(legacy, "OutcomeEvent")[0]
    assert outcome["@type"] == "http://purl.imsglobal.org/caliper/v1/OutcomeEvent"
    attempt = outcome["object"]
    assert isinstance(attempt["assignable"], str)
    assert attempt["actor"] == outcome["actor"]["@id"]
    assert re.fullmatch(SITE + r"/gradableItems/_\d+_1/attempts/_\d+_1", attempt["@id"])
    assert (attempt["endedAtTime"], attempt["duration"], outcome["target"]) == (None, None, None)
    result = outcome["generated"]
    assert result["@type"] == "http://purl.imsglobal.org/caliper/v1/Result"
    assert result["totalScore"] == 0.0 and result["normalScore"] > 0
    assert any(e["generated"]["comment"] is None for e in of_type(legacy, "OutcomeEvent"))


def test_caliper_11_events_use_short_types_and_bare_words(events: list[dict[str, Any]]) -> None:
    modern = [e for e in events if not is_v10(e)]
    types = {e["type"] for e in modern}
    assert {"GradeEvent", "SessionEvent", "ViewEvent", "NavigationEvent", "ToolUseEvent"} < types
    bb_type = "http://caliper.blackboard.com/caliper/v1/"
    assert {bb_type + t for t in ("ContentEvent", "CourseGroupEvent", "ForumEvent")} < types
    assert bb_type + "CalculatedGradeSnapshotEvent" in types
    assert {e["action"] for e in modern} == {
        "Created", "Modified", "Deleted", "Graded", "LoggedIn", "LoggedOut", "Viewed",
        "NavigatedTo", "Used", "Started", "Submitted",
    }  # fmt: skip
    ids = Counter("urn" if e["id"].startswith("urn:uuid:") else "bare" for e in modern)
    assert ids == {"bare": 14704, "urn": 1989}
    assert all(re.fullmatch(f"(urn:uuid:)?{UUID}", e["id"]) for e in modern)
    contexts = {type_of(e): e["@context"] for e in modern}
    assert contexts["GradeEvent"] == V1P1
    assert contexts["ContentEvent"] == [
        "http://caliper.blackboard.com/ctx/caliper/v1/Context",
        V1P1,
    ]


def test_grade_events_link_to_content_items(
    events: list[dict[str, Any]], truth: GroundTruth
) -> None:
    content_ids = {item.learn_id: item for item in truth.content_items.values()}
    for event in of_type(events, "GradeEvent"):
        score = event["generated"]
        assert score["type"] == "Score" and score["maxScore"] == 0
        assert event["actor"]["type"] == "SoftwareApplication"
        assignable = event["object"]["assignable"]
        gradable = truth.gradable_items[assignable["id"]]
        assert assignable["maxScore"] == gradable.max_score > 0
        item = content_ids[score["extensions"]["bb:content.id"]]
        assert item.iri == gradable.content_item_iri
    grades = of_type(events, "GradeEvent")
    names = {e["generated"]["extensions"]["bb:action.name"] for e in grades}
    assert names == {
        "instructor.grade.history.event.attempt.grade",
        "instructor.grade.history.event.attempt.regrade",
        "system.grade.history.event.attempt.autograde",
        "tool.grade.history.event.attempt.grade",
    }


def test_calculated_grade_snapshots_in_both_styles(events: list[dict[str, Any]]) -> None:
    snapshots = of_type(events, "CalculatedGradeSnapshotEvent")
    legacy = [e["object"] for e in snapshots if is_v10(e)]
    modern = [e["object"] for e in snapshots if not is_v10(e)]
    assert all("synVersion" in o and "syncVersion" not in o for o in legacy)
    assert all("syncVersion" in o and "synVersion" not in o for o in modern)
    # Not graded yet: 1.0 says null, 1.1 leaves the key out.
    assert any(o["score"] is None for o in legacy)
    assert any("score" not in o for o in modern)
    for obj in legacy + modern:
        version = obj.get("synVersion", obj.get("syncVersion"))
        iri = obj.get("id", obj.get("@id"))
        assert iri.endswith(f"/gradableItems/{obj['itemId']}/calculatedGrade/{version}")


# --- the quirks -----------------------------------------------------------------------


def test_some_envelopes_are_replayed_verbatim_later(semester: Semester) -> None:
    first_seen: dict[str, int] = {}
    replays = []
    for index, envelope in enumerate(semester.envelopes):
        text = json.dumps(envelope, sort_keys=True)
        if text in first_seen:
            replays.append((first_seen[text], index))
        else:
            first_seen[text] = index
    assert len(replays) == 192
    assert all(original < replay for original, replay in replays)
    copies = sum(len(semester.envelopes[replay]["data"]) for _, replay in replays)
    assert copies == semester.truth.counts.duplicates == 324


def test_some_event_ids_are_reused_by_different_events(
    events: list[dict[str, Any]], truth: GroundTruth
) -> None:
    seen = Counter(event.get("id") for event in events)
    contents: dict[str, set[str]] = defaultdict(set)
    types: dict[str, set[str]] = defaultdict(set)
    for event in events:
        if event.get("id") and seen[event["id"]] > 1:
            contents[event["id"]].add(json.dumps(event, sort_keys=True))
            types[event["id"]].add(type_of(event))
    reused = {i: c for i, c in contents.items() if len(c) > 1}
    assert sum(len(c) - 1 for c in reused.values()) == truth.counts.conflicts == 67
    assert any(len(types[i]) > 1 for i in reused)  # even across event types


def test_group_members_come_as_lists_strings_or_not_at_all(events: list[dict[str, Any]]) -> None:
    shapes: Counter[tuple[str, str]] = Counter()
    keys: set[str] = set()
    strings: list[str] = []
    for event in of_type(events, "CourseGroupEvent"):
        in_object = event["object"]["extensions"]
        in_event = event.get("extensions") or {}
        users = in_object.get("bb:group.users", in_event.get("bb:group.users"))
        where = "object" if "bb:group.users" in in_object else "event"
        if users is None:
            shapes["absent", event["action"]] += 1
            continue
        shapes[type(users).__name__, where] += 1
        if isinstance(users, str):
            strings.append(users)
        members = json.loads(users) if isinstance(users, str) else users
        keys |= {key for member in members for key in member}
        if is_v10(event):
            assert isinstance(users, str)
    assert keys == {"courseMembershipId", "id"}
    assert shapes["str", "object"] and shapes["str", "event"]
    assert shapes["list", "object"] and shapes["list", "event"]
    assert shapes["absent", "Modified"] and shapes["absent", "Deleted"]
    # As in Learn's own sample: "[{\"courseMembershipId\":\"_1126_1\"},...]"
    assert any(re.match(r'\[\{"courseMembershipId":"_\d+_1"\}', text) for text in strings)


def test_content_edits_omit_unchanged_keys_or_clear_with_null(events: list[dict[str, Any]]) -> None:
    modern = [e for e in of_type(events, "ContentEvent") if not is_v10(e)]
    edits = [e["object"] for e in modern if e["action"] == "Modified"]
    assert any("description" not in obj for obj in edits)
    cleared = [obj for obj in edits if obj.get("description", "") is None]
    assert cleared
    ungraded = [obj for obj in edits if "scorePossible" in obj and obj["scorePossible"] is None]
    assert {obj["name"] for obj in ungraded} == {"Introductions"}
    assert all(obj["dueDate"] is None and obj["aggregationModel"] is None for obj in ungraded)
    legacy = [e for e in of_type(events, "ContentEvent") if is_v10(e)]
    diffs = [e["generated"] for e in legacy if e["generated"] is not None]
    assert all(d["@type"].endswith("/UpdatedContentProperties") for d in diffs)
    assert any("dueDate" in d or "scorePossible" in d for d in diffs)


def test_content_outline_uses_every_handler(events: list[dict[str, Any]]) -> None:
    objects = [e["object"] for e in of_type(events, "ContentEvent")]
    # Partial 1.1 edits name the handler but may leave renderType out.
    handlers = {o["handler"]: o["renderType"] for o in objects if o.get("renderType")}
    assert handlers == {
        "resource/x-bb-folder": "REG",
        "resource/x-bb-document": "REG",
        "resource/x-bb-file": "REG",
        "resource/x-bb-assignment": "REG",
        "resource/x-bb-externallink": "LINK",
        "resource/x-bb-blti-link": "LINK",
        "resource/x-bb-forumlink": "LINK",
        "resource/x-bb-asmt-test-link": "LINK",
    }
    graded = [o for o in objects if o.get("scorePossible") and "dueDate" in o]
    assert {o["aggregationModel"] for o in graded} == {"Highest", "Last"}
    assert all(re.fullmatch(r"2026-\d\d-\d\dT\d\d:\d\d:00\.000Z", o["dueDate"]) for o in graded)


def test_grades_arrive_in_shuffled_nightly_batches(semester: Semester) -> None:
    nightly = ("GradeEvent", "OutcomeEvent", "CalculatedGradeSnapshotEvent")
    batch_envelopes = [
        e for e in semester.envelopes if {type_of(ev) for ev in e["data"]} <= set(nightly)
    ]
    delays = []
    for envelope in batch_envelopes:
        sent = parse_instant(envelope["sendTime"])
        night = local_day_start(sent)
        # Sent between 3 am and 10 am on campus, even when the batch is days late.
        assert 3 * HOUR <= sent - night < 10 * HOUR
        for event in envelope["data"]:
            happened = parse_instant(event["eventTime"])
            assert happened < sent
            delays.append(sent - happened)
    assert max(delays) > 3 * 24 * HOUR  # some batches are days late
    grade_times = [
        parse_instant(ev["eventTime"])
        for envelope in batch_envelopes
        for ev in envelope["data"]
        if type_of(ev) != "CalculatedGradeSnapshotEvent"
    ]
    # Within and across batches, arrival order is not eventTime order.
    inversions = sum(a > b for a, b in itertools.pairwise(grade_times))
    assert inversions > len(grade_times) // 4
    # Graded during the day (tests are auto-graded whenever students take them).
    hours = Counter((t - local_day_start(t)) // HOUR for t in grade_times)
    assert sum(hours[h] for h in range(8, 24)) > 0.8 * len(grade_times)
