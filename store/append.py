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

import asyncio
import hashlib
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from app.caliper.canonical import loads_stored
from app.caliper.model import (
    CARRIES_COURSE_NUMBER,
    COURSE,
    ReadBatch,
    ReadEvent,
    event_id_of,
)
from store.codec import decode, encode
from store.db import APPENDED_CHANNEL, Store, driver_errors_translated, lock_writes
from store.errors import StoreUnavailable
from store.tables import (
    KIND_CODES,
    CourseNumberRow,
    EntityDescriptionRow,
    EventEntityRow,
    EventRow,
    RejectedItemRow,
    TermRow,
)

log = logging.getLogger("coursegraph.store")

LOOKUP_CHUNK = 500

EVENTS = EventRow.__table__
EVENT_ENTITIES = EventEntityRow.__table__
DESCRIPTIONS = EntityDescriptionRow.__table__
REJECTED = RejectedItemRow.__table__
TERMS = TermRow.__table__
COURSE_NUMBERS = CourseNumberRow.__table__


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
    (result,) = await append_batches(store, [(batch, source)], received_at_ms=received_at_ms)
    return result


async def append_batches(
    store: Store,
    batches: Sequence[tuple[ReadBatch, str]],
    *,
    received_at_ms: int | None = None,
) -> list[AppendResult]:
    """Store several (batch, source) pairs in ONE transaction, all or nothing: one lock,
    one dedupe lookup, one insert per table, one NOTIFY. Each batch gets the result it
    would have had if the batches had been appended one after another, in this order."""
    received_at = received_at_ms if received_at_ms is not None else now_ms()
    parts = [(batch, source, _result_of(batch)) for batch, source in batches]
    with driver_errors_translated():
        async with store.write_lock, store.writer.begin() as connection:
            await lock_writes(connection, store)
            last_position = await _append_events(
                connection, [(batch, result) for batch, _, result in parts], received_at
            )
            await _append_side_items(
                connection, [(batch, source) for batch, source, _ in parts], received_at
            )
            if last_position is not None and not store.is_sqlite:
                # NOTIFY is transactional: listeners in every process hear it once this
                # commits, and never for a batch that rolls back.
                await connection.execute(
                    text("SELECT pg_notify(:channel, :position)"),
                    {"channel": APPENDED_CHANNEL, "position": str(last_position)},
                )
    return [result for _, _, result in parts]


def _result_of(batch: ReadBatch) -> AppendResult:
    """What a batch's answer holds before any event is looked at."""
    return AppendResult(
        rejected=[{"path": item.path, "reason": item.reason} for item in batch.rejected],
        entities=len(batch.descriptions),
    )


def event_key(event_id: str | None) -> int | None:
    """An event id as the signed 64-bit key the log indexes (the id itself is in the raw
    JSON): equal ids have equal keys; ids sharing a key are told apart by the raw."""
    if event_id is None:
        return None
    digest = hashlib.blake2b(event_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def hash_bytes(content_hash: str) -> bytes:
    """The reader's hex content hash as the 16 bytes the store keeps."""
    return bytes.fromhex(content_hash)


async def term_ids(connection: AsyncConnection, texts: Iterable[str | None]) -> dict[str, int]:
    """The term id of each text, inserting the missing ones. Only under the write lock:
    new ids are numbered from max(id) + 1, as positions are, and nothing caches them
    beyond this transaction (a rolled-back id is never seen again)."""
    wanted = list(dict.fromkeys(value for value in texts if value is not None))
    ids: dict[str, int] = dict(await _existing(connection, TERMS.c.text, wanted, TERMS.c.id))
    missing = [value for value in wanted if value not in ids]
    if missing:
        last = (await connection.execute(select(func.coalesce(func.max(TERMS.c.id), 0)))).scalar()
        new_rows = [{"id": int(last or 0) + n, "text": value} for n, value in enumerate(missing, 1)]
        await connection.execute(insert(TERMS), new_rows)
        ids.update((row["text"], row["id"]) for row in new_rows)
    return ids


async def _conflicting_ids(
    connection: AsyncConnection, event_ids: Sequence[str]
) -> dict[str, set[bytes]]:
    """Content hashes of the stored events that carry each of these ids."""
    ids_by_key: dict[int, set[str]] = {}
    for event_id in event_ids:
        ids_by_key.setdefault(event_key(event_id) or 0, set()).add(event_id)
    found: dict[str, set[bytes]] = {}
    rows = await _existing(
        connection,
        EVENTS.c.event_key,
        list(ids_by_key),
        EVENTS.c.content_hash,
        EVENTS.c.codec,
        EVENTS.c.raw,
    )
    for key, content, codec, raw in rows:
        # Rare (a replayed id with new content): the raw says which id it really holds.
        stored_id = event_id_of(loads_stored(decode(codec, raw).decode()))
        if stored_id in ids_by_key[key]:
            found.setdefault(stored_id, set()).add(bytes(content))
    return found


async def _append_events(
    connection: AsyncConnection,
    parts: Sequence[tuple[ReadBatch, AppendResult]],
    received_at: int,
) -> int | None:
    """Append the events of every part in order, counting each in its own part's result
    as a sequential append would; the newest position, or None when nothing was new."""
    events = [(event, result) for batch, result in parts for event in batch.events]
    if not events:
        return None
    hashes = list({hash_bytes(event.content_hash) for event, _ in events})
    stored_hashes = {
        bytes(row[0]) for row in await _existing(connection, EVENTS.c.content_hash, hashes)
    }
    fresh: list[tuple[ReadEvent, bytes, AppendResult]] = []
    for event, result in events:
        content = hash_bytes(event.content_hash)
        if content in stored_hashes:
            result.duplicates += 1
            continue
        stored_hashes.add(content)
        fresh.append((event, content, result))
    if not fresh:
        return None
    ids = list({event.event_id for event, _, _ in fresh if event.event_id})
    hashes_by_id = await _conflicting_ids(connection, ids)
    for event, content, result in fresh:
        if event.event_id:
            known = hashes_by_id.setdefault(event.event_id, set())
            if known and content not in known:
                result.conflicts += 1
            known.add(content)

    last = (
        await connection.execute(select(func.coalesce(func.max(EVENTS.c.position), 0)))
    ).scalar()
    position = int(last or 0)
    logical_index: list[dict[str, Any]] = []
    positioned: list[tuple[int, ReadEvent, bytes]] = []
    for event, content, result in fresh:
        position += 1
        positioned.append((position, event, content))
        logical_index.extend(entity_index_rows(event, position))
        result.appended += 1
        if result.first_position is None:
            result.first_position = position
        result.last_position = position
    terms = await term_ids(
        connection,
        [
            value
            for _, event, _ in positioned
            for value in (
                event.type,
                event.action,
                event.style,
                event.sensor,
                event.actor_id,
                event.object_id,
                event.course_id,
            )
        ]
        + [value for row in logical_index for value in (row["entity_key"], row["alt_key"])],
    )
    event_rows = []
    for position, event, content in positioned:
        codec, blob = encode(event.raw_json)
        event_rows.append(
            {
                "position": position,
                "event_key": event_key(event.event_id),
                "content_hash": content,
                "type": terms[event.type],
                "action": terms[event.action],
                "event_time": event.event_time_ms,
                "received_at": received_at,
                # Each event keeps its own envelope's sensor: a batch spans many envelopes.
                "sensor": _term(terms, event.sensor),
                "style": terms[event.style],
                "actor_id": _term(terms, event.actor_id),
                "object_id": _term(terms, event.object_id),
                "course_id": _term(terms, event.course_id),
                "codec": codec,
                "raw": blob,
            }
        )
    await connection.execute(insert(EVENTS), event_rows)
    await insert_index_rows(connection, logical_index, terms)
    return position


def _term(terms: dict[str, int], value: str | None) -> int | None:
    return None if value is None else terms[value]


def entity_index_rows(event: ReadEvent, position: int) -> list[dict[str, Any]]:
    """The entity index rows of one event, with kinds and keys as text (the store turns
    them into numbers); verify rebuilds them with this too."""
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
                "carries": ref.carries,
            }
        )
    return rows


async def insert_index_rows(
    connection: AsyncConnection,
    logical_rows: Sequence[dict[str, Any]],
    terms: dict[str, int] | None = None,
) -> None:
    """Store entity_index_rows (text keys) as the index holds them (numbers), and keep
    each course's current number (course_numbers). Under the write lock."""
    if not logical_rows:
        return
    if terms is None or any(
        value is not None and value not in terms
        for row in logical_rows
        for value in (row["entity_key"], row["alt_key"], row["course_id"])
    ):
        terms = await term_ids(
            connection,
            [
                value
                for row in logical_rows
                for value in (row["entity_key"], row["alt_key"], row["course_id"])
            ],
        )
    await connection.execute(
        insert(EVENT_ENTITIES),
        [
            {
                "kind": KIND_CODES[row["kind"]],
                "entity_key": terms[row["entity_key"]],
                "position": row["position"],
                "event_time": row["event_time"],
                "course_id": _term(terms, row["course_id"]),
                "alt_key": _term(terms, row["alt_key"]),
                "carries": row["carries"],
            }
            for row in logical_rows
        ],
    )
    await _keep_course_numbers(connection, logical_rows, terms)


async def _keep_course_numbers(
    connection: AsyncConnection, logical_rows: Sequence[dict[str, Any]], terms: dict[str, int]
) -> None:
    """Each course's newest (eventTime, position) carrying a courseNumber wins; a course
    no event numbered keeps "" (how `courses` sorts a missing number)."""
    newest: dict[str, dict[str, Any]] = {}
    for row in logical_rows:
        if row["kind"] != COURSE:
            continue
        numbered = bool(row["carries"] & CARRIES_COURSE_NUMBER) and row["alt_key"] is not None
        candidate = {
            "course_id": terms[row["entity_key"]],
            "course_iri": row["entity_key"],
            "course_number": row["alt_key"] if numbered else "",
            "number_time": row["event_time"] if numbered else None,
            "number_position": row["position"] if numbered else None,
        }
        held = newest.get(row["entity_key"])
        if held is None or (numbered and _newer(candidate, held)):
            newest[row["entity_key"]] = candidate
    if not newest:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(COURSE_NUMBERS)
    excluded = statement.excluded
    table = COURSE_NUMBERS.c
    statement = statement.on_conflict_do_update(
        index_elements=[table.course_id],
        set_={
            "course_number": excluded.course_number,
            "number_time": excluded.number_time,
            "number_position": excluded.number_position,
        },
        where=(excluded.number_time.is_not(None))
        & (
            table.number_time.is_(None)
            | (excluded.number_time > table.number_time)
            | (
                (excluded.number_time == table.number_time)
                & (excluded.number_position > table.number_position)
            )
        ),
    )
    await connection.execute(statement, list(newest.values()))


def _newer(candidate: dict[str, Any], held: dict[str, Any]) -> bool:
    if held["number_time"] is None:
        return True
    return (candidate["number_time"], candidate["number_position"]) > (
        held["number_time"],
        held["number_position"],
    )


async def _append_side_items(
    connection: AsyncConnection, parts: Sequence[tuple[ReadBatch, str]], received_at: int
) -> None:
    """The entity descriptions and rejected items of every (batch, source), in order."""
    await _insert_new(
        connection,
        DESCRIPTIONS,
        [
            {
                "content_hash": hash_bytes(item.content_hash),
                "entity_id": item.entity_id,
                "entity_type": item.entity_type,
                "received_at": received_at,
                "source": f"{source} {item.path}".strip(),
                **_compressed(item.raw_json),
            }
            for batch, source in parts
            for item in batch.descriptions
        ],
    )
    await _insert_new(
        connection,
        REJECTED,
        [
            {
                "content_hash": hash_bytes(item.content_hash),
                "received_at": received_at,
                "reason": item.reason,
                "path": item.path,
                **_compressed(item.raw_json),
            }
            for batch, _ in parts
            for item in batch.rejected
        ],
    )


def _compressed(raw_json: bytes) -> dict[str, Any]:
    codec, blob = encode(raw_json)
    return {"codec": codec, "raw": blob}


async def _insert_new(connection: AsyncConnection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert the rows whose content_hash is not stored yet (nor earlier in `rows`)."""
    if not rows:
        return
    hashes = [row["content_hash"] for row in rows]
    known = {bytes(found[0]) for found in await _existing(connection, table.c.content_hash, hashes)}
    fresh = []
    for row in rows:
        if row["content_hash"] not in known:
            known.add(row["content_hash"])
            fresh.append(row)
    if fresh:
        await connection.execute(insert(table), fresh)


@dataclass
class _Waiting:
    """One request's batch, waiting for the group it is appended in."""

    batch: ReadBatch
    source: str
    answer: asyncio.Future[AppendResult]

    @property
    def size(self) -> int:
        return len(self.batch.events) + len(self.batch.descriptions) + len(self.batch.rejected)


class GroupAppender:
    """Group commit: batches that arrive while an append transaction runs wait, then go
    in together in ONE transaction (append_batches), in arrival order, each answered with
    its own result. A commit rewrites every index page it touches, so one commit of many
    small requests writes far less than one commit each.

    A group holds at most `max_items` events, descriptions and rejected items (a larger
    batch goes alone). When the store is unavailable every batch of the group gets the
    same StoreUnavailable and none is stored; any other failure is retried one batch at
    a time, so one batch's problem fails only its own request."""

    def __init__(self, store: Store, *, max_items: int) -> None:
        if max_items <= 0:
            raise ValueError("max_items must be above 0")
        self.store = store
        self.max_items = max_items
        self._queue: list[_Waiting] = []
        self._worker: asyncio.Task[None] | None = None

    async def append(self, batch: ReadBatch, *, source: str) -> AppendResult:
        """Append `batch` with whatever else is waiting; its own result, or the error of
        its transaction (nothing of it stored)."""
        waiting = _Waiting(batch, source, asyncio.get_running_loop().create_future())
        self._queue.append(waiting)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        # A request cancelled while it waits (its client left) is still appended with its
        # group, as it would have been had it been committing already.
        return await asyncio.shield(waiting.answer)

    def _next_group(self) -> list[_Waiting]:
        group = [self._queue.pop(0)]
        items = group[0].size
        while self._queue and items + self._queue[0].size <= self.max_items:
            items += self._queue[0].size
            group.append(self._queue.pop(0))
        return group

    async def _drain(self) -> None:
        while self._queue:
            await self._commit(self._next_group())

    async def _commit(self, group: list[_Waiting]) -> None:
        try:
            results = await append_batches(
                self.store, [(waiting.batch, waiting.source) for waiting in group]
            )
        except asyncio.CancelledError:  # the worker stopped: its group must not wait forever
            for waiting in group:
                waiting.answer.cancel()
            raise
        except StoreUnavailable as error:
            for waiting in group:
                _settle(waiting, error)
            return
        except Exception as error:
            if len(group) == 1:
                _settle(group[0], error)
                return
            log.warning("a group of %d appends failed; appending each alone", len(group))
            for waiting in group:
                await self._commit([waiting])
            return
        for waiting, result in zip(group, results, strict=True):
            _settle(waiting, result)


def _settle(waiting: _Waiting, outcome: AppendResult | BaseException) -> None:
    if waiting.answer.done():
        return
    if isinstance(outcome, BaseException):
        waiting.answer.set_exception(outcome)
    else:
        waiting.answer.set_result(outcome)
