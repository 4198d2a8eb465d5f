"""Opening the store ready for use: the first start on an empty database needs no step;
a database at an older schema needs `coursegraph db upgrade`, which nothing runs silently."""

from __future__ import annotations

from store.db import Store, create_store
from store.schema import (
    SchemaNotReady,
    needs_derived_rebuild,
    prepare_schema,
    reclaim_space,
    upgrade_schema,
)


async def open_ready_store(url: str) -> Store:
    """The store, its schema created when the database is empty; SchemaNotReady when the
    database is at another schema (the message names the command to run)."""
    store = create_store(url)
    try:
        await prepare_schema(store)
    except BaseException:
        await store.close()
        raise
    return store


async def check_schema_or_explain(url: str) -> str | None:
    """None when `serve` may start; else what to run."""
    store = create_store(url)
    try:
        await prepare_schema(store)
    except SchemaNotReady as problem:
        return str(problem)
    finally:
        await store.close()
    return None


async def upgrade(url: str) -> tuple[str | None, str | None]:
    """`coursegraph db upgrade`: the schema revisions before and after."""
    from app.verify import rebuild_derived

    store = create_store(url)
    try:
        before, after = await upgrade_schema(store, rebuild_derived=rebuild_derived)
        if needs_derived_rebuild(before, after):  # the log was rewritten: free its old pages
            await reclaim_space(store)
        return before, after
    finally:
        await store.close()
