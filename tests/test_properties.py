"""Property tests (hypothesis): the reader over arbitrary JSON values and event-shaped
objects never fails but by its own ShapeError/UnsupportedVersion, accounts for every
item, and hands on only events every fold can read; POST /caliper over arbitrary
bodies never answers 5xx and accounts for every item it took."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import fields, is_dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.caliper.canonical import OutOfRangeNumber, dumps, loads, loads_stored
from app.caliper.checks import MAX_ID_BYTES
from app.caliper.model import (
    ATTEMPT,
    CALCULATED_GRADE,
    CONTENT,
    COURSE,
    GRADABLE_ITEM,
    GROUP,
    PERSON,
    EntityDescription,
    ReadEvent,
    RejectedItem,
    ShapeError,
    UnsupportedVersion,
)
from app.caliper.reader import check_data_version, read_body
from app.caliper.values import MAX_DECIMAL, MAX_TIME_MS, MIN_TIME_MS, format_time_ms
from app.projections.attempts import fold_attempt, fold_gradable_item
from app.projections.calculated_grades import fold_calculated_grade
from app.projections.content_items import fold_content_item
from app.projections.courses import fold_course
from app.projections.groups import fold_group
from app.projections.people import fold_person
from store.records import StoredEvent
from tests.conftest import INGEST_TOKEN, LiveServer, make_settings

FOLDS: dict[str, Callable[[str, list[StoredEvent]], Any]] = {
    ATTEMPT: fold_attempt,
    GRADABLE_ITEM: fold_gradable_item,
    CALCULATED_GRADE: fold_calculated_grade,
    CONTENT: fold_content_item,
    COURSE: fold_course,
    GROUP: fold_group,
    PERSON: fold_person,
}

# Every character, lone surrogates and NUL included.
TEXT = st.text(st.characters(codec=None, categories=None, exclude_categories=()), max_size=12)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
    st.sampled_from(["1e400", "nan", "9999-12-31T23:59:59.999-01:00", "0001-01-01T00:00+01:00"]),
)
OUT_OF_RANGE = st.builds(OutOfRangeNumber, st.sampled_from(["1e400", "-1e999", "7" * 5000]))
JSON_VALUES = st.recursive(
    SCALARS | OUT_OF_RANGE,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=25,
)

# Mostly usable values, sometimes a poison: so that many items reach the folds.
USUAL_TIMES = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda moment: moment.isoformat() + "Z"
)
USUAL_NUMBERS = st.floats(min_value=-1e6, max_value=1e6) | st.integers(-1000, 10**9)
USUAL_IDS = st.sampled_from(
    ["https://x/courses/c1", "https://x/courses/c2", "https://x/users/u1", "https://x/a/1"]
)


def mostly(
    usual: st.SearchStrategy[Any], unusual: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    """`usual` nine times in ten: an event holds many such values, and should often
    hold none that is refused."""
    return st.integers(0, 9).flatmap(lambda draw: usual if draw else unusual)


TIMES = mostly(
    USUAL_TIMES,
    st.one_of(
        st.datetimes().map(lambda moment: moment.isoformat() + "+14:00"),
        st.sampled_from(["9999-12-31T23:59:59.999-01:00", "0001-01-01T00:00+01:00"]),
        SCALARS,
    ),
)
NUMBERS = mostly(
    USUAL_NUMBERS | st.sampled_from([2**31 - 1, -(2**31) + 1, 1e15, -1e15, "1e15"]),
    st.one_of(
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(min_value=-(10**400), max_value=10**400),
        st.sampled_from(["12.5", "1e400", "nan", "-inf", 2**31, 2**63]),
        OUT_OF_RANGE,
        SCALARS,
    ),
)
IDS = mostly(USUAL_IDS, st.just("a" * 3000) | TEXT)


def node(**extra: Any) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"id": IDS},
        optional={"type": st.sampled_from(["CourseOffering", "Person", "Group"]) | TEXT, **extra},
    )


EXTENSIONS = st.fixed_dictionaries(
    {},
    optional={
        "bb:group.users": st.one_of(
            st.lists(IDS | st.fixed_dictionaries({"courseMembershipId": IDS}), max_size=3),
            st.sampled_from(["[1, 2]", "[" * 3000 + "]" * 3000, "not json"]),
            JSON_VALUES,
        ),
        "bb:group.name": TEXT,
        "bb:user.id": IDS | USUAL_NUMBERS,
        "bb:course.id": IDS | USUAL_NUMBERS,
        "bb:content.id": IDS | USUAL_NUMBERS,
    },
)
OBJECTS = st.fixed_dictionaries(
    {"id": IDS},
    optional={
        "type": TEXT,
        "assignee": node(extensions=EXTENSIONS),
        "assignable": node(maxScore=NUMBERS, maxAttempts=NUMBERS, dateToSubmit=TIMES),
        "count": NUMBERS,
        "startedAtTime": TIMES,
        "score": NUMBERS,
        "scorePossible": NUMBERS,
        "synVersion": NUMBERS,
        "itemId": IDS | USUAL_NUMBERS,
        "user": node(extensions=EXTENSIONS),
        "course": node(courseNumber=IDS | USUAL_NUMBERS, extensions=EXTENSIONS),
        "subOrganizationOf": node(courseNumber=IDS | USUAL_NUMBERS),
        "dueDate": TIMES,
        "dataVersion": NUMBERS,
        "name": TEXT,
        "extensions": EXTENSIONS,
    },
)
EVENT_TYPES = st.sampled_from(
    [
        "GradeEvent",
        "OutcomeEvent",
        "ContentEvent",
        "CourseGroupEvent",
        "CalculatedGradeSnapshotEvent",
        "http://caliper.blackboard.com/caliper/v1/CourseGroupEvent",
    ]
)
EVENT_FIELDS = {
    "type": mostly(EVENT_TYPES, TEXT),
    "action": mostly(st.sampled_from(["Graded", "Created", "Modified", "Deleted"]), TEXT),
    "eventTime": TIMES,
    "actor": IDS | node(extensions=EXTENSIONS),
    "object": mostly(OBJECTS, IDS),
}
MORE_EVENT_FIELDS = {
    "id": IDS,
    "generated": st.fixed_dictionaries(
        {},
        optional={
            "scoreGiven": NUMBERS,
            "maxScore": NUMBERS,
            "normalScore": NUMBERS,
            "totalScore": NUMBERS,
            "type": st.just("UpdatedContentProperties"),
            "dueDate": st.fixed_dictionaries({"newValue": TIMES}),
            "scorePossible": st.fixed_dictionaries({"newValue": NUMBERS}),
            "extensions": EXTENSIONS,
        },
    ),
    "group": node(courseNumber=IDS | USUAL_NUMBERS, extensions=EXTENSIONS),
    "membership": st.fixed_dictionaries(
        {}, optional={"member": node(extensions=EXTENSIONS), "extensions": EXTENSIONS}
    ),
    "extensions": mostly(EXTENSIONS, JSON_VALUES),
}

# Events with every required key, and objects that may lack any.
EVENTS = mostly(
    st.fixed_dictionaries(EVENT_FIELDS, optional=MORE_EVENT_FIELDS),
    st.fixed_dictionaries({}, optional={**EVENT_FIELDS, **MORE_EVENT_FIELDS}),
)
ITEMS = EVENTS | EVENTS | JSON_VALUES
ENVELOPES = st.fixed_dictionaries(
    {"data": st.lists(ITEMS, max_size=4)},
    optional={
        "sensor": TEXT,
        "dataVersion": st.sampled_from(["http://purl.imsglobal.org/ctx/caliper/v1p1", "v9"]),
    },
)
BODIES = st.one_of(ENVELOPES, st.lists(ENVELOPES | ITEMS, max_size=3), EVENTS, JSON_VALUES)


def item_count(body: Any) -> int:
    def items_of(value: Any) -> int:
        if isinstance(value, dict) and "data" in value:
            return len(value["data"])
        return 1

    return sum(map(items_of, body)) if isinstance(body, list) else items_of(body)


def numbers_in(value: Any) -> Iterator[Any]:
    if is_dataclass(value):
        for found in fields(value):
            yield from numbers_in(getattr(value, found.name))
    elif isinstance(value, (list, tuple)):
        for element in value:
            yield from numbers_in(element)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield value


def assert_every_fold_reads(event: ReadEvent) -> None:
    stored = StoredEvent(
        position=1,
        event_id=event.event_id,
        type=event.type,
        action=event.action,
        event_time_ms=event.event_time_ms,
        received_at_ms=0,
        actor_id=event.actor_id,
        object_id=event.object_id,
        course_id=event.course_id,
        raw=loads_stored(event.raw_json.decode()),
    )
    for ref in event.entities:
        state = FOLDS[ref.kind](ref.key, [stored])
        for number in numbers_in(state):
            # What GraphQL serves: finite decimals; instants and ints it can write.
            assert math.isfinite(number)
            if isinstance(number, float):
                assert abs(number) <= MAX_DECIMAL
    assert MIN_TIME_MS <= event.event_time_ms <= MAX_TIME_MS
    format_time_ms(event.event_time_ms)


@settings(max_examples=400, deadline=None)
@given(BODIES)
def test_the_reader_accounts_for_every_item_and_hands_on_only_usable_events(body: Any) -> None:
    try:
        batch = read_body(body)
        check_data_version(body)
    except (ShapeError, UnsupportedVersion):
        return
    assert len(batch.events) + len(batch.descriptions) + len(batch.rejected) == item_count(body)
    for item in [*batch.events, *batch.descriptions, *batch.rejected]:
        assert isinstance(item, (ReadEvent, EntityDescription, RejectedItem))
        assert loads_stored(item.raw_json.decode()) == item.raw
        item.raw_json.decode("utf-8")  # storable text
    for rejected in batch.rejected:
        assert "\x00" not in rejected.reason and "\x00" not in rejected.path
        rejected.reason.encode("utf-8")
    for event in batch.events:
        columns = [event.event_id, event.type, event.action, event.actor_id, event.object_id]
        columns += [event.course_id, event.sensor]
        for ref in event.entities:
            columns += [ref.key, ref.alt_key]
        for text in filter(None, columns):
            assert isinstance(text, str) and "\x00" not in text
            assert len(text.encode("utf-8")) <= MAX_ID_BYTES
        assert_every_fold_reads(event)
    for description in batch.descriptions:
        assert len(description.entity_id.encode("utf-8")) <= MAX_ID_BYTES


AUTH = {"authorization": f"Bearer {INGEST_TOKEN}", "content-type": "application/json"}


@pytest.fixture
def caliper(database_url: str) -> Iterator[httpx.Client]:
    with (
        LiveServer(make_settings(database_url)) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        yield http


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=BODIES | st.binary(max_size=40))
def test_post_caliper_never_fails_and_accounts_for_every_item(
    caliper: httpx.Client, body: Any
) -> None:
    sent = body if isinstance(body, bytes) else dumps(body)
    response = caliper.post("/caliper", content=sent, headers=AUTH)
    assert response.status_code in {200, 400, 413, 415, 422}, response.text
    assert response.headers["content-type"].startswith("application/")
    if response.status_code == 200:
        answer = response.json()
        took = answer["appended"] + answer["duplicates"] + answer["entities"]
        value = loads(body) if isinstance(body, bytes) else body
        assert took + len(answer["rejected"]) == item_count(value)
