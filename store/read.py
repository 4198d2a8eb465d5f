"""The queries the API needs: by entity, by course, by filter, paged. Each returns
plain records; nothing here knows Caliper beyond the indexed columns."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Text, case, func, literal, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from app.caliper.canonical import loads_stored
from app.caliper.model import CARRIED_FIELDS, event_id_of
from store.codec import decode
from store.db import Store
from store.records import StoredEvent, StoredRejectedItem
from store.tables import (
    COURSE_INDEXED_KINDS,
    COURSE_INDEXED_PREDICATE,
    KIND_CODES,
    CourseNumberRow,
    EventEntityRow,
    EventRow,
    RejectedItemRow,
    TermRow,
)

EVENTS = EventRow.__table__
ENTITIES = EventEntityRow.__table__
REJECTED = RejectedItemRow.__table__
TERMS = TermRow.__table__
COURSE_NUMBERS = CourseNumberRow.__table__


def term_text(term_id: Any) -> Any:
    """The text of a term id column, as a column of the same row (a primary-key probe).
    A statement selecting only such columns names its FROM itself (select_from)."""
    return (
        select(TERMS.c.text).where(TERMS.c.id == term_id).correlate_except(TERMS).scalar_subquery()
    )


def term_id(value: str) -> Any:
    """The id of a text, for comparing with a term column (NULL, so no match, when no
    event ever held it)."""
    return select(TERMS.c.id).where(TERMS.c.text == value).scalar_subquery()


def term_ids(values: Sequence[str]) -> Any:
    return select(TERMS.c.id).where(TERMS.c.text.in_(values))


_EVENT_COLUMNS = (
    EVENTS.c.position,
    term_text(EVENTS.c.type),
    term_text(EVENTS.c.action),
    EVENTS.c.event_time,
    EVENTS.c.received_at,
    term_text(EVENTS.c.actor_id),
    term_text(EVENTS.c.object_id),
    term_text(EVENTS.c.course_id),
    EVENTS.c.codec,
    EVENTS.c.raw,
)
IN_CHUNK = 500


def _event(row: Sequence[Any]) -> StoredEvent:
    raw = loads_stored(decode(row[8], row[9]).decode())
    return StoredEvent(
        position=row[0],
        event_id=event_id_of(raw) if isinstance(raw, dict) else None,
        type=row[1],
        action=row[2],
        event_time_ms=row[3],
        received_at_ms=row[4],
        actor_id=row[5],
        object_id=row[6],
        course_id=row[7],
        raw=raw,
    )


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[i : i + IN_CHUNK] for i in range(0, len(values), IN_CHUNK)] or [[]]


def _kind(kind: str) -> ColumnElement[bool]:
    return ENTITIES.c.kind == KIND_CODES[kind]


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
                select(term_text(ENTITIES.c.entity_key), *_EVENT_COLUMNS)
                .join(EVENTS, EVENTS.c.position == ENTITIES.c.position)
                .where(_kind(kind), ENTITIES.c.entity_key.in_(term_ids(chunk)))
            )
            if until_ms is not None:
                query = query.where(ENTITIES.c.event_time <= until_ms)
            for row in await connection.execute(query):
                found[row[0]].append(_event(row[1:]))
    return found


def _mentioned_by_course(course_id: str, kind: str, until_ms: int | None) -> Any:
    """The term ids of the `kind` entities that events of the course mention (a range of
    the course index), as a subquery."""
    if kind not in COURSE_INDEXED_KINDS:
        raise ValueError(f"the course index does not hold {kind!r} rows")
    mentioned = select(ENTITIES.c.entity_key).where(
        ENTITIES.c.course_id == term_id(course_id),
        _kind(kind),
        # The partial index's own predicate, spelled out so that the planner uses it.
        text(COURSE_INDEXED_PREDICATE),
    )
    if until_ms is not None:
        mentioned = mentioned.where(ENTITIES.c.event_time <= until_ms)
    return mentioned


async def events_of_course_entities(
    store: Store, course_id: str, kind: str, until_ms: int | None = None
) -> dict[str, list[StoredEvent]]:
    """Every event of every `kind` entity that any event of the course mentions."""
    mentioned = _mentioned_by_course(course_id, kind, until_ms)
    query = (
        select(term_text(ENTITIES.c.entity_key), *_EVENT_COLUMNS)
        .join(EVENTS, EVENTS.c.position == ENTITIES.c.position)
        # No DISTINCT in the subquery: with it SQLite walks the primary key for `kind`
        # (every row of that kind) instead of the course index.
        .where(_kind(kind), ENTITIES.c.entity_key.in_(mentioned))
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


# UNION ALL branches per statement on SQLite: it allows 500 in one compound SELECT.
SUMMARY_BRANCHES = 400


async def _terms_by(
    connection: AsyncConnection, column: Any, values: Sequence[Any]
) -> dict[str, int]:
    """{text: id} of the terms whose `column` (text or id) is one of these values: a probe
    of its unique index each."""
    found: dict[str, int] = {}
    for chunk in _chunks(list(values)):
        if chunk:
            result = await connection.execute(
                select(TERMS.c.text, TERMS.c.id).where(column.in_(chunk))
            )
            found.update({text_: int(id_) for text_, id_ in result})
    return found


SUMMARY_EVENT, SUMMARY_FIRST, SUMMARY_ALT = 0, 1, 2


def _summary_shapes(bits: Sequence[int], latest: int, entity: str, window: str) -> list[str]:
    """The per-entity branches: its `latest` newest rows, each field's newest carrier, its
    first row and its newest row with an alt key, as (entity, position, event_time,
    alt_key, role). Each is one range of the primary key (kind, entity_key, event_time,
    position) read from one end with a LIMIT."""
    newest = " ORDER BY event_time DESC, position DESC LIMIT {limit}"
    shapes = [
        (SUMMARY_EVENT, "", newest.format(limit=int(latest))),
        *(
            (SUMMARY_EVENT, f" AND (carries & {int(bit)}) != 0", newest.format(limit=1))
            for bit in bits
        ),
        (SUMMARY_FIRST, "", " ORDER BY event_time, position LIMIT 1"),
        (SUMMARY_ALT, " AND alt_key IS NOT NULL", newest.format(limit=1)),
    ]
    return [
        f"SELECT entity_key, position, event_time, alt_key, {role} AS role FROM event_entities"
        f" WHERE kind = :kind AND entity_key = {entity}{window}{condition}{order}"
        for role, condition, order in shapes
    ]


def _per_key_statement(
    store: Store, keys: int, branches: Callable[[str], list[str]], columns: str
) -> Any:
    """One statement running `branches(entity)` for each of `keys` entities (bound as
    :k0… on SQLite, as the array :keys on PostgreSQL). Written as text: built with
    SQLAlchemy's expression language the hundreds of branches cost more Python than the
    database spends on them."""
    if store.is_sqlite:
        # No LATERAL: one UNION ALL branch per entity and shape.
        return text(
            " UNION ALL ".join(
                f"SELECT {columns} FROM ({branch}) AS b{i}_{n}"
                for i in range(keys)
                for n, branch in enumerate(branches(f":k{i}"))
            )
        )
    # PostgreSQL plans a LATERAL subquery once and runs it per key (planning hundreds of
    # UNION ALL branches costs more than running them).
    union = " UNION ALL ".join(f"({branch})" for branch in branches("k.id"))
    return text(
        f"SELECT {columns} FROM unnest(CAST(:keys AS INTEGER[])) AS k(id)"
        f" CROSS JOIN LATERAL ({union}) AS b"
    )


def _key_values(store: Store, key_ids: Sequence[int]) -> dict[str, Any]:
    if store.is_sqlite:
        return {f"k{i}": key_id for i, key_id in enumerate(key_ids)}
    return {"keys": list(key_ids)}


def _key_chunk(store: Store, branches_per_key: int) -> int:
    """Keys per statement: SQLite's compound SELECT holds at most 500 branches."""
    return max(1, SUMMARY_BRANCHES // branches_per_key) if store.is_sqlite else IN_CHUNK


async def entity_summaries(
    store: Store, kind: str, keys: Sequence[str], until_ms: int | None = None, latest: int = 20
) -> dict[str, EntitySummary]:
    """Per entity: first/last event time, latest alt key, and its `latest` newest events
    (enough for most of what courses and people carry) plus, for each of the entity's
    own fields (CARRIED_FIELDS), the newest event carrying it, however old: so a fold
    of these events finds every field.

    Every figure is one short range of the primary key (kind, entity_key, event_time,
    position), read from one end with a LIMIT: the newest rows backward, the first event
    forward, each field's and the alt key's newest carrier backward until the first that
    carries it. So the cost follows `latest`, not the entity's whole history (an
    instructor is the actor of nearly every event of a course)."""
    summaries: dict[str, EntitySummary] = {}
    unique = list(dict.fromkeys(keys))
    if not unique:
        return summaries
    bits = list(CARRIED_FIELDS.get(kind, {}).values())
    per_key = len(bits) + 3
    async with store.reading() as connection:
        ids = await _terms_by(connection, TERMS.c.text, unique)
        texts = {key_id: key for key, key_id in ids.items()}
        key_ids = list(texts)
        window = "" if until_ms is None else " AND event_time <= :until"
        size = _key_chunk(store, per_key)
        for start in range(0, len(key_ids), size):
            chunk = key_ids[start : start + size]
            statement = _per_key_statement(
                store,
                len(chunk),
                lambda entity: _summary_shapes(bits, latest, entity, window),
                "entity_key, position, event_time, alt_key, role",
            )
            values: dict[str, Any] = {"kind": KIND_CODES[kind], **_key_values(store, chunk)}
            if until_ms is not None:
                values["until"] = until_ms
            firsts: dict[int, int] = {}
            alts: dict[int, int] = {}
            wanted: dict[int, set[int]] = defaultdict(set)
            for key_id, position, event_time, alt_key, role in await connection.execute(
                statement, values
            ):
                if role == SUMMARY_FIRST:
                    firsts[key_id] = int(event_time)
                elif role == SUMMARY_ALT:
                    alts[key_id] = int(alt_key)
                else:
                    wanted[int(position)].add(key_id)
            alt_ids = await _terms_by(connection, TERMS.c.id, list(set(alts.values())))
            alt_texts = {id_: text_ for text_, id_ in alt_ids.items()}
            by_key: dict[int, list[StoredEvent]] = defaultdict(list)
            for part in _chunks(list(wanted)):
                result = await connection.execute(
                    select(*_EVENT_COLUMNS).where(EVENTS.c.position.in_(part))
                )
                for row in result:
                    event = _event(row)
                    for key_id in wanted[event.position]:
                        by_key[key_id].append(event)
            for key_id, events in by_key.items():
                newest_event = max(events, key=lambda e: (e.event_time_ms, e.position))
                alt_id = alts.get(key_id)
                summaries[texts[key_id]] = EntitySummary(
                    key=texts[key_id],
                    first_event_ms=firsts[key_id],
                    last_event_ms=newest_event.event_time_ms,
                    last_position=newest_event.position,
                    alt_key=None if alt_id is None else alt_texts[alt_id],
                    latest_events=events,
                )
    return summaries


async def keys_with_alt_key(store: Store, kind: str, alt_key: str) -> list[str]:
    async with store.reading() as connection:
        # The alt-key index covers (kind, alt_key, entity_key): DISTINCT reads it in order.
        keys = (
            select(ENTITIES.c.entity_key)
            .where(_kind(kind), ENTITIES.c.alt_key == term_id(alt_key))
            .distinct()
            .subquery()
        )
        result = await connection.execute(select(term_text(keys.c.entity_key)).select_from(keys))
        return [row[0] for row in result]


async def alt_keys_of(store: Store, kind: str, keys: Sequence[str]) -> dict[str, set[str]]:
    """Every alternate key (a course's number) each entity has had, by entity."""
    found: dict[str, set[str]] = defaultdict(set)
    unique = list(dict.fromkeys(keys))
    async with store.reader.connect() as connection:
        for chunk in _chunks(unique):
            if not chunk:
                continue
            pairs = (
                select(ENTITIES.c.entity_key, ENTITIES.c.alt_key)
                .where(
                    _kind(kind),
                    ENTITIES.c.entity_key.in_(term_ids(chunk)),
                    ENTITIES.c.alt_key.is_not(None),
                )
                .distinct()
                .subquery()
            )
            result = await connection.execute(
                select(term_text(pairs.c.entity_key), term_text(pairs.c.alt_key)).select_from(pairs)
            )
            for key, alt_key in result:
                found[key].add(alt_key)
    return dict(found)


async def alt_keys_between(
    store: Store, kind: str, after_position: int, up_to_position: int
) -> list[tuple[str, str]]:
    """(entity, alternate key) pairs that events in (after, up_to] mention."""
    pairs = (
        select(ENTITIES.c.entity_key, ENTITIES.c.alt_key)
        .where(
            ENTITIES.c.position > after_position,
            ENTITIES.c.position <= up_to_position,
            _kind(kind),
            ENTITIES.c.alt_key.is_not(None),
        )
        .distinct()
        .subquery()
    )
    async with store.reader.connect() as connection:
        result = await connection.execute(
            select(term_text(pairs.c.entity_key), term_text(pairs.c.alt_key)).select_from(pairs)
        )
        return [(row[0], row[1]) for row in result]


async def all_keys(store: Store, kind: str) -> list[str]:
    async with store.reading() as connection:
        keys = select(ENTITIES.c.entity_key).where(_kind(kind)).distinct().subquery()
        result = await connection.execute(select(term_text(keys.c.entity_key)).select_from(keys))
        return [row[0] for row in result]


@dataclass(frozen=True, slots=True)
class CoursePage:
    total: int  # every course
    keys: list[tuple[str, str]]  # (current courseNumber or "", course id), in that order
    has_previous: bool  # some course sorts at or before `after`


async def course_page(store: Store, *, after: tuple[str, str] | None, limit: int) -> CoursePage:
    """Courses in (current courseNumber, id) order after a boundary: a range of
    ix_course_numbers_order, so the cost follows `limit`, not the number of courses."""
    table = COURSE_NUMBERS
    order = (table.c.course_number, table.c.course_iri)
    page = select(*order).order_by(*order).limit(limit)
    before = None
    if after is not None:
        page = page.where(tuple_(*order) > tuple_(*(literal(v, Text) for v in after)))
        before = (
            select(literal(1))
            .where(tuple_(*order) <= tuple_(*(literal(v, Text) for v in after)))
            .limit(1)
        )
    async with store.reading() as connection:
        total = (await connection.execute(select(func.count()).select_from(table))).scalar()
        keys = [(row[0], row[1]) for row in await connection.execute(page)]
        has_previous = before is not None and (await connection.execute(before)).first() is not None
    return CoursePage(int(total or 0), keys, has_previous)


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


async def _event_conditions(connection: AsyncConnection, query: EventQuery) -> list[Any] | None:
    """The WHERE terms of a query, its texts resolved to term ids first (so that the
    planner sees the real values, and PostgreSQL its statistics for them); None when a
    text no stored event holds means that nothing matches."""
    texts = [
        *(query.course_ids or ()),
        *(value for value in (query.type, query.action, query.actor_id, query.object_id) if value),
    ]
    ids: dict[str, int] = {}
    if texts:
        found = await connection.execute(
            select(TERMS.c.text, TERMS.c.id).where(TERMS.c.text.in_(list(dict.fromkeys(texts))))
        )
        ids = {text_: int(id_) for text_, id_ in found}
    conditions: list[Any] = []
    if query.course_ids is not None:
        courses = [ids[course] for course in query.course_ids if course in ids]
        if not courses:
            return None
        conditions.append(EVENTS.c.course_id.in_(courses))
    for column, value in (
        (EVENTS.c.type, query.type),
        (EVENTS.c.action, query.action),
        (EVENTS.c.actor_id, query.actor_id),
        (EVENTS.c.object_id, query.object_id),
    ):
        if value is not None:
            if value not in ids:
                return None
            conditions.append(column == ids[value])
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
        conditions = await _event_conditions(connection, query)
        if conditions is None:
            return 0
        statement = select(func.count()).select_from(EVENTS).where(*conditions)
        return int((await connection.execute(statement)).scalar() or 0)


async def page_events(
    store: Store, query: EventQuery, *, after_cursor_position: int | None, limit: int
) -> list[StoredEvent]:
    order = EVENTS.c.position
    if store.is_sqlite and query.since_ms is not None:
        # Without statistics SQLite would walk the log in position order from the start
        # (O(store) for a recent `since`); ordering by an expression makes it take the
        # range since from a (…, event_time) index and sort only that.
        order = EVENTS.c.position + 0
    async with store.reading() as connection:
        conditions = await _event_conditions(connection, query)
        if conditions is None:
            return []
        if after_cursor_position is not None:
            conditions.append(EVENTS.c.position > after_cursor_position)
        statement = select(*_EVENT_COLUMNS).where(*conditions).order_by(order).limit(limit)
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
                select(term_text(ENTITIES.c.entity_key), func.max(ENTITIES.c.position))
                .where(_kind(kind), ENTITIES.c.entity_key.in_(term_ids(chunk)))
                .group_by(ENTITIES.c.kind, ENTITIES.c.entity_key)
            )
            found.update({key: int(position) for key, position in result})
    return found


async def course_entities_stamp(store: Store, course_id: str, kind: str) -> int:
    """The newest position that touches any `kind` entity of the course (a new entity
    mentions the course in a newer row, so it moves this too)."""
    mentioned = select(ENTITIES.c.entity_key).where(
        ENTITIES.c.course_id == term_id(course_id),
        _kind(kind),
        text(COURSE_INDEXED_PREDICATE),
    )
    statement = select(func.max(ENTITIES.c.position)).where(
        _kind(kind), ENTITIES.c.entity_key.in_(mentioned)
    )
    async with store.reading() as connection:
        return int((await connection.execute(statement)).scalar() or 0)


async def entities_touched_after(
    store: Store, kind: str, after_position: int
) -> list[tuple[str, str | None]]:
    """(entity key, course) of every `kind` index row newer than a position: what changed
    since a fold made at that position (a range of the position index)."""
    pairs = (
        select(ENTITIES.c.entity_key, ENTITIES.c.course_id)
        .where(
            ENTITIES.c.position > after_position,
            # Tested through a CASE so that no index serves it: the planner then ranges over
            # the new positions instead of walking every row of the kind.
            case((_kind(kind), 1), else_=0) == 1,
        )
        .distinct()
        .subquery()
    )
    statement = select(term_text(pairs.c.entity_key), term_text(pairs.c.course_id)).select_from(
        pairs
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
            REJECTED.c.codec,
            REJECTED.c.raw,
        )
        .order_by(REJECTED.c.row_id)
        .limit(limit)
    )
    if after_row is not None:
        statement = statement.where(REJECTED.c.row_id > after_row)
    async with store.reading() as connection:
        return [
            StoredRejectedItem(
                row[0], row[1], row[2], row[3], loads_stored(decode(row[4], row[5]).decode())
            )
            for row in await connection.execute(statement)
        ]


# --- course analytics: aggregates over one course's events -----------------------------
# Each reads ix_events_course_time (course_id, event_time, actor_id) alone.


# The course's term id, found once by the planner (a constant to the index range).
COURSE_TERM = "(SELECT id FROM terms WHERE text = :course)"


def _as_of_clause(as_of_ms: int | None) -> str:
    return "" if as_of_ms is None else " AND event_time <= :as_of"


async def course_stamp(store: Store, course_id: str) -> int:
    """The course's newest position: figures of its events hold while this stays."""
    statement = text(f"SELECT max(position) FROM events WHERE course_id = {COURSE_TERM}")
    async with store.reader.connect() as connection:
        return int((await connection.execute(statement, {"course": course_id})).scalar() or 0)


async def course_time_span(
    store: Store, course_id: str, as_of_ms: int | None = None
) -> tuple[int, int] | None:
    """The course's first and last eventTime (those at or before as_of), if any."""
    # Two statements: each is one seek into the index; together in one they scan it.
    where = f"FROM events WHERE course_id = {COURSE_TERM}" + _as_of_clause(as_of_ms)
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
        "SELECT bucket, (SELECT text FROM terms WHERE id = actor), events FROM ("
        "SELECT (event_time - :origin) / :width AS bucket, actor_id AS actor, "
        f"count(*) AS events FROM events WHERE course_id = {COURSE_TERM} "
        "AND event_time >= :since AND event_time <= :until"
        + _as_of_clause(as_of_ms)
        + " GROUP BY 1, 2) AS counts"
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
        "SELECT (SELECT text FROM terms WHERE id = actor), first, last, events, days FROM ("
        "SELECT actor_id AS actor, min(event_time) AS first, max(event_time) AS last, "
        "count(*) AS events, count(DISTINCT (event_time - :origin) / :day) AS days "
        f"FROM events WHERE course_id = {COURSE_TERM} AND actor_id IS NOT NULL"
        + _as_of_clause(as_of_ms)
        + " GROUP BY actor_id) AS counts"
    )
    values = {"course": course_id, "origin": day_origin_ms, "day": 86_400_000, "as_of": as_of_ms}
    async with store.reader.connect() as connection:
        rows = await connection.execute(statement, values)
        return [ActorCounts(k, int(f), int(la), int(n), int(d)) for k, f, la, n, d in rows]


async def people_among(store: Store, iris: Sequence[str]) -> set[str]:
    """Those of these IRIs the index knows as people (the reader indexes Person actors,
    members and assignees, never applications): per IRI, its term by the unique index,
    then whether one person row exists (one primary-key probe; DISTINCT over the rows
    would read every row of each person, and an instructor has thousands)."""
    found: set[str] = set()
    unique = list(dict.fromkeys(i for i in iris if i))
    async with store.reader.connect() as connection:
        for chunk in _chunks(unique):
            if not chunk:
                continue
            is_person = (
                select(literal(1))
                .where(_kind("person"), ENTITIES.c.entity_key == TERMS.c.id)
                .exists()
            )
            result = await connection.execute(
                select(TERMS.c.text).where(TERMS.c.text.in_(chunk), is_person)
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
    window = "" if as_of_ms is None else " AND ee.event_time <= :as_of"
    limit = "" if per_person is None else f" LIMIT {int(per_person)}"

    def newest(entity: str) -> list[str]:
        return [
            "SELECT ee.entity_key, ee.position FROM event_entities AS ee"
            " JOIN events AS e ON e.position = ee.position"
            f" WHERE ee.kind = :kind AND ee.entity_key = {entity} AND e.course_id = :course"
            f"{window} ORDER BY ee.event_time DESC, ee.position DESC{limit}"
        ]

    async with store.reader.connect() as connection:
        ids = await _terms_by(connection, TERMS.c.text, [course_id, *unique])
        if course_id not in ids:
            return found
        texts = {ids[person]: person for person in unique if person in ids}
        key_ids = list(texts)
        size = _key_chunk(store, 1)
        for start in range(0, len(key_ids), size):
            chunk = key_ids[start : start + size]
            statement = _per_key_statement(store, len(chunk), newest, "entity_key, position")
            values = {"kind": KIND_CODES["person"], "course": ids[course_id]}
            values.update(_key_values(store, chunk))
            if as_of_ms is not None:
                values["as_of"] = as_of_ms
            wanted: dict[int, list[str]] = defaultdict(list)
            for key_id, position in await connection.execute(statement, values):
                wanted[int(position)].append(texts[key_id])
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
                    term_text(EVENTS.c.object_id),
                    func.count(),
                    func.count(EVENTS.c.actor_id.distinct()),
                    func.max(EVENTS.c.event_time),
                )
                .where(
                    EVENTS.c.object_id.in_(term_ids(chunk)),
                    EVENTS.c.action.in_(term_ids(VIEW_ACTIONS)),
                )
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
    ids = _mentioned_by_course(course_id, kind, until_ms).distinct().subquery()
    statement = select(term_text(ids.c.entity_key)).select_from(ids)
    async with store.reading() as connection:
        return sorted(row[0] for row in await connection.execute(statement))
