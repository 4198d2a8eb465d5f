"""Engines for SQLite (default, embedded) and PostgreSQL, and the lock that serialises
writers. The schema itself (tables, guards) comes from store/migrations."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy.exc
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from store.errors import StoreUnavailable
from store.identity import IdentityWatch, file_identity, remember_database_oid
from store.statement_cache import CompiledStatementCache

log = logging.getLogger("coursegraph.store")

SQLITE_BUSY_TIMEOUT_MS = 30_000
# The writer's connection only (readers keep SQLite's defaults). Every commit writes each
# index page it touched to the WAL, and a checkpoint copies them into the database file:
# a larger WAL between checkpoints copies a page rewritten by many small commits (POST
# /caliper's) once, and a larger cache keeps the index pages those commits touch.
SQLITE_WRITER_CACHE_KIB = 16_384
SQLITE_WRITER_CHECKPOINT_PAGES = 10_000  # ~40 MB of WAL
# After a checkpoint the WAL file is cut back to this size (it is reused, not regrown).
SQLITE_WAL_SIZE_LIMIT_BYTES = 67_108_864

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
    # Which database the URL leads to now (store.identity): caches key their values with it.
    identity_watch: IdentityWatch = field(default_factory=IdentityWatch)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """A reader connection; driver errors leave as StoreUnavailable."""
        with driver_errors_translated():
            async with self.reader.connect() as connection:
                yield connection

    async def close(self) -> None:
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()


# What SQLite says when the database cannot serve now (locked past the busy timeout,
# full, read-only, the file gone); other OperationalErrors are mistakes in a statement.
_SQLITE_UNAVAILABLE = (
    "database is locked",
    "database is busy",
    "disk i/o error",
    "database or disk is full",
    "unable to open database",
    "readonly database",
    "no such table",
)


def _causes(error: BaseException) -> list[BaseException]:
    """The error, what the DBAPI adapter wrapped, and what the driver raised under it."""
    found: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(found) < 6 and current not in found:
        found.append(current)
        current = getattr(current, "orig", None) or current.__cause__
    return found


_POSTGRES_UNAVAILABLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.InvalidCatalogNameError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.DiskFullError,
    asyncpg.ReadOnlySQLTransactionError,
    asyncpg.LockNotAvailableError,
    asyncpg.QueryCanceledError,
    asyncpg.InterfaceError,
)


def unavailable_reason(error: BaseException) -> str | None:
    """Why the database cannot answer, in words safe to show, when `error` says so."""
    if isinstance(error, sqlalchemy.exc.TimeoutError):
        return "every database connection is busy"
    if isinstance(error, sqlalchemy.exc.DBAPIError) and error.connection_invalidated:
        return "the connection to the database was lost"
    for cause in _causes(error):
        if isinstance(cause, _POSTGRES_UNAVAILABLE):
            return f"PostgreSQL: {type(cause).__name__}"
        if isinstance(cause, sqlite3.OperationalError):
            text = str(cause).lower()
            for known in _SQLITE_UNAVAILABLE:
                if known in text:
                    return f"SQLite: {known}"
        if isinstance(cause, OSError):
            return "the database server cannot be reached"
    return None


@contextlib.contextmanager
def driver_errors_translated() -> Iterator[None]:
    """Driver errors that mean "not now" become StoreUnavailable (no driver, SQL or
    parameter text); others pass unchanged."""
    try:
        yield
    except (sqlalchemy.exc.SQLAlchemyError, sqlite3.Error, asyncpg.PostgresError, OSError) as error:
        reason = unavailable_reason(error)
        if reason is None:
            raise
        raise StoreUnavailable(reason) from error


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" hook issue BEGIN itself (pysqlite's own is deferred).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_writer_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_WRITER_CACHE_KIB}")
    cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WRITER_CHECKPOINT_PAGES}")
    cursor.execute(f"PRAGMA journal_size_limit={SQLITE_WAL_SIZE_LIMIT_BYTES}")
    cursor.close()


def _sqlite_engine(url: str, *, immediate: bool) -> AsyncEngine:
    engine = create_async_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        execution_options={"compiled_cache": CompiledStatementCache()},
    )
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    if immediate:  # the writer
        event.listen(engine.sync_engine, "connect", _sqlite_writer_pragmas)
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


def create_private_file(path: Path) -> None:
    """Create a new SQLite database file readable by its owner only (0600): it holds
    students' grades. SQLite gives its -wal and -shm files the database file's mode. An
    existing file keeps its mode and owner."""
    if str(path) == ":memory:" or str(path).startswith("file:"):
        return
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(descriptor)


def create_store(url: str) -> Store:
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        path = sqlite_path(url)
        watch = IdentityWatch()
        if path is not None and str(path) != ":memory:" and not str(path).startswith("file:"):
            create_private_file(path)
            watch.sqlite_path = path.resolve()
            watch.opened = file_identity(watch.sqlite_path)
        # The writer takes the write lock at BEGIN, so a transaction never fails
        # half-way with "database is locked"; readers use plain deferred BEGIN.
        return Store(
            url=url,
            dialect="sqlite",
            reader=_sqlite_engine(url, immediate=False),
            writer=_sqlite_engine(url, immediate=True),
            identity_watch=watch,
        )
    if backend == "postgresql":
        engine = create_async_engine(
            url,
            pool_size=10,
            max_overflow=10,
            pool_pre_ping=True,
            execution_options={"compiled_cache": CompiledStatementCache()},
        )
        store = Store(url=url, dialect="postgresql", reader=engine, writer=engine)
        event.listen(engine.sync_engine, "connect", remember_database_oid(store.identity_watch))
        return store
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


async def check_read_write(store: Store, *, min_free_bytes: int) -> None:
    """Prove the database answers a read and commits a write; StoreUnavailable (with a
    reason fit for a client, never driver text) otherwise.

    The write rewrites the schema's revision row with its own value: a real committed
    change on both backends, so a read-only database (file, file system, or PostgreSQL's
    default_transaction_read_only) fails it, with no table of its own. A full disk may
    still take a write into WAL pages SQLite reuses, so for SQLite the free space of the
    database's file system is checked too."""
    path = sqlite_path(store.url)
    if path is not None:
        try:
            free = shutil.disk_usage(path.resolve().parent).free
        except OSError as error:
            log.warning("health: cannot stat the database's folder: %s", error)
            raise StoreUnavailable("the database's folder cannot be read") from None
        if free < min_free_bytes:
            raise StoreUnavailable(
                f"the database's disk is full ({free} bytes free, fewer than "
                f"COURSEGRAPH_HEALTH_MIN_FREE_BYTES={min_free_bytes})"
            )
    try:
        async with store.reading() as connection:
            await connection.execute(text("SELECT count(*) FROM alembic_version"))
    except Exception as error:  # translated here: nothing above the store sees driver text
        log.warning("health: the database cannot be read: %s", error)
        raise StoreUnavailable("the database cannot be read") from None
    try:
        async with store.writer.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
    except Exception as error:
        log.warning("health: the database cannot be written: %s", error)
        raise StoreUnavailable("the database cannot be written (read-only or full?)") from None
