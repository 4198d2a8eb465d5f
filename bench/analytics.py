"""Course analytics latency on the 1M-event store (issue #11).

    .venv/bin/python bench/analytics.py                    # 1,000,000 events, SQLite
    .venv/bin/python bench/analytics.py --events 100000    # a quicker run
    .venv/bin/python bench/analytics.py --database postgresql+asyncpg://postgres@127.0.0.1:5432/postgres --keep-db

The store is bench/query.py's (same generator, same builder, same cache), plus the
analytics course: 200 people who view content, get grades and course grades, and one
item graded 10,000 times. Measured in-process through the schema, p50 of interleaved
runs, each figure both warm (the app's caches kept) and right after a new event of that
course (appended before each timed run, so every cache stamped with the course is
stale): `activity` for the term (DAY buckets), `participants(first: 100)`, and
`scoreStatistics` (with its histogram) of the 10,000-attempt item. Baselines of the same
run: the cheapest course query (`course(id:) { id }`) and the activity counts as one
hand-written SQL statement on the same connection pool.

Each run appends a few view events to the analytics store (1 per timed run "after a new
event"): negligible next to 1M, and the store stays what it was built as otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from benchutil import Row, fmt_ms, is_postgres, machine_line, p50, pg_drop, print_table
from coursegen import BASE, DAY_MS, SEMESTER_START_MS, semester, view_event
from query import InProcess, clear_fold_cache, ensure_store
from sqlalchemy import text

TARGET_MS = 50.0
ITEM = f"{BASE}/gradableItems/_800000_1"

ACTIVITY = "query($id: ID!) { course(id: $id) { activity { start events activeUsers } } }"
PARTICIPANTS = """query($id: ID!) { course(id: $id) { participants(first: 100) {
  totalCount nodes { person { userId } role firstActivityAt lastActivityAt eventCount
    activeDays gradedAttempts courseGrade { score } } } } }"""
SCORES = """query($id: ID!, $item: String!) { course(id: $id) {
  attempts(gradableItemId: $item, first: 1) { nodes { gradableItem { scoreStatistics {
    count mean median min max stddev histogram(bins: 20) { from to count } } } } } } }"""
FLOOR = "query($id: ID!) { course(id: $id) { id } }"
HAND_ACTIVITY = text(
    "SELECT event_time / 86400000, count(*), count(DISTINCT actor_id) FROM events "
    "WHERE course_id = (SELECT id FROM terms WHERE text = :course) GROUP BY 1 ORDER BY 1"
)


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def run(args: argparse.Namespace) -> None:
    backend = "PostgreSQL" if args.database and is_postgres(args.database) else "SQLite"
    print(f"analytics benchmark, {backend}; {machine_line()}")
    url = await ensure_store(args.events, True, args.database, args.keep_db, analytics=True)
    try:
        rows = await measure(args, url)
    finally:
        if is_postgres(url) and not args.keep_db:
            await pg_drop(url)
    plan = semester(args.events, big_course=True, analytics_course=True)
    print_table(f"course analytics, {backend}, {plan.total:,}-event store", rows)


async def measure(args: argparse.Namespace, url: str) -> list[Row]:
    from app.caliper.reader import read_body
    from store.append import append_batch

    plan = semester(args.events, big_course=True, analytics_course=True)
    course = plan.analytics_course
    assert course is not None
    app = InProcess(url)
    # Seeded per run: the same seed every run would send the same events again, which the
    # store drops as duplicates, and "after a new event" would time a warm answer.
    rng = random.Random(f"analytics-bench-{time.time_ns()}")
    appended = 0

    async def new_event() -> None:
        """One more view of the course by one of its students, late in the term."""
        nonlocal appended
        appended += 1
        student = rng.choice(course.students)
        when = SEMESTER_START_MS + 100 * DAY_MS + appended * 1000
        event = view_event(rng, course, student, f"_{20_000 + course.index * 100}_1", when)
        stored = await append_batch(app.store, read_body([event]), source="bench")
        assert stored.appended == 1, f"the new event was not stored: {stored.answer()}"

    variables = {"id": course.iri, "item": ITEM}

    def query(document: str) -> Callable[[], Awaitable[Any]]:
        return lambda: app.execute(document, variables)

    async def hand_activity() -> None:
        async with app.store.reader.connect() as connection:
            (await connection.execute(HAND_ACTIVITY, {"course": course.iri})).all()

    rows: list[Row] = []
    try:
        # Sanity first: the figures describe the course the generator made.
        people = (await app.execute(PARTICIPANTS, variables))["course"]["participants"]
        scores = await app.execute(SCORES, variables)
        stats = scores["course"]["attempts"]["nodes"][0]["gradableItem"]["scoreStatistics"]
        days = (await app.execute(ACTIVITY, variables))["course"]["activity"]
        rows += [
            Row(
                "analytics course: participants / scored attempts of the item",
                f"{people['totalCount']} / {stats['count']:,}",
            ),
            Row("activity points (DAY) for the term", f"{len(days)}"),
        ]
        figures = {
            "activity (term, DAY)": query(ACTIVITY),
            "participants(first: 100), 200-person course": query(PARTICIPANTS),
            "scoreStatistics, 10,000-attempt item": query(SCORES),
        }
        warm: dict[str, list[float]] = {name: [] for name in figures}
        fresh: dict[str, list[float]] = {name: [] for name in figures}
        floor: list[float] = []
        hand: list[float] = []
        for call in figures.values():  # caches filled, pages warm
            await call()
        for _ in range(args.iterations):
            for name, call in figures.items():
                await call()  # the answer after the last round's new events, cached
                warm[name].append(await timed(call))
            floor.append(await timed(query(FLOOR)))
            hand.append(await timed(hand_activity))
            for name, call in figures.items():
                await new_event()
                fresh[name].append(await timed(call))
        # Cold: every cache of the app emptied (a restarted worker), after a new event.
        cold: dict[str, list[float]] = {name: [] for name in figures}
        for _ in range(max(3, args.iterations // 10)):
            for name, call in figures.items():
                await new_event()
                clear_fold_cache()
                cold[name].append(await timed(call))
        rows += [
            Row("baseline: course(id:) { id }, in-process: p50", fmt_ms(p50(floor))),
            Row("baseline: activity counts by hand-written SQL: p50", fmt_ms(p50(hand))),
        ]
        target = f"≤ {TARGET_MS:.0f} ms"
        for name in figures:
            for label, times, checked in (
                ("warm", warm[name], True),
                ("right after a new event of the course", fresh[name], True),
                ("after a new event, every cache emptied", cold[name], False),
            ):
                value = p50(times)
                rows.append(
                    Row(
                        f"{name}, {label}: p50",
                        fmt_ms(value),
                        target if checked else "",
                        value * 1000 <= TARGET_MS if checked else None,
                    )
                )
        rows.append(Row("events appended to the store by this run", f"{appended}"))
    finally:
        await app.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the store")
    parser.add_argument("--database", help="postgresql+asyncpg://… runs on PostgreSQL")
    parser.add_argument("--keep-db", action="store_true", help="PostgreSQL: keep and reuse")
    parser.add_argument("--iterations", type=int, default=30)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
