"""Creating and checking the schema."""

from __future__ import annotations

from sqlmodel import SQLModel

import store.tables  # noqa: F401  (registers the tables)
from store.db import Store, install_guards


async def prepare_schema(store: Store) -> None:
    """First start on an empty database needs no step: create tables and guards."""
    async with store.writer.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
    await install_guards(store)
