"""Which database a store is reading: what tells its contents from those of a database
that replaced it at the same URL (a new SQLite file moved over the old path; a
PostgreSQL database dropped and made again under its name). Log positions start again
in a new database, so a value stamped with a position is only valid together with this.

The one place that says what a store's identity is (a store generation, once erasure
can rewrite the log, joins it here)."""

from __future__ import annotations

import os
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from store.db import Store

DATABASE_OID = "SELECT oid FROM pg_database WHERE datname = current_database()"


@dataclass
class IdentityWatch:
    """What the store knows of its database's identity.

    SQLite: `opened` is the (st_dev, st_ino) of the file its pooled connections were
    opened on; a pooled connection keeps reading a file moved away, so a new one means
    closing them. PostgreSQL: `database_oid` is set by every new connection (a database
    cannot be dropped while a connection to it is open, so the first connection to its
    replacement is a new one and tells)."""

    sqlite_path: Path | None = None
    opened: tuple[int, int] | None = None
    database_oid: int | None = None


def file_identity(path: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None  # gone: reads fail as unavailable until a file is back
    return (found.st_dev, found.st_ino)


def current_identity(store: Store) -> tuple[Hashable, ...]:
    """The store's identity now; cheap enough for every cache lookup (SQLite: one
    stat() of the file; PostgreSQL: a field set when a connection opens)."""
    watch = store.identity_watch
    if watch.sqlite_path is not None:
        return (store.url, file_identity(watch.sqlite_path))
    if store.is_sqlite:
        return (store.url, id(store))  # in memory: no other process sees it
    return (store.url, watch.database_oid)


async def refreshed_identity(store: Store) -> tuple[Hashable, ...]:
    """current_identity, after making sure the store's connections read that database:
    when the SQLite file was replaced, the pooled connections to the old one are closed
    (those in use are closed as they come back). PostgreSQL's oid is learnt by opening a
    connection when none has been opened yet."""
    watch = store.identity_watch
    if watch.sqlite_path is not None:
        now = file_identity(watch.sqlite_path)
        if now != watch.opened:
            if watch.opened is not None:
                await store.reader.dispose()
                if store.writer is not store.reader:
                    await store.writer.dispose()
            watch.opened = now
    elif not store.is_sqlite and watch.database_oid is None:
        async with store.reading() as connection:
            await connection.exec_driver_sql("SELECT 1")
    return current_identity(store)


def remember_database_oid(watch: IdentityWatch) -> Any:
    """A `connect` listener for a PostgreSQL engine: each new connection records the oid
    of the database it reached."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(DATABASE_OID)
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is not None:
            watch.database_oid = int(row[0])

    return on_connect
