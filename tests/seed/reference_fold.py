"""A small, independent reading of Caliper envelopes, straight from design/caliper.md
and the contract's storage rules, used only to check that the seed's events say
what its ground truth claims. Deliberately naive and separate from app/: if the
generator wrote an event that means something other than it intended, this fold
and the truth disagree.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

CONTENT_FIELDS = (
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
_SYNONYMS = {"Create": "Created", "Update": "Modified", "Updated": "Modified", "Delete": "Deleted"}


def parse_ms(text: str) -> int:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def ref(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        found = value.get("id", value.get("@id"))
        return found if isinstance(found, str) else None
    return None


def short_type(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    found = value.get("type", value.get("@type"))
    return found.rsplit("/", 1)[-1] if isinstance(found, str) else None


def short_action(action: str) -> str:
    word = action.rsplit("#", 1)[-1]
    return _SYNONYMS.get(word, word)


def style_of(event: dict[str, Any]) -> str:
    return "1.0" if "@type" in event else "1.1"


def canonical(value: Any) -> str:
    """Equal parsed JSON values (numbers by value) give equal text."""

    def norm(v: Any) -> Any:
        if isinstance(v, bool) or v is None or isinstance(v, str):
            return v
        if isinstance(v, int | float):
            return float(v)
        if isinstance(v, list):
            return [norm(x) for x in v]
        return {k: norm(x) for k, x in v.items()}

    return json.dumps(norm(value), sort_keys=True, separators=(",", ":"))


def present(value: Any) -> bool:
    return value is not None and value != {}


def find_course(event: dict[str, Any]) -> dict[str, Any] | str | None:
    group, obj, membership = event.get("group"), event.get("object"), event.get("membership")
    candidates: list[Any] = []
    if isinstance(group, dict) and short_type(group) == "CourseOffering":
        candidates.append(group)
    if isinstance(obj, dict):
        candidates += [obj.get("course"), obj.get("subOrganizationOf")]
    if isinstance(group, dict):
        candidates.append(group.get("subOrganizationOf"))
    if isinstance(membership, dict):
        candidates.append(membership.get("organization"))
    for candidate in candidates:
        if present(candidate) and ref(candidate):
            return candidate
    return None


def members_of(value: Any) -> list[str] | None:
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, list):
        return None
    return sorted(str(e.get("courseMembershipId", e.get("id"))) for e in value)


@dataclass
class Stored:
    position: int
    event: dict[str, Any]
    event_type: str
    action: str
    time_ms: int
    course_iri: str | None


@dataclass
class Folded:
    stored: list[Stored] = field(default_factory=list)
    duplicates: int = 0
    conflicts: int = 0
    groups: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    content: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    attempts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calculated: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    people: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    courses: dict[str, dict[str, Any]] = field(default_factory=dict)


def store(envelopes: list[dict[str, Any]]) -> Folded:
    """Append every event in arrival order, dropping exact duplicates."""
    folded = Folded()
    seen: set[tuple[str | None, str]] = set()
    content_by_id: dict[str, set[str]] = defaultdict(set)
    for envelope in envelopes:
        for event in envelope["data"]:
            event_id = event.get("id", event.get("@id"))
            text = canonical(event)
            if (event_id, text) in seen:
                folded.duplicates += 1
                continue
            seen.add((event_id, text))
            if event_id is not None:
                if content_by_id[event_id]:
                    folded.conflicts += 1
                content_by_id[event_id].add(text)
            course = find_course(event)
            folded.stored.append(
                Stored(
                    position=len(folded.stored),
                    event=event,
                    event_type=short_type(event) or "",
                    action=short_action(event["action"]),
                    time_ms=parse_ms(event["eventTime"]),
                    course_iri=ref(course),
                )
            )
    return folded


def fold(envelopes: list[dict[str, Any]], as_of_ms: int | None = None) -> Folded:
    folded = store(envelopes)
    events = [s for s in folded.stored if as_of_ms is None or s.time_ms <= as_of_ms]
    events.sort(key=lambda s: (s.time_ms, s.position))
    group_state: dict[str, dict[str, Any]] = {}
    content_state: dict[str, dict[str, Any]] = {}
    for stored in events:
        event = stored.event
        _note_people(folded, event)
        course = find_course(event)
        if course is not None:
            _note_course(folded, course, event)
        if stored.event_type == "CourseGroupEvent":
            _fold_group(folded, group_state, stored)
        elif stored.event_type == "ContentEvent":
            _fold_content(folded, content_state, stored)
        elif stored.event_type in ("GradeEvent", "OutcomeEvent"):
            _fold_score(folded, stored)
        elif stored.event_type == "CalculatedGradeSnapshotEvent":
            _fold_snapshot(folded, stored)
    for key, snapshots in folded.calculated.items():
        folded.calculated[key] = sorted(
            snapshots, key=lambda s: (s["version"], s["time_ms"], s["position"])
        )
    return folded


def _note_course(folded: Folded, course: dict[str, Any] | str, event: dict[str, Any]) -> None:
    iri = ref(course)
    assert iri is not None
    record = folded.courses.setdefault(iri, {"course_number": None, "learn_id": None})
    membership = event.get("membership") if isinstance(event.get("membership"), dict) else {}
    member_ext = membership.get("extensions") or {}
    node = course if isinstance(course, dict) else {}
    number = node.get("courseNumber") or member_ext.get("bb:course.externalId")
    learn_id = (node.get("extensions") or {}).get("bb:course.id") or member_ext.get("bb:course.id")
    if number:
        record["course_number"] = number
    if learn_id:
        record["learn_id"] = learn_id


def _note_people(folded: Folded, event: dict[str, Any]) -> None:
    def note(node: Any, extensions: dict[str, Any] | None = None) -> None:
        iri = ref(node)
        if iri is None or "/users/" not in iri:
            return
        ext = extensions if extensions is not None else (
            node.get("extensions") or {} if isinstance(node, dict) else {}
        )  # fmt: skip
        old = folded.people.get(iri, (None, None))
        folded.people[iri] = (
            ext.get("bb:user.id") or old[0],
            ext.get("bb:user.externalId") or old[1],
        )

    note(event.get("actor"))
    obj = event.get("object")
    if isinstance(obj, dict):
        note(obj.get("assignee"))
        note(obj.get("user"))
        note(obj.get("actor"))
    membership = event.get("membership")
    if isinstance(membership, dict):
        note(membership.get("member"), membership.get("extensions") or {})


def _fold_group(folded: Folded, state: dict[str, dict[str, Any]], stored: Stored) -> None:
    event = stored.event
    obj = event["object"]
    iri = ref(obj)
    assert iri is not None
    current = state.setdefault(iri, {"name": None, "member_ids": [], "deleted": False})
    ext = obj.get("extensions") or {}
    if "bb:group.name" in ext and (ext["bb:group.name"] is not None or style_of(event) == "1.1"):
        current["name"] = ext["bb:group.name"]
    users = ext.get("bb:group.users", (event.get("extensions") or {}).get("bb:group.users"))
    members = members_of(users)
    if members is not None:
        current["member_ids"] = members
    current["deleted"] = stored.action == "Deleted"
    folded.groups.setdefault(iri, []).append(
        {**current, "time_ms": stored.time_ms, "action": stored.action}
    )


def _fold_content(folded: Folded, state: dict[str, dict[str, Any]], stored: Stored) -> None:
    event = stored.event
    obj = event["object"]
    iri = ref(obj)
    assert iri is not None
    current = state.setdefault(iri, {**dict.fromkeys(CONTENT_FIELDS), "deleted": False})
    legacy = style_of(event) == "1.0"
    for key in CONTENT_FIELDS:
        if key in obj and not (legacy and obj[key] is None):
            current[key] = obj[key]
    generated = event.get("generated")
    if isinstance(generated, dict):
        for key in CONTENT_FIELDS:
            change = generated.get(key)
            if isinstance(change, dict) and change.get("newValue") is not None:
                current[key] = change["newValue"]
    current["deleted"] = stored.action == "Deleted"
    folded.content.setdefault(iri, []).append(
        {**current, "time_ms": stored.time_ms, "action": stored.action}
    )


def _fold_score(folded: Folded, stored: Stored) -> None:
    event = stored.event
    obj = event["object"]
    iri = ref(obj)
    assert iri is not None
    generated = event["generated"]
    if stored.event_type == "GradeEvent":
        assignee = ref(obj["assignee"])
        score = generated["scoreGiven"]
    else:
        assignee = ref(obj["actor"])
        score = generated["normalScore"]
    folded.attempts.setdefault(iri, []).append(
        {
            "time_ms": stored.time_ms,
            "score_given": score,
            "assignee": assignee,
            "gradable": ref(obj["assignable"]),
            "event_type": stored.event_type,
            "course": stored.course_iri,
        }
    )


def _fold_snapshot(folded: Folded, stored: Stored) -> None:
    obj = stored.event["object"]
    key = f"{stored.course_iri}|{obj['itemId']}|{ref(obj['user'])}"
    folded.calculated.setdefault(key, []).append(
        {
            "version": obj.get("synVersion", obj.get("syncVersion")),
            "score": obj.get("score"),
            "score_possible": obj["scorePossible"],
            "is_course_grade": obj["isCourseGrade"],
            "time_ms": stored.time_ms,
            "position": stored.position,
        }
    )
