"""What one writer process does in the concurrency test: open the store (all of them at
once, on an empty database), then append its batches and report when each committed."""

from __future__ import annotations

import asyncio
import time
import traceback
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

from app.startup import open_ready_store
from store.append import append_batch
from tests.store.caliper import grade_batch

SHARED = "shared"  # every writer also sends these batches: stored once, duplicates after


@dataclass(frozen=True, slots=True)
class Plan:
    url: str
    tag: str
    batches: int
    size: int
    shared_every: int = 5


@dataclass(frozen=True, slots=True)
class Commit:
    """One acknowledged append: when it ran and what it got. Times are monotonic_ns, one
    clock for every process on the machine (CLOCK_MONOTONIC)."""

    started: int
    acknowledged: int
    first: int | None
    last: int | None
    event_ids: tuple[str, ...]


def run(plan: Plan, barrier: Barrier, results: Queue) -> None:
    try:
        barrier.wait()
        results.put(asyncio.run(_append_all(plan)))
    except BaseException:
        results.put(traceback.format_exc())


async def _append_all(plan: Plan) -> list[Commit]:
    store = await open_ready_store(plan.url)
    commits = []
    try:
        for index in range(plan.batches):
            shared = index % plan.shared_every == 0
            tag = SHARED if shared else plan.tag
            batch = grade_batch(tag, index * plan.size, plan.size)
            started = time.monotonic_ns()
            result = await append_batch(store, batch, source=plan.tag)
            acknowledged = time.monotonic_ns()
            ids = tuple(e.event_id or "" for e in batch.events) if result.appended else ()
            # A shared batch is either all new here or all stored by another writer.
            assert result.appended in (0, plan.size), result
            commits.append(
                Commit(started, acknowledged, result.first_position, result.last_position, ids)
            )
    finally:
        await store.close()
    return commits
