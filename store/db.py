"""Engines for SQLite (default, embedded) and PostgreSQL, and the lock that serialises
writers. The schema itself (tables, guards) comes from store/migrations."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000

# Any constant works: every writer on every worker asks for the same key.
WRITE_LOCK_KEY = 0x636F757273656772  # "coursegr"

# PostgreSQL: every committed append NOTIFYs this channel with its newest position.
APPENDED_CHANNEL = "coursegraph_appended"


@dataclass
class Store:
    """The database: a reader engine, and a writer that appends one batch at a time."""

    url: str
    dialect: str
    reader: AsyncEngine
    writer: AsyncEngine
    # Within one process every append queues here; across processes the database
    # lock (BEGIN IMMEDIATE / an advisory lock) serialises them.
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    async def close(self) -> None:
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" hook issue BEGIN itself (pysqlite's own is deferred).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_engine(url: str, *, immediate: bool) -> AsyncEngine:
    engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)

    return engine


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database)


def create_store(url: str) -> Store:
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        path = sqlite_path(url)
        if path is not None and path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        # The writer takes the write lock at BEGIN, so a transaction never fails
        # half-way with "database is locked"; readers use plain deferred BEGIN.
        return Store(
            url=url,
            dialect="sqlite",
            reader=_sqlite_engine(url, immediate=False),
            writer=_sqlite_engine(url, immediate=True),
        )
    if backend == "postgresql":
        engine = create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
        return Store(url=url, dialect="postgresql", reader=engine, writer=engine)
    raise ValueError(
        f"unsupported database URL {url!r}: use sqlite+aiosqlite:// or postgresql+asyncpg://"
    )


async def lock_writes(connection: AsyncConnection, store: Store) -> None:
    """Serialise writers of the log and its schema until this transaction ends.

    SQLite needs nothing more: the writer's BEGIN IMMEDIATE already holds the database's
    write lock. PostgreSQL takes a transaction-scoped advisory lock, released only after
    the commit is visible (see store.append for why positions need it)."""
    if not store.is_sqlite:
        await connection.execute(text(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})"))


async def ping(store: Store) -> None:
    async with store.reader.connect() as connection:
        await connection.execute(text("SELECT 1"))
