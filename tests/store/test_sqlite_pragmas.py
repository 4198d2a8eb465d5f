"""The SQLite writer's own settings (store.db): a larger page cache and WAL between
checkpoints than the readers', which keep SQLite's defaults."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from store.db import (
    SQLITE_WAL_SIZE_LIMIT_BYTES,
    SQLITE_WRITER_CACHE_KIB,
    SQLITE_WRITER_CHECKPOINT_PAGES,
    create_store,
)

PRAGMAS = ("cache_size", "wal_autocheckpoint", "journal_size_limit", "journal_mode", "synchronous")


def test_the_writer_checkpoints_less_often_than_sqlite_would(sqlite_url: str) -> None:
    async def read() -> tuple[dict[str, object], dict[str, object]]:
        store = create_store(sqlite_url)
        try:
            found = []
            for engine in (store.writer, store.reader):
                async with engine.connect() as connection:
                    found.append(
                        {
                            name: (await connection.execute(text(f"PRAGMA {name}"))).scalar()
                            for name in PRAGMAS
                        }
                    )
            return found[0], found[1]
        finally:
            await store.close()

    writer, reader = asyncio.run(read())
    assert writer == {
        "cache_size": -SQLITE_WRITER_CACHE_KIB,
        "wal_autocheckpoint": SQLITE_WRITER_CHECKPOINT_PAGES,
        "journal_size_limit": SQLITE_WAL_SIZE_LIMIT_BYTES,
        "journal_mode": "wal",
        "synchronous": 1,  # NORMAL
    }
    assert reader == {
        "cache_size": -2000,
        "wal_autocheckpoint": 1000,
        "journal_size_limit": -1,
        "journal_mode": "wal",
        "synchronous": 1,
    }
