"""The ground truth: what the generator meant, checked against what its events say,
and its view of the semester at an earlier instant."""

from __future__ import annotations

import pytest

from seed.generator import SEMESTER_START, Semester, local_ms
from seed.truth import ContentItemTruth, GroundTruth, GroupTruth, format_instant, parse_instant
from tests.seed import reference_fold
from tests.seed.conftest import MID_SEMESTER_MS


def group(truth: GroundTruth, learn_id: str) -> GroupTruth:
    [found] = [g for g in truth.groups.values() if g.learn_id == learn_id]
    return found


def content(truth: GroundTruth, learn_id: str) -> ContentItemTruth:
    [found] = [c for c in truth.content_items.values() if c.learn_id == learn_id]
    return found


def same_value(sent: object, meant: object) -> bool:
    """JSON numbers compare by value (20 == 20.0), but false is not 0."""
    if isinstance(sent, bool) or isinstance(meant, bool):
        return type(sent) is type(meant) and sent == meant
    return sent == meant


def assert_events_say_what_truth_says(truth: GroundTruth, folded: reference_fold.Folded) -> None:
    """Every entity, version by version, as an independent reading of the events sees it."""
    assert truth.courses.keys() == folded.courses.keys()
    for iri, course in truth.courses.items():
        seen = folded.courses[iri]
        assert (seen["course_number"], seen["learn_id"]) == (course.course_number, course.learn_id)
    assert truth.people.keys() == folded.people.keys()
    for iri, person in truth.people.items():
        assert folded.people[iri] == (person.user_id, person.external_id)

    assert truth.groups.keys() == folded.groups.keys()
    for iri, grp in truth.groups.items():
        seen = [(v["time_ms"], v["action"], v["name"], v["member_ids"], v["deleted"])
                for v in folded.groups[iri]]  # fmt: skip
        meant = [(v.valid_from_ms, v.action, v.name, v.member_ids, v.deleted) for v in grp.history]
        assert seen == meant, iri

    assert truth.content_items.keys() == folded.content.keys()
    for iri, item in truth.content_items.items():
        seen_versions = folded.content[iri]
        assert len(seen_versions) == item.versions, iri
        for seen, meant in zip(seen_versions, item.history, strict=True):
            assert (seen["time_ms"], seen["action"], seen["deleted"]) == (
                meant.valid_from_ms,
                meant.action,
                meant.deleted,
            )
            for key, value in meant.fields.items():
                assert same_value(seen[key], value), (iri, key, seen[key], value)

    assert truth.attempts.keys() == folded.attempts.keys()
    for iri, attempt in truth.attempts.items():
        scores = sorted(folded.attempts[iri], key=lambda s: s["time_ms"])
        assert [(s["time_ms"], s["score_given"], s["event_type"]) for s in scores] == [
            (h.graded_at_ms, h.score_given, h.event_type) for h in attempt.history
        ]
        assert {(s["assignee"], s["gradable"], s["course"]) for s in scores} == {
            (attempt.assignee_iri, attempt.gradable_item_iri, attempt.course_iri)
        }

    assert truth.calculated_grades.keys() == folded.calculated.keys()
    for key, grade in truth.calculated_grades.items():
        snapshots = folded.calculated[key]
        assert [
            (s["version"], s["score"], s["score_possible"], s["time_ms"]) for s in snapshots
        ] == [(h.syn_version, h.score, h.score_possible, h.calculated_at_ms) for h in grade.history]
        assert {s["is_course_grade"] for s in snapshots} == {grade.is_course_grade}


def test_events_say_what_the_truth_says(semester: Semester) -> None:
    folded = reference_fold.fold(semester.envelopes)
    counts = semester.truth.counts
    assert (len(folded.stored), folded.duplicates, folded.conflicts) == (
        counts.distinct,
        counts.duplicates,
        counts.conflicts,
    )
    assert_events_say_what_truth_says(semester.truth, folded)


@pytest.mark.parametrize(
    "instant",
    [
        "2026-08-24T03:59:59.999Z",  # the eve of week 1 (a millisecond before midnight)
        "2026-10-12T04:00:00.000Z",  # mid-semester: Monday of week 8
        "2026-11-01T06:00:00.000Z",  # right after daylight saving time ends
    ],
)
def test_events_up_to_an_instant_say_what_as_of_says(semester: Semester, instant: str) -> None:
    at = parse_instant(instant)
    assert_events_say_what_truth_says(
        semester.truth.as_of(at), reference_fold.fold(semester.envelopes, as_of_ms=at)
    )


def test_counts(truth: GroundTruth) -> None:
    assert (truth.counts.distinct, truth.counts.duplicates, truth.counts.conflicts) == (
        21427,
        324,
        67,
    )
    assert sum(truth.counts.by_course.values()) == truth.counts.distinct - 4275  # sessions
    assert len(truth.groups) == 98
    assert len(truth.content_items) == 240
    assert len(truth.gradable_items) == 84
    assert len(truth.attempts) == 6016
    assert (
        len(truth.calculated_grades)
        == 1050
        == 2 * sum(len(c.student_iris) for c in truth.courses.values())
    )


def test_mid_semester_is_the_final_truth_cut_at_that_instant(truth: GroundTruth) -> None:
    assert format_instant(MID_SEMESTER_MS) == "2026-10-12T04:00:00.000Z"
    mid = truth.as_of(MID_SEMESTER_MS)
    assert mid.instant_ms == MID_SEMESTER_MS and truth.instant_ms is None
    assert (mid.counts.distinct, mid.counts.duplicates, mid.counts.conflicts) == (8558, 118, 8)
    sizes = {
        name: (len(getattr(mid, name)), len(getattr(truth, name)))
        for name in ("courses", "people", "groups", "content_items", "gradable_items")
    }
    assert sizes == {
        "courses": (6, 6),
        "people": (305, 305),
        "groups": (98, 98),
        "content_items": (195, 240),
        "gradable_items": (30, 84),
    }
    assert (len(mid.attempts), len(mid.calculated_grades)) == (1787, 842)
    assert all(e.event_time_ms <= MID_SEMESTER_MS for e in mid.events)
    # Cutting again at the end changes nothing; cutting before the first event empties it.
    end = truth.as_of(max(e.event_time_ms for e in truth.events))
    assert end.groups == truth.groups and end.calculated_grades == truth.calculated_grades
    assert end.counts == truth.counts
    empty = truth.as_of(SEMESTER_START - 30 * 86_400_000)
    assert not (empty.courses or empty.people or empty.content_items or empty.events)


def test_mid_semester_groups_before_their_renames_and_deletion(truth: GroundTruth) -> None:
    mid = truth.as_of(MID_SEMESTER_MS)
    bio = truth.course_by_number("BIO-101-F26")
    team = group(truth, "_157_1")
    assert team.course_iri == bio.iri and team.iri == f"{bio.iri}/groups/_157_1"
    members = ["_5102_1", "_5112_1", "_5134_1", "_5332_1", "_5338_1"]
    then = mid.groups[team.iri]
    assert (then.name, then.member_ids, then.deleted, then.versions) == (
        "Lab Group 15",
        members,
        False,
        2,
    )
    assert (team.name, team.member_ids, team.deleted, team.versions) == (
        "Team 15: Night Owls",
        members,
        False,
        3,
    )
    assert team.history[-1].changed_fields == ["name"]

    study = group(truth, "_169_1")
    assert mid.groups[study.iri].deleted is False and study.deleted is True
    assert [v.action for v in study.history] == ["Created", "Deleted"]
    assert study.name == "Exam Review Study Group"  # a Deleted event keeps the name
    assert study.history[-1].changed_fields == ["deleted"]
    assert study.history[0].changed_fields == ["memberIds", "name"]


def test_mid_semester_content_before_later_edits(truth: GroundTruth) -> None:
    mid = truth.as_of(MID_SEMESTER_MS)
    final_exam = content(truth, "_11295_1")
    assert final_exam.name == "Final Exam" and final_exam.iri not in mid.content_items
    assert final_exam.fields["scorePossible"] == 150.0
    assert format_instant(final_exam.created_at_ms) == "2026-11-15T20:28:37.270Z"

    quiz = content(truth, "_11221_1")
    assert mid.content_items[quiz.iri].name == "Quiz 1"
    assert quiz.name == "Quiz 1 (optional)"

    slides = content(truth, "_11232_1")  # deleted mid-term, then re-created
    assert (mid.content_items[slides.iri].name, mid.content_items[slides.iri].versions) == (
        "Lecture slides - Metabolism.pptx",
        1,
    )
    assert [(v.action, v.deleted) for v in slides.history] == [
        ("Created", False),
        ("Deleted", True),
        ("Created", False),
    ]
    assert slides.name == "Lecture slides - Metabolism.pptx (optional)"
    assert slides.history[2].changed_fields == ["deleted", "name"]
    assert not slides.deleted
    during = truth.as_of(slides.history[1].valid_from_ms)
    assert during.content_items[slides.iri].deleted


def test_first_versions_list_every_field_that_has_a_value(truth: GroundTruth) -> None:
    folder = content(truth, "_11263_1")  # Unit 4: Evolution
    assert folder.history[0].changed_fields == [
        "dataVersion",
        "description",  # "" is a value
        "handler",
        "isFolder",
        "isGroupContent",  # false is a value
        "isLesson",
        "name",
        "renderType",
    ]
    intro = next(
        c
        for c in truth.content_items_of(truth.course_by_number("BIO-101-F26").iri)
        if c.name == "Introductions"
    )
    assert "scorePossible" in intro.history[0].changed_fields
    # Made ungraded before term: three explicit nulls clear three fields.
    assert intro.history[1].changed_fields == ["aggregationModel", "dueDate", "scorePossible"]
    assert intro.fields["scorePossible"] is None and intro.fields["dueDate"] is None


def test_attempt_scores_are_latest_by_graded_at(truth: GroundTruth) -> None:
    regraded = [a for a in truth.attempts.values() if a.scores > 1]
    assert len(regraded) == 771
    mixed = next(a for a in regraded if a.learn_id == "_56_1")
    assert [
        (s.event_type, s.score_given, format_instant(s.graded_at_ms)) for s in mixed.history
    ] == [
        ("OutcomeEvent", 20.1, "2026-09-05T00:39:41.104Z"),
        ("GradeEvent", 18.26, "2026-09-06T00:28:36.899Z"),
    ]
    assert mixed.score_given == 18.26
    assert mixed.history[0].total_score == 0.0 and mixed.history[0].normal_score == 20.1
    assert mixed.history[1].max_score == 0.0 and mixed.history[1].action_name == (
        "instructor.grade.history.event.attempt.regrade"
    )
    gradable = truth.gradable_items[mixed.gradable_item_iri]
    item = truth.content_items[gradable.content_item_iri]
    assert gradable.max_score == item.fields["scorePossible"]
    assert gradable.date_to_submit == item.fields["dueDate"]
    person = truth.people[mixed.assignee_iri]
    assert truth.person_by_user_id(person.user_id) is person
    # Before the regrade, the OutcomeEvent's score is the latest.
    before = truth.as_of(mixed.history[1].graded_at_ms - 1).attempts[mixed.iri]
    assert (before.score_given, before.scores) == (20.1, 1)


def test_calculated_grades_order_by_version_and_start_ungraded(truth: GroundTruth) -> None:
    grades = list(truth.calculated_grades.values())
    assert {g.snapshots for g in grades} == {1, 2, 3, 4}
    assert sum(g.is_course_grade for g in grades) == len(grades) // 2
    assert any(g.history[0].score is None for g in grades)
    twins = [g for g in grades if len({s.calculated_at_ms for s in g.history}) < g.snapshots]
    assert len(twins) == 97
    for grade in twins:
        versions = [s.syn_version for s in grade.history]
        assert versions == sorted(versions) and len(set(versions)) == len(versions)
        assert grade.syn_version == versions[-1]
    for grade in grades:
        course_iri, item_id, user_iri = grade.key.split("|")
        assert (course_iri, item_id, user_iri) == (grade.course_iri, grade.item_id, grade.user_iri)
        assert user_iri in truth.courses[course_iri].student_iris
        if grade.is_course_grade and grade.score is not None:
            assert grade.score <= grade.score_possible * 1.05
        if not grade.is_course_grade:
            assert grade.score_possible == 100.0


def test_instants_round_trip() -> None:
    at = local_ms(2026, 12, 1, 9, 30)
    assert format_instant(at) == "2026-12-01T14:30:00.000Z"  # EST after Nov 1
    assert parse_instant("2026-12-01T09:30:00-05:00") == at
    assert parse_instant("2026-12-01T14:30:00") == at  # no offset means UTC
