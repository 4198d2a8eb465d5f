"""What every versioned entity shares (design/caliper.md, "Versions, history and
changedFields" and "Ordering and time"): fold order, the absent/null rule,
`deleted`, changedFields, and the course an entity belongs to.

Groups and content items fold through `fold_history`; the other projections use
the same pieces directly."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from store.records import StoredEvent

DELETED = "deleted"

# Reads one event (as received) into (GraphQL field name, value) pairs, one per
# field the event sends, in the order they apply. A None value is an explicit null.
UpdateReader = Callable[[dict[str, Any]], Iterable[tuple[str, Any]]]


def fold_order(event: StoredEvent) -> tuple[int, int]:
    """eventTime, then store order: arrival order means nothing."""
    return (event.event_time_ms, event.position)


def is_legacy_style(raw: Mapping[str, Any]) -> bool:
    """Caliper 1.0 style: `@type` and no `type`. Detected per event, not per envelope."""
    return "@type" in raw and "type" not in raw


def merge_sent(previous: Any, value: Any, legacy: bool) -> Any:
    """The value a field holds once an event sent `value` for it (the key was there).

    An explicit null clears in the 1.1 style; in the 1.0 style every key is always
    present and null stands for "not sent", so it keeps the previous value."""
    if value is None and legacy:
        return previous
    return value


def read_sent(
    source: Mapping[str, Any],
    key: str,
    previous: Any,
    legacy: bool,
    convert: Callable[[Any], Any],
) -> Any:
    """`source[key]` converted, under the absent-keeps rule and `merge_sent`."""
    if key not in source:
        return previous
    value = source[key]
    return merge_sent(previous, None if value is None else convert(value), legacy)


def deleted_after(action: str, was_deleted: bool) -> bool:
    """True on Deleted, false again on a later Created or Modified: the last event wins."""
    if action == "Deleted":
        return True
    if action in ("Created", "Modified"):
        return False
    return was_deleted


def changed_fields(
    previous: Mapping[str, Any] | None, current: Mapping[str, Any], fields: Iterable[str]
) -> list[str]:
    """The fields whose value differs from the previous version, sorted.

    For a first version (previous is None) every field holding a value is listed —
    empty strings, empty lists and false are values — except `deleted`, listed
    only when true."""
    if previous is None:
        changed = [
            field
            for field in fields
            if current.get(field) is not None and (field != DELETED or current[field])
        ]
    else:
        changed = [field for field in fields if previous.get(field) != current.get(field)]
    changed.sort()
    return changed


def course_of(events_in_order: Sequence[StoredEvent]) -> str | None:
    """The course of the entity's first event; the first course named at all otherwise."""
    for event in events_in_order:
        if event.course_id:
            return event.course_id
    return None


@dataclass(frozen=True, slots=True)
class Revision:
    """One event's version of an entity, keyed by GraphQL field name.

    A value of None is "never sent" or "cleared"; the entity module decides what
    to serve for it."""

    event: StoredEvent
    values: dict[str, Any]
    changed_fields: list[str]


@dataclass(frozen=True, slots=True)
class History:
    revisions: list[Revision]  # oldest first, never empty
    course_id: str | None

    @property
    def current(self) -> Revision:
        return self.revisions[-1]

    @property
    def created_at_ms(self) -> int:
        return self.revisions[0].event.event_time_ms

    @property
    def updated_at_ms(self) -> int:
        return self.revisions[-1].event.event_time_ms


def fold_history(
    entity_id: str,
    events: Iterable[StoredEvent],
    event_type: str,
    fields: Iterable[str],
    read_updates: UpdateReader,
) -> History | None:
    """Every `event_type` event whose object is the entity makes one version, even
    when nothing changed. `fields` are the data fields besides `deleted`."""
    own = [event for event in events if event.type == event_type and event.object_id == entity_id]
    if not own:
        return None
    own.sort(key=fold_order)
    all_fields = sorted({*fields, DELETED})

    values: dict[str, Any] = dict.fromkeys(all_fields)
    values[DELETED] = False
    previous: dict[str, Any] | None = None
    revisions: list[Revision] = []
    for event in own:
        legacy = is_legacy_style(event.raw)
        for field, value in read_updates(event.raw):
            values[field] = merge_sent(values[field], value, legacy)
        values[DELETED] = deleted_after(event.action, values[DELETED])
        revisions.append(Revision(event, values, changed_fields(previous, values, all_fields)))
        previous = values
        values = values.copy()
    return History(revisions, course_of(own))
