"""The queries the API needs: by entity, by course, by filter, paged. Each returns
plain records; nothing here knows Caliper beyond the indexed columns."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select, text, union_all

from app.caliper.canonical import loads_stored
from store.db import Store
from store.records import StoredEvent, StoredRejectedItem
from store.tables import (
    COURSE_INDEXED_KINDS,
    COURSE_INDEXED_PREDICATE,
    EventEntityRow,
    EventRow,
    RejectedItemRow,
)

EVENTS = EventRow.__table__
ENTITIES = EventEntityRow.__table__
REJECTED = RejectedItemRow.__table__

_EVENT_COLUMNS = (
    EVENTS.c.position,
    EVENTS.c.event_id,
    EVENTS.c.type,
    EVENTS.c.action,
    EVENTS.c.event_time,
    EVENTS.c.received_at,
    EVENTS.c.actor_id,
    EVENTS.c.object_id,
    EVENTS.c.course_id,
    EVENTS.c.raw,
)
IN_CHUNK = 500


def _event(row: Sequence[Any]) -> StoredEvent:
    return StoredEvent(
        position=row[0],
        event_id=row[1],
        type=row[2],
        action=row[3],
        event_time_ms=row[4],
        received_at_ms=row[5],
        actor_id=row[6],
        object_id=row[7],
        course_id=row[8],
        raw=loads_stored(row[9]),
    )


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[i : i + IN_CHUNK] for i in range(0, len(values), IN_CHUNK)] or [[]]


async def events_of_entities(
    store: Store, kind: str, keys: Sequence[str], until_ms: int | None = None
) -> dict[str, list[StoredEvent]]:
    """Every event that touches each entity (eventTime <= until_ms when given)."""
    found: dict[str, list[StoredEvent]] = defaultdict(list)
    unique = list(dict.fromkeys(keys))
    if not unique:
        return found
    async with store.reading() as connection:
        for chunk in _chunks(unique):
            query = (
                select(ENTITIES.c.entity_key, *_EVENT_COLUMNS)
                .join(EVENTS, EVENTS.c.position == ENTITIES.c.position)
                .where(ENTITIES.c.kind == kind, ENTITIES.c.entity_key.in_(chunk))
            )
            if until_ms is not None:
                query = query.where(ENTITIES.c.event_time <= until_ms)
            for row in await connection.execute(query):
                found[row[0]].append(_event(row[1:]))
    return found


async def events_of_course_entities(
    store: Store, course_id: str, kind: str, until_ms: int | None = None
) -> dict[str, list[StoredEvent]]:
    """Every event of every `kind` entity that any event of the course mentions."""
    if kind not in COURSE_INDEXED_KINDS:
        raise ValueError(f"the course index does not hold {kind!r} rows")
    mentioned = select(ENTITIES.c.entity_key).where(
        ENTITIES.c.course_id == course_id,
        ENTITIES.c.kind == kind,
        # The partial index's own predicate, spelled out so that the planner uses it.
        text(COURSE_INDEXED_PREDICATE),
    )
    if until_ms is not None:
        mentioned = mentioned.where(ENTITIES.c.event_time <= until_ms)
    query = (
        select(ENTITIES.c.entity_key, *_EVENT_COLUMNS)
        .join(EVENTS, EVENTS.c.position == ENTITIES.c.position)
        # No DISTINCT in the subquery: with it SQLite walks the primary key for `kind`
        # (every row of that kind) instead of the course index.
        .where(ENTITIES.c.kind == kind, ENTITIES.c.entity_key.in_(mentioned))
    )
    if until_ms is not None:
        query = query.where(ENTITIES.c.event_time <= until_ms)
    found: dict[str, list[StoredEvent]] = defaultdict(list)
    async with store.reading() as connection:
        for row in await connection.execute(query):
            found[row[0]].append(_event(row[1:]))
    return found


@dataclass(frozen=True, slots=True)
class EntitySummary:
    """What the index says of a course or a person, plus its latest events."""

    key: str
    first_event_ms: int
    last_event_ms: int
    last_position: int
    alt_key: str | None  # the latest non-null alt key (courseNumber / bb:user.id)
    latest_events: list[StoredEvent]


# Keys per statement when each key is its own UNION ALL branch (SQLite allows 500).
SUMMARY_CHUNK = 200


async def entity_summaries(
    store: Store, kind: str, keys: Sequence[str], until_ms: int | None = None, latest: int = 20
) -> dict[str, EntitySummary]:
    """Per entity: first/last event time, latest alt key, and its `latest` newest events
    (enough for the fields courses and people carry in nearly every event).

    Each entity's newest rows are one short backward range scan of the primary key
    (kind, entity_key, event_time, position), so the cost follows `latest`, not the
    entity's whole history."""
    unique = list(dict.fromkeys(keys))
    summaries: dict[str, EntitySummary] = {}
    if not unique:
        return summaries
    newest_first = (ENTITIES.c.event_time.desc(), ENTITIES.c.position.desc())
    async with store.reading() as connection:
        for start in range(0, len(unique), SUMMARY_CHUNK):
            chunk = unique[start : start + SUMMARY_CHUNK]
            branches = []
            for key in chunk:
                where = [ENTITIES.c.kind == kind, ENTITIES.c.entity_key == key]
                if until_ms is not None:
                    where.append(ENTITIES.c.event_time <= until_ms)
                newest = (
                    select(ENTITIES.c.entity_key, ENTITIES.c.position, ENTITIES.c.event_time)
                    .where(*where)
                    .order_by(*newest_first)
                    .limit(latest)
                    .subquery()
                )
                branches.append(select(newest))
            rows = (await connection.execute(union_all(*branches))).all()
            outer = ENTITIES.alias("outer_entities")
            newest_alt = (
                select(ENTITIES.c.alt_key)
                .where(
                    ENTITIES.c.kind == outer.c.kind,
                    ENTITIES.c.entity_key == outer.c.entity_key,
                    ENTITIES.c.alt_key.is_not(None),
                    *([ENTITIES.c.event_time <= until_ms] if until_ms is not None else []),
                )
                .order_by(*newest_first)
                .limit(1)
                .scalar_subquery()
            )
            firsts_where = [outer.c.kind == kind, outer.c.entity_key.in_(chunk)]
            if until_ms is not None:
                firsts_where.append(outer.c.event_time <= until_ms)
            firsts = {
                key: (first, alt)
                for key, first, alt in await connection.execute(
                    select(outer.c.entity_key, func.min(outer.c.event_time), newest_alt)
                    .where(*firsts_where)
                    .group_by(outer.c.kind, outer.c.entity_key)
                )
            }
            by_key: dict[str, list[StoredEvent]] = defaultdict(list)
            wanted = {position: key for key, position, _time in rows}
            for part in _chunks(list(wanted)):
                result = await connection.execute(
                    select(*_EVENT_COLUMNS).where(EVENTS.c.position.in_(part))
                )
                for row in result:
                    by_key[wanted[row[0]]].append(_event(row))
            for key, events in by_key.items():
                newest_event = max(events, key=lambda e: (e.event_time_ms, e.position))
                first, alt = firsts[key]
                summaries[key] = EntitySummary(
                    key=key,
                    first_event_ms=first,
                    last_event_ms=newest_event.event_time_ms,
                    last_position=newest_event.position,
                    alt_key=alt,
                    latest_events=events,
                )
    return summaries


async def keys_with_alt_key(store: Store, kind: str, alt_key: str) -> list[str]:
    async with store.reading() as connection:
        # The alt-key index covers (kind, alt_key, entity_key): DISTINCT reads it in order.
        result = await connection.execute(
            select(ENTITIES.c.entity_key)
            .where(ENTITIES.c.kind == kind, ENTITIES.c.alt_key == alt_key)
            .distinct()
        )
        return [row[0] for row in result]


async def alt_keys_of(store: Store, kind: str, keys: Sequence[str]) -> dict[str, set[str]]:
    """Every alternate key (a course's number) each entity has had, by entity."""
    found: dict[str, set[str]] = defaultdict(set)
    unique = list(dict.fromkeys(keys))
    async with store.reader.connect() as connection:
        for chunk in _chunks(unique):
            if not chunk:
                continue
            result = await connection.execute(
                select(ENTITIES.c.entity_key, ENTITIES.c.alt_key)
                .where(
                    ENTITIES.c.kind == kind,
                    ENTITIES.c.entity_key.in_(chunk),
                    ENTITIES.c.alt_key.is_not(None),
                )
                .distinct()
            )
            for key, alt_key in result:
                found[key].add(alt_key)
    return dict(found)


async def alt_keys_between(
    store: Store, kind: str, after_position: int, up_to_position: int
) -> list[tuple[str, str]]:
    """(entity, alternate key) pairs that events in (after, up_to] mention."""
    async with store.reader.connect() as connection:
        result = await connection.execute(
            select(ENTITIES.c.entity_key, ENTITIES.c.alt_key)
            .where(
                ENTITIES.c.position > after_position,
                ENTITIES.c.position <= up_to_position,
                ENTITIES.c.kind == kind,
                ENTITIES.c.alt_key.is_not(None),
            )
            .distinct()
        )
        return [(row[0], row[1]) for row in result]


async def all_keys(store: Store, kind: str) -> list[str]:
    async with store.reading() as connection:
        result = await connection.execute(
            select(ENTITIES.c.entity_key).where(ENTITIES.c.kind == kind).distinct()
        )
        return [row[0] for row in result]


# --- the event log, filtered and paged ------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventQuery:
    course_ids: tuple[str, ...] | None = None  # None: any course
    type: str | None = None
    action: str | None = None
    actor_id: str | None = None
    object_id: str | None = None
    since_ms: int | None = None  # eventTime >= since
    until_ms: int | None = None  # eventTime < until
    as_of_ms: int | None = None  # eventTime <= as_of
    after_position: int | None = None

    def is_unfiltered(self) -> bool:
        return self == EventQuery(after_position=self.after_position)

    def matches(self, event: StoredEvent) -> bool:
        """In Python, exactly what _event_conditions asks of a row in SQL (live delivery
        tests each new event with this; keep the two side by side)."""
        time = event.event_time_ms
        return (
            (self.course_ids is None or event.course_id in self.course_ids)
            and (self.type is None or event.type == self.type)
            and (self.action is None or event.action == self.action)
            and (self.actor_id is None or event.actor_id == self.actor_id)
            and (self.object_id is None or event.object_id == self.object_id)
            and (self.since_ms is None or time >= self.since_ms)
            and (self.until_ms is None or time < self.until_ms)
            and (self.as_of_ms is None or time <= self.as_of_ms)
            and (self.after_position is None or event.position > self.after_position)
        )


def _event_conditions(query: EventQuery) -> list[Any]:
    conditions: list[Any] = []
    if query.course_ids is not None:
        conditions.append(EVENTS.c.course_id.in_(query.course_ids))
    if query.type is not None:
        conditions.append(EVENTS.c.type == query.type)
    if query.action is not None:
        conditions.append(EVENTS.c.action == query.action)
    if query.actor_id is not None:
        conditions.append(EVENTS.c.actor_id == query.actor_id)
    if query.object_id is not None:
        conditions.append(EVENTS.c.object_id == query.object_id)
    if query.since_ms is not None:
        conditions.append(EVENTS.c.event_time >= query.since_ms)
    if query.until_ms is not None:
        conditions.append(EVENTS.c.event_time < query.until_ms)
    if query.as_of_ms is not None:
        conditions.append(EVENTS.c.event_time <= query.as_of_ms)
    if query.after_position is not None:
        conditions.append(EVENTS.c.position > query.after_position)
    return conditions


async def count_events(store: Store, query: EventQuery) -> int:
    async with store.reading() as connection:
        if query.is_unfiltered():
            # Positions are gapless from 1, so the newest position is the count.
            last = (await connection.execute(select(func.max(EVENTS.c.position)))).scalar() or 0
            return max(0, last - (query.after_position or 0))
        conditions = _event_conditions(query)
        statement = select(func.count()).select_from(EVENTS).where(*conditions)
        return int((await connection.execute(statement)).scalar() or 0)


async def page_events(
    store: Store, query: EventQuery, *, after_cursor_position: int | None, limit: int
) -> list[StoredEvent]:
    conditions = _event_conditions(query)
    if after_cursor_position is not None:
        conditions.append(EVENTS.c.position > after_cursor_position)
    statement = select(*_EVENT_COLUMNS).where(*conditions).order_by(EVENTS.c.position).limit(limit)
    async with store.reading() as connection:
        return [_event(row) for row in await connection.execute(statement)]


async def entity_stamps(store: Store, kind: str, keys: Sequence[str]) -> dict[str, int]:
    """The newest position that touches each entity: anything folded from an entity's
    events stays true until this number changes (positions only grow)."""
    found: dict[str, int] = {}
    unique = list(dict.fromkeys(keys))
    async with store.reading() as connection:
        for chunk in _chunks(unique):
            if not chunk:
                continue
            result = await connection.execute(
                select(ENTITIES.c.entity_key, func.max(ENTITIES.c.position))
                .where(ENTITIES.c.kind == kind, ENTITIES.c.entity_key.in_(chunk))
                .group_by(ENTITIES.c.kind, ENTITIES.c.entity_key)
            )
            found.update({key: int(position) for key, position in result})
    return found


async def course_entities_stamp(store: Store, course_id: str, kind: str) -> int:
    """The newest position that touches any `kind` entity of the course (a new entity
    mentions the course in a newer row, so it moves this too)."""
    mentioned = select(ENTITIES.c.entity_key).where(
        ENTITIES.c.course_id == course_id,
        ENTITIES.c.kind == kind,
        text(COURSE_INDEXED_PREDICATE),
    )
    statement = select(func.max(ENTITIES.c.position)).where(
        ENTITIES.c.kind == kind, ENTITIES.c.entity_key.in_(mentioned)
    )
    async with store.reading() as connection:
        return int((await connection.execute(statement)).scalar() or 0)


async def entities_touched_after(
    store: Store, kind: str, after_position: int
) -> list[tuple[str, str | None]]:
    """(entity key, course) of every `kind` index row newer than a position: what changed
    since a fold made at that position (a range of the position index)."""
    statement = (
        select(ENTITIES.c.entity_key, ENTITIES.c.course_id)
        .where(
            ENTITIES.c.position > after_position,
            # Tested through a CASE so that no index serves it: the planner then ranges over
            # the new positions instead of walking every row of the kind.
            case((ENTITIES.c.kind == kind, 1), else_=0) == 1,
        )
        .distinct()
    )
    async with store.reader.connect() as connection:
        return [(row[0], row[1]) for row in await connection.execute(statement)]


async def last_position(store: Store) -> int:
    async with store.reading() as connection:
        return int((await connection.execute(select(func.max(EVENTS.c.position)))).scalar() or 0)


async def count_rejected(store: Store) -> int:
    async with store.reading() as connection:
        return int(
            (await connection.execute(select(func.count()).select_from(REJECTED))).scalar() or 0
        )


async def page_rejected(
    store: Store, *, after_row: int | None, limit: int
) -> list[StoredRejectedItem]:
    statement = (
        select(
            REJECTED.c.row_id,
            REJECTED.c.received_at,
            REJECTED.c.reason,
            REJECTED.c.path,
            REJECTED.c.raw,
        )
        .order_by(REJECTED.c.row_id)
        .limit(limit)
    )
    if after_row is not None:
        statement = statement.where(REJECTED.c.row_id > after_row)
    async with store.reading() as connection:
        return [
            StoredRejectedItem(row[0], row[1], row[2], row[3], loads_stored(row[4]))
            for row in await connection.execute(statement)
        ]


# --- course analytics: aggregates over one course's events -----------------------------
# Each reads ix_events_course_time (course_id, event_time, actor_id) alone.


def _as_of_clause(as_of_ms: int | None) -> str:
    return "" if as_of_ms is None else " AND event_time <= :as_of"


async def course_stamp(store: Store, course_id: str) -> int:
    """The course's newest position: figures of its events hold while this stays."""
    statement = text("SELECT max(position) FROM events WHERE course_id = :course")
    async with store.reader.connect() as connection:
        return int((await connection.execute(statement, {"course": course_id})).scalar() or 0)


async def course_time_span(
    store: Store, course_id: str, as_of_ms: int | None = None
) -> tuple[int, int] | None:
    """The course's first and last eventTime (those at or before as_of), if any."""
    # Two statements: each is one seek into the index; together in one they scan it.
    where = "FROM events WHERE course_id = :course" + _as_of_clause(as_of_ms)
    values = {"course": course_id, "as_of": as_of_ms}
    async with store.reader.connect() as connection:
        first = (await connection.execute(text(f"SELECT min(event_time) {where}"), values)).scalar()
        last = (await connection.execute(text(f"SELECT max(event_time) {where}"), values)).scalar()
    return None if first is None else (int(first), int(last))


@dataclass(frozen=True, slots=True)
class BucketActorCount:
    bucket: int  # (eventTime - origin) // width
    actor_id: str | None
    events: int


async def course_activity(
    store: Store,
    course_id: str,
    *,
    origin_ms: int,
    width_ms: int,
    since_ms: int,
    until_ms: int,
    as_of_ms: int | None = None,
) -> list[BucketActorCount]:
    """Events per bucket and actor, for eventTime in [since, until]."""
    statement = text(
        "SELECT (event_time - :origin) / :width, actor_id, count(*) FROM events "
        "WHERE course_id = :course AND event_time >= :since AND event_time <= :until"
        + _as_of_clause(as_of_ms)
        + " GROUP BY 1, 2"
    )
    values = {
        "course": course_id,
        "origin": origin_ms,
        "width": width_ms,
        "since": since_ms,
        "until": until_ms,
        "as_of": as_of_ms,
    }
    async with store.reader.connect() as connection:
        rows = await connection.execute(statement, values)
        return [BucketActorCount(int(b), a, int(n)) for b, a, n in rows]


@dataclass(frozen=True, slots=True)
class ActorCounts:
    actor_id: str
    first_event_ms: int
    last_event_ms: int
    event_count: int
    active_days: int


async def course_actor_counts(
    store: Store, course_id: str, as_of_ms: int | None = None, *, day_origin_ms: int
) -> list[ActorCounts]:
    """Per actor of the course's events: first, last, count, distinct UTC days."""
    statement = text(
        "SELECT actor_id, min(event_time), max(event_time), count(*), "
        "count(DISTINCT (event_time - :origin) / :day) FROM events "
        "WHERE course_id = :course AND actor_id IS NOT NULL"
        + _as_of_clause(as_of_ms)
        + " GROUP BY actor_id"
    )
    values = {"course": course_id, "origin": day_origin_ms, "day": 86_400_000, "as_of": as_of_ms}
    async with store.reader.connect() as connection:
        rows = await connection.execute(statement, values)
        return [ActorCounts(k, int(f), int(la), int(n), int(d)) for k, f, la, n, d in rows]


async def people_among(store: Store, iris: Sequence[str]) -> set[str]:
    """Those of these IRIs the index knows as people (the reader indexes Person actors,
    members and assignees, never applications): a primary-key probe each."""
    found: set[str] = set()
    unique = list(dict.fromkeys(i for i in iris if i))
    async with store.reader.connect() as connection:
        for chunk in _chunks(unique):
            if not chunk:
                continue
            result = await connection.execute(
                select(ENTITIES.c.entity_key)
                .where(ENTITIES.c.kind == "person", ENTITIES.c.entity_key.in_(chunk))
                .distinct()
            )
            found.update(row[0] for row in result)
    return found


async def newest_course_events_naming(
    store: Store,
    course_id: str,
    people: Sequence[str],
    as_of_ms: int | None = None,
    *,
    per_person: int | None,
) -> dict[str, list[StoredEvent]]:
    """Per person, their `per_person` newest events of the course that name them (actor,
    member, assignee…), newest first; all of them when per_person is None. Each person's
    rows are a backward range scan of the index's primary key, so the cost follows
    per_person, not the course's size."""
    found: dict[str, list[StoredEvent]] = defaultdict(list)
    unique = list(dict.fromkeys(people))
    newest_first = (ENTITIES.c.event_time.desc(), ENTITIES.c.position.desc())
    async with store.reader.connect() as connection:
        for start in range(0, len(unique), SUMMARY_CHUNK):
            branches = []
            for person in unique[start : start + SUMMARY_CHUNK]:
                where = [
                    ENTITIES.c.kind == "person",
                    ENTITIES.c.entity_key == person,
                    EVENTS.c.course_id == course_id,
                ]
                if as_of_ms is not None:
                    where.append(ENTITIES.c.event_time <= as_of_ms)
                newest = (
                    select(ENTITIES.c.entity_key, ENTITIES.c.position)
                    .join(EVENTS, EVENTS.c.position == ENTITIES.c.position)
                    .where(*where)
                    .order_by(*newest_first)
                )
                if per_person is not None:
                    newest = newest.limit(per_person)
                branches.append(select(newest.subquery()))
            if not branches:
                continue
            wanted: dict[int, list[str]] = defaultdict(list)
            for person, position in await connection.execute(union_all(*branches)):
                wanted[int(position)].append(person)
            for part in _chunks(list(wanted)):
                result = await connection.execute(
                    select(*_EVENT_COLUMNS).where(EVENTS.c.position.in_(part))
                )
                for row in result:
                    event = _event(row)
                    for person in wanted[event.position]:
                        found[person].append(event)
    for events in found.values():
        events.sort(key=lambda e: (e.event_time_ms, e.position), reverse=True)
    return found


VIEW_ACTIONS = ("Viewed", "NavigatedTo")


@dataclass(frozen=True, slots=True)
class ViewCounts:
    views: int
    unique_viewers: int
    last_viewed_ms: int | None


async def view_counts(
    store: Store, object_ids: Sequence[str], as_of_ms: int | None = None
) -> dict[str, ViewCounts]:
    """Viewed / NavigatedTo events per object: count, distinct actors, newest eventTime."""
    found: dict[str, ViewCounts] = {}
    unique = list(dict.fromkeys(object_ids))
    async with store.reader.connect() as connection:
        for chunk in _chunks(unique):
            if not chunk:
                continue
            query = (
                select(
                    EVENTS.c.object_id,
                    func.count(),
                    func.count(EVENTS.c.actor_id.distinct()),
                    func.max(EVENTS.c.event_time),
                )
                .where(EVENTS.c.object_id.in_(chunk), EVENTS.c.action.in_(VIEW_ACTIONS))
                .group_by(EVENTS.c.object_id)
            )
            if as_of_ms is not None:
                query = query.where(EVENTS.c.event_time <= as_of_ms)
            for object_id, views, viewers, last in await connection.execute(query):
                found[object_id] = ViewCounts(int(views), int(viewers), last)
    return found


async def course_entity_keys(
    store: Store, course_id: str, kind: str, until_ms: int | None = None
) -> list[str]:
    """The keys of every `kind` entity that an event of the course mentions (eventTime <=
    until_ms when given): those events_of_course_entities folds, without their events,
    so that a caller can fold a big course's entities a batch at a time."""
    if kind not in COURSE_INDEXED_KINDS:
        raise ValueError(f"the course index does not hold {kind!r} rows")
    statement = select(ENTITIES.c.entity_key).where(
        ENTITIES.c.course_id == course_id,
        ENTITIES.c.kind == kind,
        text(COURSE_INDEXED_PREDICATE),
    )
    if until_ms is not None:
        statement = statement.where(ENTITIES.c.event_time <= until_ms)
    async with store.reading() as connection:
        return sorted({row[0] for row in await connection.execute(statement)})
