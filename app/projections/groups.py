"""Course groups, from CourseGroupEvent (Created / Modified / Deleted)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from app.caliper.reader import parse_member_list
from app.caliper.values import extensions, last_segment, present, ref_id
from app.projections.coerce import as_text
from app.projections.versioning import Revision, fold_history
from store.records import StoredEvent

EVENT_TYPE = "CourseGroupEvent"
NAME = "name"
MEMBER_IDS = "memberIds"
FIELDS = (MEMBER_IDS, NAME)


@dataclass(frozen=True, slots=True)
class GroupVersion:
    valid_from_ms: int
    action: str
    event_position: int
    changed_fields: list[str]
    name: str | None
    member_ids: list[str]
    deleted: bool


@dataclass(frozen=True, slots=True)
class GroupState:
    id: str
    learn_id: str | None
    name: str | None
    member_ids: list[str]
    deleted: bool
    created_at_ms: int
    updated_at_ms: int
    course_id: str | None
    history: list[GroupVersion]


def fold_group(group_id: str, events: Iterable[StoredEvent]) -> GroupState | None:
    history = fold_history(group_id, events, EVENT_TYPE, FIELDS, _read_updates)
    if history is None:
        return None
    versions = [_version(revision) for revision in history.revisions]
    current = versions[-1]
    return GroupState(
        id=group_id,
        learn_id=_learn_id(group_id, history.revisions),
        name=current.name,
        member_ids=current.member_ids,
        deleted=current.deleted,
        created_at_ms=history.created_at_ms,
        updated_at_ms=history.updated_at_ms,
        course_id=history.course_id,
        history=versions,
    )


def _version(revision: Revision) -> GroupVersion:
    values = revision.values
    event = revision.event
    return GroupVersion(
        valid_from_ms=event.event_time_ms,
        action=event.action,
        event_position=event.position,
        changed_fields=revision.changed_fields,
        name=values[NAME],
        # None ("never sent") stays internal so a first version without
        # bb:group.users does not list memberIds; the API serves a list.
        member_ids=values[MEMBER_IDS] or [],
        deleted=values["deleted"],
    )


def _group_extensions(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """The group object's extensions, then `group`'s when it names the same group
    (both describe it; either may be the one that carries a key)."""
    group_object = raw.get("object")
    found = [extensions(group_object)]
    group = raw.get("group")
    if isinstance(group, dict) and group is not group_object:
        group_iri = ref_id(group)
        if group_iri and group_iri == ref_id(group_object):
            found.append(extensions(group))
    return found


def _first_sent(sources: Iterable[dict[str, Any]], key: str) -> tuple[bool, Any]:
    """(sent, value): the first non-null value of `key`; (True, None) when the key is
    only ever null; (False, None) when no source has it."""
    sent = False
    for source in sources:
        if key in source:
            value = source[key]
            if value is not None:
                return True, value
            sent = True
    return sent, None


def _read_updates(raw: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    group_extensions = _group_extensions(raw)
    sent, name = _first_sent(group_extensions, "bb:group.name")
    if sent:
        yield NAME, as_text(name)
    # Members may also ride on the event's own extensions.
    sent, users = _first_sent([*group_extensions, extensions(raw)], "bb:group.users")
    if sent:
        if users is None:
            yield MEMBER_IDS, None
        else:
            member_ids = parse_member_list(users)
            # A value that is not a member list says nothing: it keeps the members.
            if member_ids is not None:
                yield MEMBER_IDS, member_ids


def _learn_id(group_id: str, revisions: list[Revision]) -> str | None:
    """bb:group.id from the latest event that carries it, else the IRI's last segment."""
    for revision in reversed(revisions):
        for group_extensions in _group_extensions(revision.event.raw):
            learn_id = group_extensions.get("bb:group.id")
            if present(learn_id):
                return str(learn_id)
    return last_segment(group_id)
