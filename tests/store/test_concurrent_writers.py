"""Several writer processes on one database, as `serve --workers N` and `ingest` beside it
run: every acknowledged event stored once, positions gapless and in commit order."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import Sequence
from itertools import pairwise

from sqlalchemy import Connection, func, inspect, select
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import store.tables  # noqa: F401  (registers the tables)
from store import read
from store.db import Store, create_store
from tests.store.workers import Commit, Plan, run

EVENTS = SQLModel.metadata.tables["events"]
BATCHES, SIZE = 20, 25
TIMEOUT_S = 120


def writer_count(url: str) -> int:
    # SQLite has one writer at a time anyway: two processes are enough to contend.
    return 2 if make_url(url).get_backend_name() == "sqlite" else 4


async def test_concurrent_writer_processes(database_url: str) -> None:
    count = writer_count(database_url)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(count), context.Queue()
    processes = [
        context.Process(
            target=run, args=(Plan(database_url, f"w{i}", BATCHES, SIZE), barrier, results)
        )
        for i in range(count)
    ]
    for process in processes:
        process.start()
    reader = create_store(database_url)
    try:
        snapshots = await watch_while_running(reader, processes)
        reports = [results.get(timeout=TIMEOUT_S) for _ in processes]
        for process in processes:
            process.join(timeout=TIMEOUT_S)
        failures = [report for report in reports if isinstance(report, str)]
        assert not failures, failures[0]
        commits = [commit for report in reports for commit in report]
        stored = await stored_ids(reader)
    finally:
        for process in processes:  # only after a failure: stop the writers this test began
            if process.is_alive():
                process.kill()
        await reader.close()

    assert_every_acknowledged_event_stored_once(commits, stored)
    assert_gapless_in_commit_order(commits)
    # A reader never saw position N without every position below it.
    assert snapshots, "the reader never saw the log"
    assert all(total == newest for total, newest in snapshots)


async def watch_while_running(
    reader: Store, processes: Sequence[multiprocessing.process.BaseProcess]
) -> list[tuple[int, int]]:
    """(count, max position) snapshots taken while the writers run."""
    snapshots: list[tuple[int, int]] = []
    deadline = time.monotonic() + TIMEOUT_S
    while any(p.is_alive() for p in processes) and time.monotonic() < deadline:
        async with reader.reader.connect() as connection:
            if await connection.run_sync(has_log):
                query = select(func.count(), func.coalesce(func.max(EVENTS.c.position), 0))
                total, newest = (await connection.execute(query)).one()
                snapshots.append((int(total), int(newest)))
        await asyncio.sleep(0.01)
    return snapshots


def has_log(connection: Connection) -> bool:
    return inspect(connection).has_table("events")


async def stored_ids(reader: Store) -> list[tuple[int, str]]:
    events = await read.page_events(
        reader, read.EventQuery(), after_cursor_position=None, limit=1_000_000
    )
    return [(event.position, event.event_id or "") for event in events]


def assert_every_acknowledged_event_stored_once(
    commits: list[Commit], stored: list[tuple[int, str]]
) -> None:
    acknowledged = [event_id for commit in commits for event_id in commit.event_ids]
    assert len(acknowledged) == len(set(acknowledged))
    assert sorted(acknowledged) == sorted(event_id for _, event_id in stored)
    assert [position for position, _ in stored] == list(range(1, len(stored) + 1))


def assert_gapless_in_commit_order(commits: list[Commit]) -> None:
    appended = sorted((c for c in commits if c.first is not None), key=lambda c: c.first or 0)
    assert appended[0].first == 1
    for before, after in pairwise(appended):
        assert after.first == (before.last or 0) + 1
    # Whatever was acknowledged before another append began holds lower positions.
    for earlier in appended:
        for later in appended:
            if earlier.acknowledged < later.started:
                assert (earlier.last or 0) < (later.first or 0)
