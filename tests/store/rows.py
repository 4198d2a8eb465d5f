"""Stored rows as the tests compare them: term ids as their text, raw JSON decoded
back to the text that was stored, the event id as the raw holds it."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.caliper.model import event_id_of
from store.codec import decode
from store.read import term_text

TERM_COLUMNS = ("type", "action", "sensor", "style", "actor_id", "object_id", "course_id")


async def readable_rows(connection: AsyncConnection, table: Table) -> list[dict[str, Any]]:
    """Every row of `table` in position (or row) order, readable."""
    columns = [
        term_text(column).label(column.name) if column.name in TERM_COLUMNS else column
        for column in table.c
    ]
    order = table.c.position if "position" in table.c else table.c.row_id
    found = []
    for row in (await connection.execute(select(*columns).order_by(order))).mappings():
        readable = dict(row)
        readable["raw"] = decode(readable.pop("codec"), readable["raw"]).decode()
        readable["content_hash"] = bytes(readable["content_hash"]).hex()
        if table.name == "events":
            value = orjson.loads(readable["raw"])
            readable["event_id"] = event_id_of(value) if isinstance(value, dict) else None
        found.append(readable)
    return found
