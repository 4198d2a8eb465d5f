"""Small accessors that read both Caliper styles the same way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)

_ACTION_SYNONYMS = {
    "Create": "Created",
    "Update": "Modified",
    "Updated": "Modified",
    "Modify": "Modified",
    "Delete": "Deleted",
}


def present(value: Any) -> bool:
    """A key whose value is null or {} counts as not found."""
    return value is not None and value != {} and value != ""


def ref_id(value: Any) -> str | None:
    """The IRI of a reference: a plain IRI string, or an object's `id`/`@id`."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        found = value.get("id")
        if found is None:
            found = value.get("@id")
        return found if isinstance(found, str) and found else None
    return None


def type_of(value: Any) -> str | None:
    """`type` or `@type` of an object, as sent."""
    if not isinstance(value, dict):
        return None
    found = value.get("type")
    if found is None:
        found = value.get("@type")
    return found if isinstance(found, str) else None


def short_name(iri: str) -> str:
    """Text after the last `/` (types) — `…/caliper/v1/ContentEvent` → `ContentEvent`."""
    return iri.rstrip("/").rsplit("/", 1)[-1]


def short_type(value: Any) -> str | None:
    full = type_of(value)
    return short_name(full) if full else None


def short_action(action: str) -> str:
    """`…/action#GradeCalculated` → `GradeCalculated`; Create → Created, Update → Modified…"""
    word = action.rsplit("#", 1)[-1] if "#" in action else short_name(action)
    return _ACTION_SYNONYMS.get(word, word)


def extensions(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        found = value.get("extensions")
        if isinstance(found, dict):
            return found
    return {}


def last_segment(iri: str | None) -> str | None:
    if not iri:
        return None
    segment = iri.rstrip("/").rsplit("/", 1)[-1]
    return segment or None


def parse_time_ms(value: Any) -> int | None:
    """ISO-8601 → milliseconds since the epoch (UTC). No offset means UTC."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // _ONE_MS


def format_time_ms(ms: int) -> str:
    """Milliseconds since the epoch → `2021-01-05T14:50:29.906Z`."""
    moment = EPOCH + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
