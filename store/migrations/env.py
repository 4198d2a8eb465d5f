"""Alembic's entry point. store.schema runs it with the connection it has already opened
and locked, so there is no alembic.ini and no URL here: migrations run the same from any
working directory, inside the caller's transaction (one transaction for a whole upgrade,
DDL included, on SQLite and PostgreSQL alike).

A new migration: versions/NNNN_what.py with `revision = "NNNN"` and `down_revision` the
previous head, written for both backends; change store/tables.py to match (a test compares
the migrated schema with it on both backends)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import store.tables  # noqa: F401  (registers the tables, for autogenerate comparisons)

# A SQLite migration that recreates `events` in batch mode drops its triggers with the old
# table: such a migration must create the guards of 0001 again.

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError(
        "coursegraph migrations run through `coursegraph db upgrade` (store.schema), "
        "not the alembic command line"
    )
context.configure(connection=connection, target_metadata=SQLModel.metadata)
with context.begin_transaction():
    context.run_migrations()
