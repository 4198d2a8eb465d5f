"""Envelope → events, entity descriptions and rejected items, with the columns the
store indexes. Every rule here answers a case in design/caliper.md."""

from __future__ import annotations

import json
import re
from typing import Any

from app.caliper.canonical import content_hash, dumps
from app.caliper.checks import ids_problem, text_problem, value_problem
from app.caliper.model import (
    ATTEMPT,
    CALCULATED_GRADE,
    CARRIES_COURSE_NUMBER,
    CARRIES_EXTERNAL_ID,
    CARRIES_LEARN_ID,
    CARRIES_NAME,
    CARRIES_USER_ID,
    CONTENT,
    COURSE,
    GRADABLE_ITEM,
    GROUP,
    PERSON,
    EntityDescription,
    EntityRef,
    ReadBatch,
    ReadEvent,
    RejectedItem,
    ShapeError,
    UnsupportedVersion,
    event_id_of,
)
from app.caliper.values import (
    extensions,
    parse_time_ms,
    present,
    ref_id,
    short_action,
    short_name,
    short_type,
)

SUPPORTED_DATA_VERSIONS = (
    "http://purl.imsglobal.org/ctx/caliper/v1/Context",
    "http://purl.imsglobal.org/ctx/caliper/v1p1",
    "http://purl.imsglobal.org/ctx/caliper/v1p2",
)


# --- shapes -------------------------------------------------------------------------


def read_body(body: Any, *, base_path: str = "$") -> ReadBatch:
    """An envelope, an array of envelopes or events, or a bare event → one batch.

    Raises ShapeError (nothing of it may be stored) or UnsupportedVersion."""
    batch = ReadBatch()
    if isinstance(body, dict):
        if "data" in body:
            _read_envelope(body, base_path, batch)
        elif _looks_like_item(body):
            _read_item(body, base_path, batch)
        else:
            raise ShapeError(base_path, "not a Caliper envelope (no `data` array) nor an event")
    elif isinstance(body, list):
        for index, element in enumerate(body):
            path = f"{base_path}[{index}]"
            if isinstance(element, dict) and "data" in element:
                _read_envelope(element, path, batch)
            elif isinstance(element, dict):
                _read_item(element, path, batch)
            else:
                raise ShapeError(path, f"expected an envelope or an event, found {_kind(element)}")
    else:
        raise ShapeError(
            base_path, f"expected an envelope, an array or an event, found {_kind(body)}"
        )
    return batch


def check_data_version(body: Any, base_path: str = "$") -> None:
    """Raises UnsupportedVersion for the first envelope whose dataVersion we do not read."""
    envelopes = [(base_path, body)] if isinstance(body, dict) else []
    if isinstance(body, list):
        envelopes = [(f"{base_path}[{i}]", item) for i, item in enumerate(body)]
    for path, envelope in envelopes:
        if isinstance(envelope, dict) and "data" in envelope:
            version = envelope.get("dataVersion")
            if version is not None and version not in SUPPORTED_DATA_VERSIONS:
                raise UnsupportedVersion(f"{path}.dataVersion", version)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else "a number"
    )


def _looks_like_item(value: dict[str, Any]) -> bool:
    return any(key in value for key in ("type", "@type", "action", "eventTime", "actor"))


def _read_envelope(envelope: dict[str, Any], path: str, batch: ReadBatch) -> None:
    data = envelope["data"]
    if not isinstance(data, list):
        raise ShapeError(f"{path}.data", f"`data` must be an array, found {_kind(data)}")
    # Each event keeps its own envelope's sensor (a body may hold several envelopes).
    sensor = envelope.get("sensor")
    if not isinstance(sensor, str):
        sensor = None
    problem = text_problem(sensor) if sensor else None
    for index, item in enumerate(data):
        item_path = f"{path}.data[{index}]"
        if problem:  # every event would carry it
            batch.rejected.append(reject(item, item_path, f"the envelope's `sensor` {problem}"))
        else:
            _read_item(item, item_path, batch, sensor)


def _read_item(item: Any, path: str, batch: ReadBatch, sensor: str | None = None) -> None:
    result = read_item(item, path, sensor=sensor)
    if isinstance(result, ReadEvent):
        batch.events.append(result)
    elif isinstance(result, EntityDescription):
        batch.descriptions.append(result)
    else:
        batch.rejected.append(result)


# --- one item ------------------------------------------------------------------------


def read_item(
    item: Any, path: str, *, sensor: str | None = None, checked: bool = True
) -> ReadEvent | EntityDescription | RejectedItem:
    """One item. `checked=False` skips the value checks (app.caliper.checks), for verify
    to rebuild the columns of an event stored before ingest made them."""
    if not isinstance(item, dict):
        return reject(item, path, f"expected an event object, found {_kind(item)}")
    raw_json = dumps(item)
    problem = value_problem(item, text_clean=_text_clean(raw_json)) if checked else None
    if problem:
        return reject(item, path, problem)
    full_type = item.get("type", item.get("@type"))
    action = item.get("action")
    event_time = item.get("eventTime")
    if action is None and event_time is None and isinstance(full_type, str) and ref_id(item):
        entity_id = ref_id(item) or ""
        problem = ids_problem([("the entity's `id`", entity_id)]) if checked else None
        if problem:
            return reject(item, path, problem)
        return EntityDescription(
            raw=item,
            raw_json=raw_json,
            content_hash=content_hash(item),
            entity_id=entity_id,
            entity_type=short_name(full_type),
            path=path,
        )
    problem = _missing(item, full_type, action, event_time)
    if problem:
        return reject(item, path, problem)
    event = _read_event(item, raw_json, path, short_name(full_type), short_action(action), sensor)
    problem = _indexed_problem(event) if checked else None
    if problem:
        return reject(item, path, problem)
    return event


def _indexed_problem(event: ReadEvent) -> str | None:
    """Every text of the event the store indexes, within the bound."""
    named = [
        ("`id`", event.event_id),
        ("the type", event.type),
        ("the action", event.action),
        ("the actor's id", event.actor_id),
        ("the object's id", event.object_id),
        ("the course's id", event.course_id),
    ]
    for ref in event.entities:
        named.append((f"the {ref.kind.replace('_', ' ')} key", ref.key))
        named.append((f"the {ref.kind.replace('_', ' ')}'s second key", ref.alt_key))
    return ids_problem(named)


# How the stored form writes NUL and a lone surrogate (orjson refuses lone surrogates;
# see canonical.dumps). Either escape absent, no string or key of the item holds one.
_ESCAPED_NUL_OR_SURROGATE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def _text_clean(raw_json: bytes) -> bool:
    return _ESCAPED_NUL_OR_SURROGATE.search(raw_json) is None


def reject(raw: Any, path: str, reason: str) -> RejectedItem:
    raw_json = dumps(raw)
    return RejectedItem(
        raw=raw,
        raw_json=raw_json,
        content_hash=content_hash([path, reason, raw]),
        reason=reason,
        path=path,
    )


def _missing(item: dict[str, Any], full_type: Any, action: Any, event_time: Any) -> str | None:
    if not isinstance(full_type, str) or not full_type:
        return "event has no `type`"
    if not isinstance(action, str) or not action:
        return "event has no `action`"
    for key in ("actor", "object"):
        value = item.get(key)
        if not (isinstance(value, str) and value) and not isinstance(value, dict):
            return f"event has no `{key}`"
    if event_time is None:
        return "event has no `eventTime`"
    if parse_time_ms(event_time) is None:
        return f"`eventTime` {event_time!r} is not an ISO-8601 time"
    return None


def _read_event(
    item: dict[str, Any],
    raw_json: bytes,
    path: str,
    event_type: str,
    action: str,
    sensor: str | None,
) -> ReadEvent:
    course = find_course(item)
    course_id = ref_id(course.node) if course else None
    return ReadEvent(
        raw=item,
        raw_json=raw_json,
        content_hash=content_hash(item),
        event_id=event_id_of(item),
        type=event_type,
        action=action,
        event_time_ms=parse_time_ms(item["eventTime"]) or 0,
        style="1.0" if "@type" in item and "type" not in item else "1.1",
        actor_id=ref_id(item.get("actor")),
        object_id=ref_id(item.get("object")),
        course_id=course_id,
        entities=tuple(_entities(item, event_type, course)),
        path=path,
        sensor=sensor,
    )


# --- what an event touches -----------------------------------------------------------


class CourseFound:
    """The course of an event and what the event says of it."""

    __slots__ = ("course_number", "learn_id", "name", "node")

    def __init__(self, node: Any, membership: Any) -> None:
        self.node = node
        node_ext = extensions(node)
        member_ext = extensions(membership)
        number = node.get("courseNumber") if isinstance(node, dict) else None
        if not present(number):
            number = member_ext.get("bb:course.externalId")
        self.course_number: str | None = number if present(number) else None
        learn_id = node_ext.get("bb:course.id")
        if not present(learn_id):
            learn_id = member_ext.get("bb:course.id")
        self.learn_id: str | None = learn_id if present(learn_id) else None
        name = node.get("name") if isinstance(node, dict) else None
        self.name: str | None = name if present(name) else None


def find_course(event: dict[str, Any]) -> CourseFound | None:
    """First found wins: `group` when a CourseOffering; `object.course`;
    `object.subOrganizationOf`; `group.subOrganizationOf`; `membership.organization`."""
    group = event.get("group")
    obj = event.get("object")
    membership = event.get("membership")
    candidates = []
    if isinstance(group, dict) and short_type(group) == "CourseOffering":
        candidates.append(group)
    if isinstance(obj, dict):
        candidates.append(obj.get("course"))
        candidates.append(obj.get("subOrganizationOf"))
    if isinstance(group, dict):
        candidates.append(group.get("subOrganizationOf"))
    if isinstance(membership, dict):
        candidates.append(membership.get("organization"))
    for candidate in candidates:
        if present(candidate) and ref_id(candidate):
            return CourseFound(candidate, membership)
    return None


def calculated_grade_key(course_id: str | None, item_id: Any, user_id: str | None) -> str:
    return f"{course_id or ''}|{item_id if item_id is not None else ''}|{user_id or ''}"


def people_of(event: dict[str, Any]) -> dict[str, tuple[str | None, str | None]]:
    """Every person the event names (actor, assignee, user, member) with the
    bb:user.id and bb:user.externalId seen with that IRI in this event."""
    seen: dict[str, tuple[str | None, str | None]] = {}

    def note(node: Any, ext: dict[str, Any] | None = None) -> None:
        iri = ref_id(node)
        if not iri:
            return
        if isinstance(node, dict) and short_type(node) not in (None, "Person"):
            return
        found = ext if ext is not None else extensions(node)
        user_id = found.get("bb:user.id")
        external_id = found.get("bb:user.externalId")
        old_user, old_external = seen.get(iri, (None, None))
        seen[iri] = (
            user_id if present(user_id) else old_user,
            external_id if present(external_id) else old_external,
        )

    actor = event.get("actor")
    obj = event.get("object")
    membership = event.get("membership")
    note(actor)
    if isinstance(obj, dict):
        note(obj.get("assignee"))
        note(obj.get("user"))
        outcome_actor = obj.get("actor")
        if isinstance(outcome_actor, str):
            note(outcome_actor)
    if isinstance(membership, dict):
        member = membership.get("member")
        if isinstance(member, str):
            note(member, extensions(membership))
        else:
            note(member)
            if ref_id(member):
                note(ref_id(member), extensions(membership))
    # A bare IRI noted as a person must still be one: drop applications named by string.
    return {iri: ids for iri, ids in seen.items() if "/users/" in iri or any(ids)}


def _entities(item: dict[str, Any], event_type: str, course: CourseFound | None) -> list[EntityRef]:
    refs: list[EntityRef] = []
    course_id = ref_id(course.node) if course else None
    if course and course_id:
        carries = (
            (CARRIES_COURSE_NUMBER if course.course_number is not None else 0)
            | (CARRIES_LEARN_ID if course.learn_id is not None else 0)
            | (CARRIES_NAME if course.name is not None else 0)
        )
        refs.append(EntityRef(COURSE, course_id, _index_text(course.course_number), carries))
    obj = item.get("object")
    object_id = ref_id(obj)
    if event_type == "CourseGroupEvent" and object_id:
        refs.append(EntityRef(GROUP, object_id))
    elif event_type == "ContentEvent" and object_id:
        refs.append(EntityRef(CONTENT, object_id))
    elif event_type in ("GradeEvent", "OutcomeEvent") and object_id:
        refs.append(EntityRef(ATTEMPT, object_id))
        assignable = ref_id(obj.get("assignable")) if isinstance(obj, dict) else None
        if assignable:
            refs.append(EntityRef(GRADABLE_ITEM, assignable))
    elif event_type == "CalculatedGradeSnapshotEvent" and isinstance(obj, dict):
        user_id = ref_id(obj.get("user"))
        refs.append(
            EntityRef(CALCULATED_GRADE, calculated_grade_key(course_id, obj.get("itemId"), user_id))
        )
    for iri, (user_id, external_id) in people_of(item).items():
        carries = (CARRIES_USER_ID if user_id is not None else 0) | (
            CARRIES_EXTERNAL_ID if external_id is not None else 0
        )
        refs.append(EntityRef(PERSON, iri, _index_text(user_id), carries))
    return refs


def _index_text(value: Any) -> str | None:
    """A second lookup key as the index holds it: text, a number as its text (as SQLite
    always stored it), nothing for other values (no text column binds them)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def parse_member_list(value: Any) -> list[str] | None:
    """`bb:group.users`: a list of ids or objects, or a string holding that JSON.
    Returns the sorted member ids, or None when the value says nothing."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return None
    if not isinstance(value, list):
        return None
    members: list[str] = []
    for element in value:
        if isinstance(element, dict):
            member = element.get("courseMembershipId")
            if member is None:
                member = element.get("id")
            if member is not None:
                members.append(str(member))
        elif element is not None:
            members.append(str(element))
    return sorted(members)
