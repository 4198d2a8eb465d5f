"""Appending: one transaction per batch; dedupe by content, conflicts by id; positions
gapless and in commit order because they are numbered under the write lock.

Why a lock and not a sequence (or SQLite's autoincrement): a sequence hands out numbers
at INSERT time, not at commit. Two concurrent transactions take 11..20 and 21..30; if the
second commits first, a reader sees 21..30 before 11..20, and a subscription or a cursor
that has read up to 30 never sees 11..20; a rolled-back batch leaves a gap, and
`count_events` (newest position = count) miscounts. So the writer takes the write
lock first and numbers from max(position)+1 inside its transaction, exactly as
pyeventsourcing's PostgreSQL recorder locks its table before inserting:

- PostgreSQL: `pg_advisory_xact_lock`. Transaction-scoped (a session lock could leak on
  an error path), it is released only after the commit is visible, so the next writer's
  max() sees every committed row and a reader that sees position N sees all below it.
  Advisory rather than `LOCK TABLE events IN EXCLUSIVE MODE`: it queues only writers,
  never autovacuum or index builds on the table, and one key also covers writes that
  are not rows of `events` (the side tables, schema upgrades: store.schema).
- SQLite: the writer's BEGIN IMMEDIATE takes the database write lock at BEGIN.

The dedupe lookups run under the same lock, so two workers receiving the same envelope
never race into the unique index: the second one sees the first one's rows."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.caliper.model import EntityDescription, ReadBatch, ReadEvent, RejectedItem
from store.db import APPENDED_CHANNEL, Store, driver_errors_translated, lock_writes
from store.tables import EntityDescriptionRow, EventEntityRow, EventRow, RejectedItemRow

LOOKUP_CHUNK = 500

EVENTS = EventRow.__table__
EVENT_ENTITIES = EventEntityRow.__table__
DESCRIPTIONS = EntityDescriptionRow.__table__
REJECTED = RejectedItemRow.__table__


@dataclass
class AppendResult:
    appended: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)
    entities: int = 0
    first_position: int | None = None
    last_position: int | None = None

    def add(self, other: AppendResult) -> None:
        self.appended += other.appended
        self.duplicates += other.duplicates
        self.conflicts += other.conflicts
        self.rejected.extend(other.rejected)
        self.entities += other.entities
        if other.first_position is not None and self.first_position is None:
            self.first_position = other.first_position
        if other.last_position is not None:
            self.last_position = other.last_position

    def answer(self) -> dict[str, Any]:
        """The body of a 200 from /caliper."""
        return {
            "appended": self.appended,
            "duplicates": self.duplicates,
            "conflicts": self.conflicts,
            "rejected": self.rejected,
            "entities": self.entities,
        }


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _chunks(values: Sequence[Any], size: int = LOOKUP_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


async def _existing(
    connection: AsyncConnection, column: Any, values: Sequence[Any], *extra: Any
) -> list[Any]:
    found: list[Any] = []
    for chunk in _chunks(values):
        result = await connection.execute(select(column, *extra).where(column.in_(chunk)))
        found.extend(result.all())
    return found


async def append_batch(
    store: Store, batch: ReadBatch, *, source: str, received_at_ms: int | None = None
) -> AppendResult:
    """Store a whole batch in one transaction: all of it, or nothing."""
    received_at = received_at_ms if received_at_ms is not None else now_ms()
    result = AppendResult(
        rejected=[{"path": item.path, "reason": item.reason} for item in batch.rejected],
        entities=len(batch.descriptions),
    )
    with driver_errors_translated():
        async with store.write_lock, store.writer.begin() as connection:
            await lock_writes(connection, store)
            await _append_events(connection, batch, result, received_at)
            await _append_side_items(
                connection, batch.descriptions, batch.rejected, received_at, source
            )
            if result.last_position is not None and not store.is_sqlite:
                # NOTIFY is transactional: listeners in every process hear it once this
                # commits, and never for a batch that rolls back.
                await connection.execute(
                    text("SELECT pg_notify(:channel, :position)"),
                    {"channel": APPENDED_CHANNEL, "position": str(result.last_position)},
                )
    return result


async def _append_events(
    connection: AsyncConnection, batch: ReadBatch, result: AppendResult, received_at: int
) -> None:
    if not batch.events:
        return
    hashes = list({event.content_hash for event in batch.events})
    stored_hashes = {row[0] for row in await _existing(connection, EVENTS.c.content_hash, hashes)}
    fresh: list[ReadEvent] = []
    for event in batch.events:
        if event.content_hash in stored_hashes:
            result.duplicates += 1
            continue
        stored_hashes.add(event.content_hash)
        fresh.append(event)
    if not fresh:
        return
    ids = list({event.event_id for event in fresh if event.event_id})
    hashes_by_id: dict[str, set[str]] = {}
    for event_id, content in await _existing(
        connection, EVENTS.c.event_id, ids, EVENTS.c.content_hash
    ):
        hashes_by_id.setdefault(event_id, set()).add(content)
    for event in fresh:
        if event.event_id:
            known = hashes_by_id.setdefault(event.event_id, set())
            if known and event.content_hash not in known:
                result.conflicts += 1
            known.add(event.content_hash)

    last = (
        await connection.execute(select(func.coalesce(func.max(EVENTS.c.position), 0)))
    ).scalar()
    position = int(last or 0)
    event_rows: list[dict[str, Any]] = []
    entity_rows: list[dict[str, Any]] = []
    for event in fresh:
        position += 1
        event_rows.append(
            {
                "position": position,
                "event_id": event.event_id,
                "content_hash": event.content_hash,
                "type": event.type,
                "action": event.action,
                "event_time": event.event_time_ms,
                "received_at": received_at,
                # Each event keeps its own envelope's sensor: a batch spans many envelopes.
                "sensor": event.sensor,
                "style": event.style,
                "actor_id": event.actor_id,
                "object_id": event.object_id,
                "course_id": event.course_id,
                "raw": event.raw_json.decode(),
            }
        )
        entity_rows.extend(entity_index_rows(event, position))
    await connection.execute(insert(EVENTS), event_rows)
    if entity_rows:
        await connection.execute(insert(EVENT_ENTITIES), entity_rows)
    result.appended += len(fresh)
    result.first_position = event_rows[0]["position"]
    result.last_position = position


def entity_index_rows(event: ReadEvent, position: int) -> list[dict[str, Any]]:
    """The entity index rows of one event; verify rebuilds them with this too."""
    seen: set[tuple[str, str]] = set()
    rows = []
    for ref in event.entities:
        if (ref.kind, ref.key) in seen:
            continue
        seen.add((ref.kind, ref.key))
        rows.append(
            {
                "kind": ref.kind,
                "entity_key": ref.key,
                "position": position,
                "event_time": event.event_time_ms,
                "course_id": event.course_id,
                "alt_key": ref.alt_key,
            }
        )
    return rows


async def _append_side_items(
    connection: AsyncConnection,
    descriptions: Sequence[EntityDescription],
    rejected: Sequence[RejectedItem],
    received_at: int,
    source: str,
) -> None:
    await _insert_new(
        connection,
        DESCRIPTIONS,
        [
            {
                "content_hash": item.content_hash,
                "entity_id": item.entity_id,
                "entity_type": item.entity_type,
                "received_at": received_at,
                "source": f"{source} {item.path}".strip(),
                "raw": item.raw_json.decode(),
            }
            for item in descriptions
        ],
    )
    await _insert_new(
        connection,
        REJECTED,
        [
            {
                "content_hash": item.content_hash,
                "received_at": received_at,
                "reason": item.reason,
                "path": item.path,
                "raw": item.raw_json.decode(),
            }
            for item in rejected
        ],
    )


async def _insert_new(connection: AsyncConnection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert the rows whose content_hash is not stored yet (nor earlier in `rows`)."""
    if not rows:
        return
    hashes = [row["content_hash"] for row in rows]
    known = {found[0] for found in await _existing(connection, table.c.content_hash, hashes)}
    fresh = []
    for row in rows:
        if row["content_hash"] not in known:
            known.add(row["content_hash"])
            fresh.append(row)
    if fresh:
        await connection.execute(insert(table), fresh)
