"""The schema: one Alembic history (store/migrations) for SQLite and PostgreSQL.

An empty database is created at head on first use, by running the migrations themselves,
so a new database and an upgraded one are the same. Any other database must already be
at head: only `coursegraph db upgrade` migrates, never a starting worker, because other
workers (or an older deployment) may be using the schema it would change."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection

from store.db import Store, lock_writes, sqlite_path

MIGRATIONS = Path(__file__).parent / "migrations"
# Databases built before migrations existed (create_all + guards) hold 0001's tables.
BASELINE = "0001"
UPGRADE_COMMAND = "coursegraph db upgrade"


class SchemaNotReady(RuntimeError):
    """The database is not at this version's schema; the message says what to do."""


@dataclass(frozen=True, slots=True)
class SchemaState:
    revision: str | None  # the Alembic revision stored in the database
    has_log: bool  # the events table exists

    @property
    def is_empty(self) -> bool:
        return self.revision is None and not self.has_log


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None, "store/migrations/versions holds no migration"
    return head


def _config(connection: Connection) -> Config:
    config = Config()
    # ConfigParser interpolates `%`, which a checkout path may contain.
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def _read_state(connection: Connection) -> SchemaState:
    revision = MigrationContext.configure(connection).get_current_revision()
    return SchemaState(revision=revision, has_log=inspect(connection).has_table("events"))


def _is_known(revision: str) -> bool:
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def _explain(state: SchemaState) -> str | None:
    """None when the database is at head (or empty); else what is wrong and what to run."""
    head = head_revision()
    if state.revision == head or state.is_empty:
        return None
    if state.revision is not None and not _is_known(state.revision):
        return _newer_than_code(state.revision)
    found = f"at revision {state.revision}" if state.revision else "from before schema migrations"
    return (
        f"coursegraph: the database schema is out of date ({found}; this version needs "
        f"{head}). Run `{UPGRADE_COMMAND}` with the same COURSEGRAPH_DATABASE_URL, "
        "then start again."
    )


def _newer_than_code(revision: str) -> str:
    return (
        f"coursegraph: the database schema is at revision {revision}, which this version "
        f"of coursegraph does not know (its newest is {head_revision()}): the database was "
        "upgraded by a newer coursegraph; run that version."
    )


def _prepare(connection: Connection) -> None:
    state = _read_state(connection)
    if state.is_empty:
        command.upgrade(_config(connection), "head")
        return
    problem = _explain(state)
    if problem:
        raise SchemaNotReady(problem)


async def prepare_schema(store: Store) -> None:
    """Create an empty database at head; accept one at head; raise SchemaNotReady otherwise.

    Under the write lock, so workers starting together on an empty database create it
    once: the others wait, then find it at head."""
    async with store.writer.begin() as connection:
        await lock_writes(connection, store)
        await connection.run_sync(_prepare)


def _upgrade(connection: Connection, revision: str) -> tuple[str | None, str | None]:
    state = _read_state(connection)
    if state.revision is not None and not _is_known(state.revision):
        raise SchemaNotReady(_newer_than_code(state.revision))
    if state.revision is None and state.has_log:
        command.stamp(_config(connection), BASELINE)
    command.upgrade(_config(connection), revision)
    return state.revision, _read_state(connection).revision


# The revision from which the entity index and course_numbers are left for the caller to
# rebuild (they need the Caliper reader, which migrations never import).
DERIVED_REBUILT_FROM = "0004"

RebuildDerived = Callable[[AsyncConnection], Awaitable[None]]


def needs_derived_rebuild(before: str | None, after: str | None) -> bool:
    """Whether an upgrade from `before` to `after` crossed DERIVED_REBUILT_FROM."""
    if after is None or before == after:
        return False
    crossed = {script.revision for script in _scripts().iterate_revisions(after, before)}
    return DERIVED_REBUILT_FROM in crossed


async def upgrade_schema(
    store: Store, revision: str = "head", rebuild_derived: RebuildDerived | None = None
) -> tuple[str | None, str | None]:
    """Migrate to `revision` in one transaction under the write lock (appends wait for it,
    so a data migration sees the whole log), then, when a migration left them empty,
    rebuild the derived tables in the same transaction: a failure changes nothing.
    Returns the revisions before and after."""
    async with store.writer.begin() as connection:
        await lock_writes(connection, store)
        before, after = await connection.run_sync(_upgrade, revision)
        if rebuild_derived is not None and needs_derived_rebuild(before, after):
            await rebuild_derived(connection)
        return before, after


async def reclaim_space(store: Store) -> None:
    """After a data migration rewrote the log: SQLite gives the file system back the
    pages it freed (VACUUM, outside any transaction, once the upgrade has committed);
    PostgreSQL gathers the new tables' statistics (ANALYZE), as autovacuum would later."""
    path = sqlite_path(store.url)
    if path is None:
        # The rewritten tables have no statistics yet: the planner needs them now.
        async with store.writer.begin() as connection:
            await connection.execute(text("ANALYZE"))
        return

    def vacuum() -> None:
        connection = sqlite3.connect(path, isolation_level=None)
        try:
            connection.execute("VACUUM")
        finally:
            connection.close()

    await asyncio.to_thread(vacuum)
