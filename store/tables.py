"""SQLModel tables: the append-only event log, its entity index, entity descriptions
found in envelopes, and rejected items. Times are integer milliseconds (UTC)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Text, text
from sqlmodel import Field, SQLModel


class EventRow(SQLModel, table=True):
    """One stored event: the verbatim JSON plus the columns queries need."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_course_position", "course_id", "position"),
        # Course analytics: counts per bucket and per actor without reading the rows.
        Index("ix_events_course_time", "course_id", "event_time", "actor_id"),
        Index("ix_events_type_position", "type", "position"),
        Index("ix_events_actor", "actor_id"),
        Index("ix_events_object", "object_id"),
        Index("ix_events_event_id", "event_id"),
        Index("ix_events_event_time", "event_time"),
    )

    # Assigned by the writer under the append lock: gapless, in commit order.
    position: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    event_id: str | None = Field(default=None, sa_type=Text)
    # Dedupe is this unique index: equal content (ids included) is the same event.
    content_hash: str = Field(sa_type=Text, unique=True)
    type: str = Field(sa_type=Text)
    action: str = Field(sa_type=Text)
    event_time: int = Field(sa_type=BigInteger)
    received_at: int = Field(sa_type=BigInteger)
    sensor: str | None = Field(default=None, sa_type=Text)
    style: str = Field(sa_type=Text)
    actor_id: str | None = Field(default=None, sa_type=Text)
    object_id: str | None = Field(default=None, sa_type=Text)
    course_id: str | None = Field(default=None, sa_type=Text)
    raw: str = Field(sa_type=Text)


# Entity kinds a course lists (groups, content items, attempts, calculated grades).
COURSE_INDEXED_KINDS = ("group", "content", "attempt", "calculated_grade")
COURSE_INDEXED_PREDICATE = "kind IN ('group', 'content', 'attempt', 'calculated_grade')"


class EventEntityRow(SQLModel, table=True):
    """Which entities each event touches: derived from the log, rebuilt by verify."""

    __tablename__ = "event_entities"
    __table_args__ = (
        # Only the kinds read course by course: course and person rows, most of the
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
        # Covering for "which entities carry this courseNumber / bb:user.id".
        Index("ix_event_entities_alt_key", "kind", "alt_key", "entity_key"),
        Index("ix_event_entities_position", "position"),
        # On SQLite the rows live in primary-key order (no rowid): one entity's timeline
        # is one contiguous range, read without a lookup per row.
        {"sqlite_with_rowid": False},
    )

    kind: str = Field(sa_type=Text, primary_key=True)
    entity_key: str = Field(sa_type=Text, primary_key=True)
    event_time: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    position: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    course_id: str | None = Field(default=None, sa_type=Text)
    alt_key: str | None = Field(default=None, sa_type=Text)


class EntityDescriptionRow(SQLModel, table=True):
    """An entity (Person, Membership, …) sent beside the events in an envelope."""

    __tablename__ = "entity_descriptions"

    row_id: int | None = Field(default=None, primary_key=True)
    content_hash: str = Field(sa_type=Text, unique=True)
    entity_id: str = Field(sa_type=Text, index=True)
    entity_type: str = Field(sa_type=Text)
    received_at: int = Field(sa_type=BigInteger)
    source: str = Field(sa_type=Text)
    raw: str = Field(sa_type=Text)


class RejectedItemRow(SQLModel, table=True):
    """An item that could not be stored as an event, kept verbatim with the reason."""

    __tablename__ = "rejected_items"

    row_id: int | None = Field(default=None, primary_key=True)
    content_hash: str = Field(sa_type=Text, unique=True)
    received_at: int = Field(sa_type=BigInteger)
    reason: str = Field(sa_type=Text)
    path: str = Field(sa_type=Text)
    raw: str = Field(sa_type=Text)


APPEND_ONLY_TABLES = ("events",)
