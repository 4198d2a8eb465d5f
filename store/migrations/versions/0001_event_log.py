"""The event log, entity descriptions, rejected items, and the guards on the log.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

SQLITE_GUARDS = (
    "CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events "
    "BEGIN SELECT RAISE(ABORT, 'the event log is append-only: UPDATE refused'); END",
    "CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events "
    "BEGIN SELECT RAISE(ABORT, 'the event log is append-only: DELETE refused'); END",
)

# Statement-level, so even an UPDATE or DELETE matching no row is refused; TRUNCATE too.
POSTGRES_GUARDS = (
    """CREATE OR REPLACE FUNCTION coursegraph_refuse_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'the event log is append-only: % refused', TG_OP;
    END;
    $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER events_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE ON events "
    "FOR EACH STATEMENT EXECUTE FUNCTION coursegraph_refuse_change()",
)


def upgrade() -> None:
    _create_events()
    _create_side_tables()
    guards = SQLITE_GUARDS if op.get_bind().dialect.name == "sqlite" else POSTGRES_GUARDS
    for statement in guards:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("the event log is never dropped by a migration")


def _create_events() -> None:
    op.create_table(
        "events",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.Text, nullable=True),
        sa.Column("content_hash", sa.Text, nullable=False, unique=True),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("event_time", sa.BigInteger, nullable=False),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.Column("sensor", sa.Text, nullable=True),
        sa.Column("style", sa.Text, nullable=False),
        sa.Column("actor_id", sa.Text, nullable=True),
        sa.Column("object_id", sa.Text, nullable=True),
        sa.Column("course_id", sa.Text, nullable=True),
        sa.Column("raw", sa.Text, nullable=False),
    )
    op.create_index("ix_events_course_position", "events", ["course_id", "position"])
    op.create_index("ix_events_type_position", "events", ["type", "position"])
    op.create_index("ix_events_actor", "events", ["actor_id"])
    op.create_index("ix_events_object", "events", ["object_id"])
    op.create_index("ix_events_event_id", "events", ["event_id"])
    op.create_index("ix_events_event_time", "events", ["event_time"])


def _create_side_tables() -> None:
    op.create_table(
        "entity_descriptions",
        sa.Column("row_id", sa.Integer, primary_key=True),
        sa.Column("content_hash", sa.Text, nullable=False, unique=True),
        sa.Column("entity_id", sa.Text, nullable=False),
        sa.Column("entity_type", sa.Text, nullable=False),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
    )
    op.create_index("ix_entity_descriptions_entity_id", "entity_descriptions", ["entity_id"])
    op.create_table(
        "rejected_items",
        sa.Column("row_id", sa.Integer, primary_key=True),
        sa.Column("content_hash", sa.Text, nullable=False, unique=True),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
    )
