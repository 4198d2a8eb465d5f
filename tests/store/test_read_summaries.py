"""Per-entity reads (summaries, people, a course's newest events per person) for more
entities than one SQLite compound SELECT may hold, with each figure's source far from
the entity's newest events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.caliper.reader import read_body
from store import read
from store.append import append_batch
from store.db import Store
from tests.store.caliper import COURSE, LEARN, SITE, envelope, grade_event

# 150 people x 5 statements' branches each is more than SQLite's 500 per compound SELECT.
PEOPLE = 150
EVENTS_EACH = 3


def iri(i: int) -> str:
    return f"{SITE}/users/s-{i}"


def number(i: int, j: int) -> int:
    """The grade_event number of person i's j-th event (j = 0 is the oldest)."""
    return i * EVENTS_EACH + j + 1


def time_ms(n: int) -> int:
    moment = datetime(2021, 1, 5, 10, n // 60 % 60, n % 60, tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def event_of(i: int, j: int) -> dict[str, Any]:
    event = grade_event("summary", number(i, j), user=f"s-{i}")
    if j > 0:
        # Only each person's oldest event carries their bb:user.id.
        del event["object"]["assignee"]["extensions"]
        del event["membership"]["member"]["extensions"]
    return event


async def append_people(store: Store) -> None:
    events = [event_of(i, j) for i in range(PEOPLE) for j in range(EVENTS_EACH)]
    stored = await append_batch(store, read_body(envelope(events)), source="test")
    assert stored.appended == PEOPLE * EVENTS_EACH


async def test_summaries_of_many_people_find_first_time_and_an_old_user_id(store: Store) -> None:
    await append_people(store)
    keys = [iri(i) for i in range(PEOPLE)] + [f"{SITE}/users/nobody"]

    summaries = await read.entity_summaries(store, "person", keys, latest=1)

    assert sorted(summaries) == sorted(keys[:-1])
    for i in range(PEOPLE):
        summary = summaries[iri(i)]
        oldest, newest = number(i, 0), number(i, EVENTS_EACH - 1)
        assert summary.first_event_ms == time_ms(oldest)
        assert summary.last_event_ms == time_ms(newest)
        assert summary.alt_key == f"_s-{i}_1"
        # The newest event, and the oldest as the newest carrier of userId.
        times = sorted(e.event_time_ms for e in summary.latest_events)
        assert times == [time_ms(oldest), time_ms(newest)]


async def test_summaries_as_of_stop_at_that_time(store: Store) -> None:
    await append_people(store)
    as_of = time_ms(number(7, 1))

    summaries = await read.entity_summaries(store, "person", [iri(7), iri(8)], as_of, latest=5)

    # Person 8's first event comes after person 7's second.
    assert sorted(summaries) == [iri(7)]
    summary = summaries[iri(7)]
    assert (summary.first_event_ms, summary.last_event_ms) == (time_ms(number(7, 0)), as_of)
    assert summary.alt_key == "_s-7_1"
    assert len(summary.latest_events) == 2


async def test_people_among_keeps_people_only(store: Store) -> None:
    await append_people(store)
    asked = [iri(i) for i in range(PEOPLE)] + [LEARN, COURSE, f"{SITE}/users/nobody", ""]

    assert await read.people_among(store, asked) == {iri(i) for i in range(PEOPLE)}


async def test_newest_course_events_naming_each_person(store: Store) -> None:
    await append_people(store)
    people = [iri(i) for i in range(PEOPLE)]

    newest = await read.newest_course_events_naming(store, COURSE, people, per_person=2)
    every = await read.newest_course_events_naming(store, COURSE, people[:3], per_person=None)
    as_of = await read.newest_course_events_naming(
        store, COURSE, people[:3], time_ms(number(1, 0)), per_person=None
    )
    elsewhere = await read.newest_course_events_naming(
        store, f"{SITE}/courses/other", people, per_person=2
    )

    assert sorted(newest) == sorted(people)
    for i, person in enumerate(people):
        expected = [time_ms(number(i, j)) for j in (2, 1)]
        assert [e.event_time_ms for e in newest[person]] == expected
    assert {person: len(events) for person, events in every.items()} == dict.fromkeys(
        people[:3], EVENTS_EACH
    )
    assert {person: len(events) for person, events in as_of.items()} == {
        people[0]: EVENTS_EACH,
        people[1]: 1,
    }
    assert elsewhere == {}
