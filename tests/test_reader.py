"""The Caliper reader on its own (issue #2): styles, normalised type and action, where
the course is found, member lists, content identity, shapes and rejected items.
Pure functions: no database, no HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.caliper.canonical import JsonProblem, content_hash, dumps, loads, loads_stored
from app.caliper.model import (
    CALCULATED_GRADE,
    COURSE,
    EntityDescription,
    ReadEvent,
    RejectedItem,
    ShapeError,
    UnsupportedVersion,
)
from app.caliper.reader import (
    check_data_version,
    find_course,
    parse_member_list,
    people_of,
    read_body,
    read_item,
)
from app.caliper.values import (
    UnusableValue,
    as_float,
    as_int,
    as_time_ms,
    format_time_ms,
    parse_time_ms,
    short_action,
    short_name,
)

SITE = "https://learn.example.edu/v1/sites/s1"
COURSE_IRI = f"{SITE}/courses/c1"
OTHER_COURSE = f"{SITE}/courses/c2"
THIRD_COURSE = f"{SITE}/courses/c3"
FOURTH_COURSE = f"{SITE}/courses/c4"
FIFTH_COURSE = f"{SITE}/courses/c5"
USER = f"{SITE}/users/u1"
IMS = "http://purl.imsglobal.org/caliper/v1/"
BB = "http://caliper.blackboard.com/caliper/v1/"
IMS_ACTION = "http://purl.imsglobal.org/vocab/caliper/v1/action#"
BB_ACTION = "http://caliper.blackboard.com/vocab/caliper/v1/action#"
TIME = "2021-01-05T14:50:29.906Z"
TIME_MS = 1609858229906


def event_11(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "@context": "http://purl.imsglobal.org/ctx/caliper/v1p1",
        "id": "urn:uuid:e1",
        "type": "GradeEvent",
        "actor": {"id": USER, "type": "Person"},
        "action": "Graded",
        "object": {"id": f"{SITE}/gradableItems/_1_1/attempts/_2_1", "type": "Attempt"},
        "eventTime": TIME,
    }
    base.update(fields)
    return base


def event_10(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "@context": "http://purl.imsglobal.org/ctx/caliper/v1/Context",
        "@type": IMS + "OutcomeEvent",
        "actor": {"@id": USER, "@type": IMS + "lis/Person"},
        "action": IMS_ACTION + "Graded",
        "object": {"@id": f"{SITE}/gradableItems/_1_1/attempts/_2_1", "@type": IMS + "Attempt"},
        "eventTime": TIME,
        "group": None,
    }
    base.update(fields)
    return base


def read_event(item: dict[str, Any]) -> ReadEvent:
    result = read_item(item, "$")
    assert isinstance(result, ReadEvent), result
    return result


# --- style ------------------------------------------------------------------------------


def test_a_10_event_is_read_as_the_10_style() -> None:
    event = read_event(event_10())
    assert event.style == "1.0"
    assert event.event_id is None
    assert event.actor_id == USER
    assert event.object_id == f"{SITE}/gradableItems/_1_1/attempts/_2_1"


def test_a_11_event_is_read_as_the_11_style() -> None:
    event = read_event(event_11())
    assert event.style == "1.1"
    assert event.event_id == "urn:uuid:e1"


def test_the_10_event_id_comes_from_at_id() -> None:
    event = read_event(event_10(**{"@id": "urn:uuid:legacy"}))
    assert event.event_id == "urn:uuid:legacy"
    assert event.style == "1.0"


def test_the_style_is_read_per_event_not_per_envelope() -> None:
    batch = read_body({"sensor": "s", "data": [event_10(), event_11()]})
    assert [event.style for event in batch.events] == ["1.0", "1.1"]


def test_each_event_carries_the_sensor_of_its_envelope() -> None:
    batch = read_body(
        [
            {"sensor": "s-1", "data": [event_11()]},
            {"sensor": "s-2", "data": [event_10()]},
            event_11(id="urn:uuid:bare"),
        ]
    )
    assert [event.sensor for event in batch.events] == ["s-1", "s-2", None]
    assert read_body(event_11()).events[0].sensor is None


def test_references_may_be_plain_iri_strings() -> None:
    event = read_event(event_10(actor=USER, object=f"{SITE}/content/_5_1"))
    assert event.actor_id == USER
    assert event.object_id == f"{SITE}/content/_5_1"


# --- type and action ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "short"),
    [
        (IMS + "OutcomeEvent", "OutcomeEvent"),
        (BB + "CalculatedGradeSnapshotEvent", "CalculatedGradeSnapshotEvent"),
        (BB + "ContentEvent", "ContentEvent"),
        ("GradeEvent", "GradeEvent"),
        (IMS + "lis/Person", "Person"),
    ],
)
def test_the_short_type_is_the_text_after_the_last_slash(sent: str, short: str) -> None:
    assert short_name(sent) == short
    assert read_event(event_11(type=sent)).type == short


@pytest.mark.parametrize(
    ("sent", "short"),
    [
        (BB_ACTION + "Create", "Created"),
        ("Create", "Created"),
        ("Created", "Created"),
        (BB_ACTION + "Update", "Modified"),
        ("Updated", "Modified"),
        (BB_ACTION + "Updated", "Modified"),
        ("Modified", "Modified"),
        (BB_ACTION + "Delete", "Deleted"),
        ("Deleted", "Deleted"),
        (BB_ACTION + "GradeCalculated", "GradeCalculated"),
        (IMS_ACTION + "Graded", "Graded"),
        ("Graded", "Graded"),
        ("LoggedIn", "LoggedIn"),
        (IMS_ACTION + "LoggedIn", "LoggedIn"),
    ],
)
def test_the_action_is_normalised(sent: str, short: str) -> None:
    assert short_action(sent) == short
    assert read_event(event_11(action=sent)).action == short


def test_the_stored_event_keeps_the_action_and_type_as_sent() -> None:
    sent = event_10(action=BB_ACTION + "Create", **{"@type": BB + "ContentEvent"})
    event = read_event(sent)
    assert (event.type, event.action) == ("ContentEvent", "Created")
    assert event.raw is sent
    assert json.loads(event.raw_json) == sent
    assert json.loads(event.raw_json)["action"] == BB_ACTION + "Create"


# --- eventTime ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("2021-01-05T14:50:29.906Z", TIME_MS),
        ("2021-01-05T14:50:29.906+00:00", TIME_MS),
        ("2021-01-05T15:50:29.906+01:00", TIME_MS),
        ("2021-01-05T14:50:29.906", TIME_MS),  # no offset: UTC
        ("2021-01-05T14:50:29.906999Z", TIME_MS),  # milliseconds: the rest is cut
        ("1969-12-31T23:59:59.999Z", -1),
    ],
)
def test_event_times_are_utc_milliseconds(sent: str, expected: int) -> None:
    assert parse_time_ms(sent) == expected
    assert read_event(event_11(eventTime=sent)).event_time_ms == expected


def test_times_are_served_with_z_and_milliseconds() -> None:
    assert format_time_ms(TIME_MS) == "2021-01-05T14:50:29.906Z"
    assert format_time_ms(0) == "1970-01-01T00:00:00.000Z"


# --- where the course is ---------------------------------------------------------------------


def offering(iri: str, style: str = "1.1", **fields: Any) -> dict[str, Any]:
    if style == "1.0":
        return {"@id": iri, "@type": IMS + "lis/CourseOffering", **fields}
    return {"id": iri, "type": "CourseOffering", **fields}


def group_of(course: Any) -> dict[str, Any]:
    return {"id": f"{SITE}/groups/_9_1", "type": "Group", "subOrganizationOf": course}


def test_a_course_offering_group_comes_first() -> None:
    event = event_11(
        group=offering(COURSE_IRI),
        object={"id": "x", "type": "CalculatedGrade", "course": OTHER_COURSE},
        membership={"organization": THIRD_COURSE},
    )
    found = find_course(event)
    assert found is not None
    assert found.node == offering(COURSE_IRI)
    assert read_event(event).course_id == COURSE_IRI


def test_object_course_comes_before_object_sub_organization() -> None:
    event = event_11(
        object={"id": "x", "type": "CalculatedGrade", "course": OTHER_COURSE,
                "subOrganizationOf": THIRD_COURSE},
        group=group_of(FOURTH_COURSE),
        membership={"organization": FIFTH_COURSE},
    )  # fmt: skip
    assert read_event(event).course_id == OTHER_COURSE


def test_object_sub_organization_comes_before_group_sub_organization() -> None:
    event = event_11(
        type=BB + "CourseGroupEvent",
        object={"id": "g", "type": "Group", "subOrganizationOf": {"id": THIRD_COURSE}},
        group=group_of(FOURTH_COURSE),
        membership={"organization": FIFTH_COURSE},
    )
    assert read_event(event).course_id == THIRD_COURSE


def test_group_sub_organization_comes_before_the_membership() -> None:
    event = event_11(
        group=group_of(offering(FOURTH_COURSE)), membership={"organization": FIFTH_COURSE}
    )
    assert read_event(event).course_id == FOURTH_COURSE


def test_a_group_that_is_not_a_course_offering_is_not_the_course() -> None:
    event = event_11(
        group={"id": f"{SITE}/groups/_9_1", "type": "Group"},
        membership={"organization": FIFTH_COURSE},
    )
    assert read_event(event).course_id == FIFTH_COURSE


@pytest.mark.parametrize(
    "organization", [FIFTH_COURSE, {"id": FIFTH_COURSE, "type": "CourseOffering"}]
)
def test_content_events_find_the_course_in_the_membership(organization: Any) -> None:
    """ContentEvent has no `group`: the membership's organization (IRI or object)."""
    event = event_11(type=BB + "ContentEvent", membership={"organization": organization})
    event.pop("group", None)
    assert read_event(event).course_id == FIFTH_COURSE


@pytest.mark.parametrize("empty", [None, {}, ""])
def test_a_null_or_empty_candidate_counts_as_not_found(empty: Any) -> None:
    event = event_10(
        group=empty,
        object={"@id": "x", "course": empty, "subOrganizationOf": empty},
        membership={"organization": FIFTH_COURSE},
    )
    assert read_event(event).course_id == FIFTH_COURSE


def test_an_event_without_any_course_has_none() -> None:
    event = read_event(event_11())
    assert event.course_id is None
    assert [ref for ref in event.entities if ref.kind == COURSE] == []


def test_course_number_and_learn_id_come_from_the_course_then_the_membership() -> None:
    own = find_course(
        event_11(
            group=offering(COURSE_IRI, courseNumber="BIO-101", extensions={"bb:course.id": "_1_1"}),
            membership={"extensions": {"bb:course.externalId": "OTHER", "bb:course.id": "_2_1"}},
        )
    )
    assert own is not None
    assert (own.course_number, own.learn_id) == ("BIO-101", "_1_1")
    from_membership = find_course(
        event_11(
            group=offering(COURSE_IRI, courseNumber=None),
            membership={"extensions": {"bb:course.externalId": "CHEM-2", "bb:course.id": "_2_1"}},
        )
    )
    assert from_membership is not None
    assert (from_membership.course_number, from_membership.learn_id) == ("CHEM-2", "_2_1")


def test_the_course_is_indexed_with_its_number() -> None:
    event = read_event(
        event_11(
            group=offering(COURSE_IRI),
            membership={"extensions": {"bb:course.externalId": "BIO-101"}},
        )
    )
    courses = [ref for ref in event.entities if ref.kind == COURSE]
    assert [(ref.key, ref.alt_key) for ref in courses] == [(COURSE_IRI, "BIO-101")]


def test_a_calculated_grade_is_keyed_by_course_item_and_user() -> None:
    event = read_event(
        event_10(
            **{"@type": BB + "CalculatedGradeSnapshotEvent"},
            action=BB_ACTION + "GradeCalculated",
            object={
                "@id": f"{SITE}/gradableItems/_1360_1/calculatedGrade/156525",
                "itemId": "_1360_1",
                "user": {"@id": USER},
                "course": {"@id": COURSE_IRI},
            },
        )
    )
    grades = [ref.key for ref in event.entities if ref.kind == CALCULATED_GRADE]
    assert grades == [f"{COURSE_IRI}|_1360_1|{USER}"]
    assert event.action == "GradeCalculated"


def test_people_carry_their_learn_ids() -> None:
    event = event_10(
        actor={"@id": USER, "@type": IMS + "lis/Person",
               "extensions": {"bb:user.id": "_7_1", "bb:user.externalId": "jw"}},
        object={"@id": "a", "@type": IMS + "Attempt", "actor": f"{SITE}/users/u2"},
        membership={"member": f"{SITE}/users/u3", "extensions": {"bb:user.id": "_9_1"}},
    )  # fmt: skip
    assert people_of(event) == {
        USER: ("_7_1", "jw"),
        f"{SITE}/users/u2": (None, None),
        f"{SITE}/users/u3": ("_9_1", None),
    }


def test_an_application_actor_is_not_a_person() -> None:
    event = event_11(actor={"id": f"{SITE}/applications/learn", "type": "SoftwareApplication"})
    assert people_of(event) == {}


# --- member lists -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "members"),
    [
        (["_3_1", "_1_1", "_2_1"], ["_1_1", "_2_1", "_3_1"]),
        ('[{"courseMembershipId":"_201_1"},{"courseMembershipId":"_200_1"}]', ["_200_1", "_201_1"]),
        ([{"id": "_5_1"}, {"courseMembershipId": "_4_1"}], ["_4_1", "_5_1"]),
        ('["_9_1"]', ["_9_1"]),
        ([{"courseMembershipId": None, "id": "_6_1"}], ["_6_1"]),
        ([], []),
        ("[]", []),
    ],
)
def test_member_lists_are_read_sorted(sent: Any, members: list[str]) -> None:
    assert parse_member_list(sent) == members


@pytest.mark.parametrize("sent", [None, "not json", '{"a": 1}', 5, {}])
def test_a_member_list_that_says_nothing_is_none(sent: Any) -> None:
    assert parse_member_list(sent) is None


def test_the_documentation_sample_member_list() -> None:
    """CourseGroupEvent-1: `bb:group.users` is a JSON array serialised into a string."""
    sent = '[{"courseMembershipId":"_201_1"},{"courseMembershipId":"_202_1"}]'
    assert parse_member_list(sent) == ["_201_1", "_202_1"]


# --- content identity ----------------------------------------------------------------------


def test_key_order_and_whitespace_do_not_change_the_content() -> None:
    first = loads('{"a": 1, "b": {"c": [1, 2], "d": "x"}}')
    second = loads('{ "b" : { "d":"x", "c":[1,2] } ,"a":1 }')
    assert content_hash(first) == content_hash(second)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ('{"score": 20}', '{"score": 20.0}'),
        ('{"score": 100}', '{"score": 1e2}'),
        ('{"score": [0]}', '{"score": [-0.0]}'),
        ('{"s": {"t": 1.5e16}}', '{"s": {"t": 15000000000000000}}'),
        ('{"s": 123456789012345678901234567890}', '{"s": 123456789012345678901234567890}'),
    ],
)
def test_numbers_compare_by_value(left: str, right: str) -> None:
    assert content_hash(loads(left)) == content_hash(loads(right))


@pytest.mark.parametrize(
    "number",
    [0.0, -0.0, 7.0, -20.0, 1e15, 1e16, 1.5e16, 1.2345678901234568e17, 9.2e18, -4e18],
)
@pytest.mark.parametrize("where", ['{{"s": {}}}', "[{}]", "[{}, 1]", '{{"a": {}, "b": 1}}'])
def test_every_integral_float_hashes_as_its_integer(number: float, where: str) -> None:
    """Whichever way orjson writes it (`20.0`, `1e+16`) and whatever follows it (`,` `]`
    `}`), an integral float is found before hashing."""
    assert content_hash(loads(where.format(number))) == content_hash(
        loads(where.format(int(number)))
    )


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ('{"score": 20}', '{"score": 20.5}'),
        ('{"score": 20}', '{"score": "20"}'),
        ('{"flag": true}', '{"flag": 1}'),
        ('{"flag": false}', '{"flag": 0}'),
        ('{"v": null}', "{}"),
        ('{"l": [1, 2]}', '{"l": [2, 1]}'),
        ('{"id": "a", "x": 1}', '{"id": "b", "x": 1}'),
        ('{"s": 123456789012345678901234567890}', '{"s": 123456789012345678901234567891}'),
    ],
)
def test_different_values_have_different_content(left: str, right: str) -> None:
    assert content_hash(loads(left)) != content_hash(loads(right))


def test_the_stored_form_keeps_key_order_and_number_types() -> None:
    text = '{"z": 1, "a": 20.0, "m": [0.0, 3], "big": 123456789012345678901234567890}'
    value = loads(text)
    assert list(value) == ["z", "a", "m", "big"]
    assert isinstance(value["big"], int)
    stored = dumps(value).decode()
    assert json.loads(stored) == json.loads(text)
    assert list(json.loads(stored)) == ["z", "a", "m", "big"]
    assert '"a":20.0' in stored
    assert "123456789012345678901234567890" in stored


@pytest.mark.parametrize(
    "text",
    [
        '{"a": NaN}',
        '{"a": Infinity}',
        '{"a": -Infinity}',
        "{'a': 1}",
        '{"a": 1,}',
        "",
        "[" * 255 + "]" * 255,  # orjson writes at most 254 levels
        '{"a": ' + "[" * 254 + "]" * 254 + "}",
        "[" * 1000 + "]" * 1000,
        '{"big": 123456789012345678901234567890, "a": ' + "[" * 300 + "]" * 300 + "}",
    ],
)
def test_what_no_stored_form_keeps_is_not_json(text: str) -> None:
    with pytest.raises(JsonProblem):
        loads(text)
    with pytest.raises(JsonProblem):
        loads(text.encode())


def test_254_levels_are_kept() -> None:
    value = loads("[" * 254 + "]" * 254)
    assert json.loads(dumps(value)) == value
    # An event 254 levels deep is parsed, and rejected (nested past 64) verbatim.
    deep = loads("[" * 252 + "20.0, 1" + "]" * 252)
    rejected = read_item(event_11(extensions=deep), "$")
    assert isinstance(rejected, RejectedItem)
    assert rejected.reason == "`extensions" + "[0]" * 63 + "` is nested more than 64 levels deep"
    assert json.loads(rejected.raw_json)["extensions"] == deep


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"a": 1e400}', "`a` is a number of 5 characters, beyond any range"),
        ('{"a": -1' + "0" * 5000 + "}", "`a` is a number of 5,002 characters, beyond any range"),
        ('{"a": "\\ud800"}', "`a` holds a lone UTF-16 surrogate"),
        ('{"a": ["x\\udc00y"]}', "`a[0]` holds a lone UTF-16 surrogate"),
        ('{"\\ud800": 1}', "a key of `$` holds a lone UTF-16 surrogate"),
    ],
)
def test_what_no_stored_event_keeps_rejects_its_item_verbatim(text: str, reason: str) -> None:
    """Parsed, so that the other items of the request are stored; its item is rejected
    and kept as it was sent."""
    good = event_11()
    body = loads('{"data": [' + text + ", " + dumps(good).decode() + "]}")
    batch = read_body(body)
    assert [event.raw for event in batch.events] == [good]
    [rejected] = batch.rejected
    assert rejected.path == "$.data[0]"
    assert rejected.reason.startswith(reason)
    assert rejected.raw_json.decode() == text.replace(": ", ":")
    assert loads_stored(rejected.raw_json.decode()) == rejected.raw


def test_a_surrogate_pair_is_a_character() -> None:
    assert loads('{"a": "\\ud83d\\ude00"}') == {"a": "\U0001f600"}


def test_not_json_says_where_as_python_does() -> None:
    with pytest.raises(JsonProblem) as caught:
        loads(b'{\n  "a": 1\n  "b": 2\n}')
    assert (caught.value.lineno, caught.value.colno) == (3, 3)
    assert caught.value.reason == "Expecting ',' delimiter"


# --- items and shapes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"type": None}, "event has no `type`"),
        ({"action": None}, "event has no `action`"),
        ({"actor": None}, "event has no `actor`"),
        ({"object": ""}, "event has no `object`"),
        ({"eventTime": None}, "event has no `eventTime`"),
        ({"eventTime": "yesterday"}, "`eventTime` 'yesterday' is not an ISO-8601 time"),
        ({"eventTime": 1609858229}, "`eventTime` 1609858229 is not an ISO-8601 time"),
    ],
)
def test_an_item_that_cannot_be_projected_is_rejected_with_the_reason(
    change: dict[str, Any], reason: str
) -> None:
    item = event_11(**change)
    result = read_item(item, "$.data[3]")
    assert isinstance(result, RejectedItem)
    assert (result.path, result.reason) == ("$.data[3]", reason)
    assert result.raw is item


def test_an_item_with_a_type_and_id_but_no_action_or_time_is_an_entity() -> None:
    person = {"id": USER, "type": "Person", "name": "Jo"}
    result = read_item(person, "$.data[1]")
    assert isinstance(result, EntityDescription)
    assert (result.entity_id, result.entity_type, result.path) == (USER, "Person", "$.data[1]")
    legacy = read_item({"@id": USER, "@type": IMS + "lis/Person"}, "$.data[2]")
    assert isinstance(legacy, EntityDescription)
    assert legacy.entity_type == "Person"


def test_unknown_event_types_are_events() -> None:
    event = read_event(event_11(type="ForumEvent", action="Posted"))
    assert (event.type, event.action) == ("ForumEvent", "Posted")


def test_an_envelope_splits_into_events_entities_and_rejected_items() -> None:
    batch = read_body(
        {
            "sensor": "urn:sensor",
            "sendTime": TIME,
            "data": [event_11(), {"id": USER, "type": "Person"}, 7, event_11(action=None)],
        }
    )
    assert [event.sensor for event in batch.events] == ["urn:sensor"]
    assert [event.path for event in batch.events] == ["$.data[0]"]
    assert [item.path for item in batch.descriptions] == ["$.data[1]"]
    assert [(item.path, item.reason) for item in batch.rejected] == [
        ("$.data[2]", "expected an event object, found a number"),
        ("$.data[3]", "event has no `action`"),
    ]


def test_arrays_of_envelopes_and_of_events_and_a_bare_event() -> None:
    envelopes = read_body([{"data": [event_11()]}, {"data": [event_10()]}])
    assert [event.path for event in envelopes.events] == ["$[0].data[0]", "$[1].data[0]"]
    events = read_body([event_11(), event_10()])
    assert [event.path for event in events.events] == ["$[0]", "$[1]"]
    bare = read_body(event_11())
    assert [event.path for event in bare.events] == ["$"]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"data": {"x": 1}}, "$.data"),
        ([{"data": []}, {"data": []}, 5], "$[2]"),
        ([event_11(), "text"], "$[1]"),
        ({"sensor": "s"}, "$"),
        ("a string", "$"),
        (42, "$"),
        (None, "$"),
    ],
)
def test_bodies_of_no_known_shape_name_the_path(body: Any, path: str) -> None:
    with pytest.raises(ShapeError) as caught:
        read_body(body)
    assert caught.value.path == path


@pytest.mark.parametrize(
    "version",
    [
        None,
        "http://purl.imsglobal.org/ctx/caliper/v1/Context",
        "http://purl.imsglobal.org/ctx/caliper/v1p1",
        "http://purl.imsglobal.org/ctx/caliper/v1p2",
    ],
)
def test_supported_data_versions(version: str | None) -> None:
    envelope: dict[str, Any] = {"data": []}
    if version:
        envelope["dataVersion"] = version
    check_data_version(envelope)
    check_data_version([envelope, envelope])


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"dataVersion": "http://purl.imsglobal.org/ctx/caliper/v2", "data": []}, "$.dataVersion"),
        ([{"data": []}, {"dataVersion": "1.1", "data": []}], "$[1].dataVersion"),
    ],
)
def test_unknown_data_versions_are_refused(body: Any, path: str) -> None:
    with pytest.raises(UnsupportedVersion) as caught:
        check_data_version(body)
    assert caught.value.path == path


@pytest.mark.parametrize(
    ("ms", "shown"),
    [
        (253402300799999, "9999-12-31T23:59:59.999Z"),
        (parse_time_ms("9999-12-31T23:59:59.999-01:00"), "+010000-01-01T00:59:59.999Z"),
        (parse_time_ms("0001-01-01T00:00:00+01:00"), "+000000-12-31T23:00:00.000Z"),
        (-62135596800000, "0001-01-01T00:00:00.000Z"),
        (-(10**18), "-31686769-06-29T22:13:20.000Z"),
    ],
)
def test_any_stored_instant_is_served(ms: int, shown: str) -> None:
    """Outside years 1-9999 (only an event stored before ingest checked times holds
    one), in ECMAScript's expanded form, which JavaScript's Date reads."""
    assert format_time_ms(ms) == shown


@pytest.mark.parametrize(
    ("read", "value", "reason"),
    [
        (as_float, 10**400, "the number of 401 digits is beyond ±1e15"),
        (as_float, "1e400", "the number '1e400' is beyond ±1e15"),
        (as_float, "nan", "the number 'nan' is beyond ±1e15"),
        (as_float, 1.5e15, "the number 1500000000000000.0 is beyond ±1e15"),
        (as_int, 1e300, "the integer of 301 digits is beyond GraphQL Int's range"),
        (as_int, 2**31, "the integer 2147483648 is beyond GraphQL Int's range"),
        (as_time_ms, "9999-12-31T23:59:59.999-01:00", "lies outside years 1-9999 in UTC"),
        (as_time_ms, 10**20, "lies outside years 1-9999 in UTC"),
    ],
)
def test_a_value_a_fold_cannot_serve_is_unusable(read: Any, value: Any, reason: str) -> None:
    with pytest.raises(UnusableValue) as caught:
        read(value)
    assert reason in str(caught.value)


def test_values_within_range_read_as_before() -> None:
    assert (as_float(1e15), as_float("12.5"), as_float("x"), as_float(True)) == (
        1e15,
        12.5,
        None,
        None,
    )
    assert (as_int(2**31 - 1), as_int(3.0), as_int("7"), as_int(3.5)) == (2**31 - 1, 3, 7, None)
    assert as_time_ms("2021-01-05T14:50:29.906Z") == TIME_MS


def test_an_entity_description_is_checked_too() -> None:
    person = {"id": "https://x/users/u\x001", "type": "Person"}
    long = {"id": "https://x/users/" + "u" * 3000, "type": "Person"}
    batch = read_body({"data": [person, long, event_11()]})
    assert len(batch.events) == 1 and batch.descriptions == []
    assert [r.reason for r in batch.rejected] == [
        "`id` holds a NUL character (\\u0000), which PostgreSQL text cannot store",
        "the entity's `id` is 3,016 bytes long; ids are indexed and must stay within 2,048 "
        "bytes (a PostgreSQL index entry holds about 2,700)",
    ]


def test_an_envelope_sensor_no_column_holds_rejects_its_items_only() -> None:
    """Every event of that envelope would carry it; the next envelope's are stored."""
    bad = {"sensor": "s\x00", "data": [event_11(), event_11(action="Modified")]}
    good = {"sensor": "s", "data": [event_11()]}
    batch = read_body([bad, good])
    assert [event.path for event in batch.events] == ["$[1].data[0]"]
    assert [(r.path, r.reason) for r in batch.rejected] == [
        (
            f"$[0].data[{i}]",
            "the envelope's `sensor` holds a NUL character (\\u0000), which "
            "PostgreSQL text cannot store",
        )
        for i in range(2)
    ]
