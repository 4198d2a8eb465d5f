"""Course analytics: the course's events by eventTime with their actor, index-only.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Activity per bucket and per person reads (course_id, event_time, actor_id) only:
    # with this index neither backend touches the (wide) rows. IF NOT EXISTS: a database
    # from before migrations (create_all of today's tables) may hold it already.
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_events_course_time "
        "ON events (course_id, event_time, actor_id)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_events_course_time")
