"""Opening the store ready for use: the first start on an empty database needs no step."""

from __future__ import annotations

from store.db import Store, create_store
from store.schema import prepare_schema


async def open_ready_store(url: str) -> Store:
    store = create_store(url)
    await prepare_schema(store)
    return store


async def check_schema_or_explain(url: str) -> str | None:
    """None when `serve` may start; else what to run."""
    store = create_store(url)
    try:
        await prepare_schema(store)
    finally:
        await store.close()
    return None


async def upgrade(url: str) -> None:
    store = await open_ready_store(url)
    await store.close()
