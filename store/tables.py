"""SQLModel tables: the append-only event log, its entity index, entity descriptions
found in envelopes, and rejected items. Times are integer milliseconds (UTC).

Layout (revision 0004): every repeated string (IRIs, types, actions, sensors, styles,
course numbers, user ids) is stored once in `terms` and referred to by its integer id;
raw JSON is compressed (store.codec, its codec id on each row); content hashes are 16
bytes. Each index says which query it serves: none is kept that no query reads."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, SmallInteger, Text, text
from sqlmodel import Field, SQLModel

# SQLite: "INTEGER PRIMARY KEY" is the rowid itself (no second copy, no separate index);
# BIGINT PRIMARY KEY would be both. PostgreSQL keeps 64 bits.
RowId = BigInteger().with_variant(Integer(), "sqlite")
# Text compared and sorted by code point, as Python does (SQLite's default BINARY).
ByteOrderText = Text().with_variant(Text(collation="C"), "postgresql")


class TermRow(SQLModel, table=True):
    """A string stored once: ids are numbered by the writer under the write lock."""

    __tablename__ = "terms"

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    # Unique: the writer's lookup of a batch's strings, and every filter by text.
    text: str = Field(sa_type=Text, unique=True)


class EventRow(SQLModel, table=True):
    """One stored event: its compressed JSON plus the columns queries need (term ids)."""

    __tablename__ = "events"
    __table_args__ = (
        # events(filter: {course}) in position order; course_stamp (max position).
        Index("ix_events_course_position", "course_id", "position"),
        # Course analytics (activity, participants, time span) read this alone;
        # events(filter: {course, since}).
        Index("ix_events_course_time", "course_id", "event_time", "actor_id"),
        # events(filter: {type}) (and course + type, when the course is large).
        Index("ix_events_type_position", "type", "position"),
        # events(filter: {action}) in position order (Viewed is half the log: no sort).
        Index("ix_events_action_position", "action", "position"),
        # events(filter: {action, since}): the range since, then a sort of it.
        Index("ix_events_action_time", "action", "event_time"),
        # events(filter: {actor}) in position order (the Learn application acts in
        # every grade event: no sort).
        Index("ix_events_actor_position", "actor_id", "position"),
        # events(filter: {actor, since}).
        Index("ix_events_actor_time", "actor_id", "event_time"),
        # events(filter: {object}); view counts per object (action, time, actor in it).
        Index("ix_events_object", "object_id", "action", "event_time", "actor_id"),
        # events(filter: {since}) alone: the range since, then a sort of it.
        Index("ix_events_event_time", "event_time"),
        # The writer's conflict check: which stored events carry this event id.
        Index("ix_events_event_key", "event_key"),
    )

    # Assigned by the writer under the append lock: gapless, in commit order.
    position: int = Field(sa_column=Column(RowId, primary_key=True, autoincrement=False))
    # The event's id (kept in the raw JSON) as a signed 64-bit hash: the lookup key only.
    event_key: int | None = Field(default=None, sa_type=BigInteger)
    # Dedupe is this unique index: equal content (ids included) is the same event.
    content_hash: bytes = Field(sa_type=LargeBinary, unique=True)
    type: int = Field(sa_type=Integer)
    action: int = Field(sa_type=Integer)
    event_time: int = Field(sa_type=BigInteger)
    received_at: int = Field(sa_type=BigInteger)
    sensor: int | None = Field(default=None, sa_type=Integer)
    style: int = Field(sa_type=Integer)
    actor_id: int | None = Field(default=None, sa_type=Integer)
    object_id: int | None = Field(default=None, sa_type=Integer)
    course_id: int | None = Field(default=None, sa_type=Integer)
    codec: int = Field(sa_type=SmallInteger)
    raw: bytes = Field(sa_type=LargeBinary)


# Entity kinds as the index stores them (frozen: stored rows hold these numbers).
KIND_CODES = {
    "course": 1,
    "group": 2,
    "content": 3,
    "gradable_item": 4,
    "attempt": 5,
    "calculated_grade": 6,
    "person": 7,
}
KIND_NAMES = {code: name for name, code in KIND_CODES.items()}
# Entity kinds a course lists (groups, content items, attempts, calculated grades).
COURSE_INDEXED_KINDS = ("group", "content", "attempt", "calculated_grade")
COURSE_INDEXED_PREDICATE = "kind IN (2, 3, 5, 6)"


class EventEntityRow(SQLModel, table=True):
    """Which entities each event touches: derived from the log, rebuilt by verify."""

    __tablename__ = "event_entities"
    __table_args__ = (
        # A course's groups/content/attempts/calculated grades (events_of_course_entities,
        # course_entities_stamp). Only those kinds: course and person rows, most of the
        # table, would cost every append an index entry that no query reads.
        Index(
            "ix_event_entities_course",
            "course_id",
            "kind",
            "event_time",
            "position",
            sqlite_where=text(COURSE_INDEXED_PREDICATE),
            postgresql_where=text(COURSE_INDEXED_PREDICATE),
        ),
        # Covering for "which entities carry this courseNumber / bb:user.id" and every
        # number a course has had; rows without one are left out.
        Index(
            "ix_event_entities_alt_key",
            "kind",
            "alt_key",
            "entity_key",
            sqlite_where=text("alt_key IS NOT NULL"),
            postgresql_where=text("alt_key IS NOT NULL"),
        ),
        # What changed after a position (entities_touched_after, alt_keys_between), verify.
        Index("ix_event_entities_position", "position"),
        # On SQLite the rows live in primary-key order (no rowid): one entity's timeline
        # is one contiguous range, read without a lookup per row.
        {"sqlite_with_rowid": False},
    )

    kind: int = Field(sa_column=Column(SmallInteger, primary_key=True, autoincrement=False))
    entity_key: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    event_time: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    position: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    course_id: int | None = Field(default=None, sa_type=Integer)
    alt_key: int | None = Field(default=None, sa_type=Integer)
    carries: int = Field(default=0, sa_type=SmallInteger)


class CourseNumberRow(SQLModel, table=True):
    """Each course's current courseNumber (from its newest event carrying one), kept by
    the writer so that `courses` pages in SQL; derived, rebuilt by verify."""

    __tablename__ = "course_numbers"
    __table_args__ = (
        # courses(first, after) in (courseNumber, id) order, and totalCount.
        Index("ix_course_numbers_order", "course_number", "course_iri"),
    )

    course_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    course_iri: str = Field(sa_type=ByteOrderText)
    # "" when no event carried one: `courses` sorts a missing number first, as "".
    # Byte order on both backends (PostgreSQL's "C"), as Python sorts strings.
    course_number: str = Field(default="", sa_type=ByteOrderText)
    # The (eventTime, position) the number came from: a newer one replaces it.
    number_time: int | None = Field(default=None, sa_type=BigInteger)
    number_position: int | None = Field(default=None, sa_type=BigInteger)


class EntityDescriptionRow(SQLModel, table=True):
    """An entity (Person, Membership, …) sent beside the events in an envelope."""

    __tablename__ = "entity_descriptions"

    row_id: int | None = Field(default=None, primary_key=True)
    content_hash: bytes = Field(sa_type=LargeBinary, unique=True)
    entity_id: str = Field(sa_type=Text, index=True)
    entity_type: str = Field(sa_type=Text)
    received_at: int = Field(sa_type=BigInteger)
    source: str = Field(sa_type=Text)
    codec: int = Field(sa_type=SmallInteger)
    raw: bytes = Field(sa_type=LargeBinary)


class RejectedItemRow(SQLModel, table=True):
    """An item that could not be stored as an event, kept verbatim with the reason."""

    __tablename__ = "rejected_items"

    row_id: int | None = Field(default=None, primary_key=True)
    content_hash: bytes = Field(sa_type=LargeBinary, unique=True)
    received_at: int = Field(sa_type=BigInteger)
    reason: str = Field(sa_type=Text)
    path: str = Field(sa_type=Text)
    codec: int = Field(sa_type=SmallInteger)
    raw: bytes = Field(sa_type=LargeBinary)


APPEND_ONLY_TABLES = ("events",)
