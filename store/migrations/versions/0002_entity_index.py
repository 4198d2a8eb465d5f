"""The entity index (event_entities), filled from the log with the writer's own code.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

# The reader's and the writer's rules of today, whichever revision the log was stored at.
from app.caliper.model import ReadEvent
from app.caliper.reader import read_item
from store.append import entity_index_rows

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

CHUNK = 2_000
ENTITIES = sa.table(
    "event_entities",
    *(
        sa.column(name)
        for name in ("kind", "entity_key", "position", "event_time", "course_id", "alt_key")
    ),
)
EVENTS = sa.table("events", sa.column("position"), sa.column("raw"))


# Frozen here as this revision created it (store.tables.COURSE_INDEXED_PREDICATE).
COURSE_INDEXED_PREDICATE = "kind IN ('group', 'content', 'attempt', 'calculated_grade')"


def upgrade() -> None:
    # The index is derived from the log: a database built before migrations existed may
    # hold one already (store.schema stamps those at 0001), so it is rebuilt, not trusted.
    op.execute("DROP TABLE IF EXISTS event_entities")
    op.create_table(
        "event_entities",
        sa.Column("kind", sa.Text, primary_key=True),
        sa.Column("entity_key", sa.Text, primary_key=True),
        sa.Column("event_time", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("course_id", sa.Text, nullable=True),
        sa.Column("alt_key", sa.Text, nullable=True),
        # SQLite keeps the rows in key order: an entity's timeline is one range.
        sqlite_with_rowid=False,
    )
    _fill_from_log(op.get_bind())
    # Built after the fill: one sort per index instead of one update per row.
    op.create_index(
        "ix_event_entities_course",
        "event_entities",
        ["course_id", "kind", "event_time", "position"],
        sqlite_where=sa.text(COURSE_INDEXED_PREDICATE),
        postgresql_where=sa.text(COURSE_INDEXED_PREDICATE),
    )
    op.create_index(
        "ix_event_entities_alt_key", "event_entities", ["kind", "alt_key", "entity_key"]
    )
    op.create_index("ix_event_entities_position", "event_entities", ["position"])


def downgrade() -> None:
    op.drop_table("event_entities")


def _fill_from_log(connection: sa.Connection) -> None:
    """Index every stored event exactly as the writer indexes a new one."""
    after = 0
    while rows := connection.execute(
        sa.select(EVENTS.c.position, EVENTS.c.raw)
        .where(EVENTS.c.position > after)
        .order_by(EVENTS.c.position)
        .limit(CHUNK)
    ).all():
        index_rows = [row for position, raw in rows for row in _index_rows(position, raw)]
        if index_rows:
            connection.execute(sa.insert(ENTITIES), index_rows)
        after = rows[-1][0]


def _index_rows(position: int, raw: str) -> list[dict[str, Any]]:
    event = read_item(orjson.loads(raw), f"events[{position}]")
    if not isinstance(event, ReadEvent):
        return []  # stored as an event by older rules: kept in the log, left out of the index
    # Only this revision's columns: a later revision may give the writer's rows more keys.
    names = ENTITIES.c.keys()
    return [{name: row[name] for name in names} for row in entity_index_rows(event, position)]
