"""Query latency and HTTP throughput on a store of realistic courses (issues #3, #5).

    .venv/bin/python bench/query.py                    # 1,000,000-event store, SQLite
    .venv/bin/python bench/query.py --events 100000    # a quicker run
    .venv/bin/python bench/query.py --database postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/query.py --profile          # py-spy the slow operations

Every course has the same shape (coursegen.COURSE_SHAPE: 35 students, 6 groups, 25
content items, 6 graded items, 2 calculated grades per student with 1–4 snapshots,
sessions and views: 1,000 events); the big store also holds one course with 10,000
graded attempts. Stores are built through store.append.append_batch in a child
process and cached: SQLite files under bench/out/query/, PostgreSQL databases only
with --keep-db (otherwise made and dropped in the run).

Measured in one run, interleaved so that noise hits both sides of each ratio alike:
the CourseOverview operation through the schema in-process and over HTTP, the same
answer from hand-written SQL + orjson on the same database, the same operation on a
10,000-event store, `events(first: 10) { totalCount }`, all 10,000 attempts of one
course in pages of 1,000, and 32-connection HTTP load (wrk, or bench/loadgen.py)
against the served app and against a bare Starlette route (bench/bare_app.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from benchutil import (
    BENCH_DIR,
    OUT_DIR,
    Row,
    coursegraph_exe,
    env_with,
    fmt_ms,
    free_port,
    is_postgres,
    machine_line,
    p50,
    percentile,
    pg_connect,
    pg_create,
    pg_drop,
    pg_exists,
    pg_url_for,
    print_table,
    remove_sqlite,
    serving,
    sqlite_url,
)
from coursegen import GENERATOR_VERSION, Semester, iso, semester
from sqlalchemy.engine import make_url

from store.codec import decode

WORK = OUT_DIR / "query"
BUILD_BATCH = 20_000

P50_TARGET_MS = 25.0
SCALE_TARGET = 1.3
COUNT_TARGET_MS = 50.0
ATTEMPTS_TARGET_S = 0.5
LOAD_RATIO_TARGET = 0.3

# The contract's CourseOverview operation (shared/contract/operations/CourseOverview.graphql).
COURSE_OVERVIEW = """
query CourseOverview($courseNumber: String!) {
  course(courseNumber: $courseNumber) {
    id
    courseNumber
    learnId
    groups { totalCount nodes { id name memberIds updatedAt } }
    contentItems(first: 500) {
      totalCount
      nodes { id name handler renderType isFolder scorePossible dueDate updatedAt }
    }
    calculatedGrades(isCourseGrade: true, first: 1000) {
      totalCount
      nodes { score scorePossible synVersion calculatedAt user { userId externalId } }
    }
  }
}
"""
EVENT_COUNT = "query EventCount { events(first: 10) { totalCount } }"
TRIVIAL = "{ __typename }"
ATTEMPTS = """
query Attempts($id: ID!, $after: String) {
  course(id: $id) {
    attempts(first: 1000, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { id score { scoreGiven maxScore gradedAt } assignee { userId externalId } }
    }
  }
}
"""


# --- building and caching the stores ----------------------------------------------------


def schema_revision() -> str:
    """Cached stores are keyed by the schema they were built at: the head revision and
    a digest of the migrations (a revision may still change before it ships)."""
    import hashlib

    try:
        from store.schema import MIGRATIONS, head_revision
    except ImportError:
        return "0"
    digest = hashlib.blake2b(digest_size=4)
    for path in sorted(Path(MIGRATIONS).rglob("*.py")):
        digest.update(path.read_bytes())
    return f"{head_revision()}-{digest.hexdigest()}"


def store_name(events: int, big: bool, analytics: bool = False) -> str:
    shape = ("-big" if big else "") + ("-analytics" if analytics else "")
    return f"store-{events}{shape}-g{GENERATOR_VERSION}-s{schema_revision()}"


async def build_store(url: str, events: int, big: bool, analytics: bool = False) -> None:
    """Load a generated semester through append_batch in big batches."""
    from app.caliper.reader import read_body
    from app.startup import open_ready_store
    from store.append import append_batch

    store = await open_ready_store(url)
    plan = semester(events, big_course=big, analytics_course=analytics)
    started = time.perf_counter()
    done = 0
    batch: list[dict[str, Any]] = []

    async def flush() -> None:
        nonlocal done, batch
        read = read_body(batch)
        result = await append_batch(store, read, source="bench")
        done += result.appended
        batch = []
        if done % 100_000 < BUILD_BATCH:
            rate = done / (time.perf_counter() - started)
            print(f"  built {done:,} of {plan.total:,} events ({rate:,.0f}/s)", file=sys.stderr)

    try:
        for event in plan.events():
            batch.append(event)
            if len(batch) >= BUILD_BATCH:
                await flush()
        if batch:
            await flush()
    finally:
        await store.close()
    if is_postgres(url):
        connection = await pg_connect(url)
        # What autovacuum does after a bulk load (PostgreSQL 13+ vacuums insert-only tables
        # too): statistics, and the visibility map that lets index-only scans skip the rows.
        await connection.execute("VACUUM ANALYZE")
        await connection.close()
    else:
        path = Path(make_url(url).database or "")
        connection = sqlite3.connect(path)
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
    seconds = time.perf_counter() - started
    print(f"  built {done:,} events in {seconds:.0f} s ({done / seconds:,.0f}/s)", file=sys.stderr)


def pg_store_name(name: str) -> str:
    """A database name for a store: PostgreSQL cuts names at 63 bytes, and the build's
    `<name>_building` must still differ from it, so long ones end in a digest instead."""
    import hashlib

    full = f"coursegraph_bench_{name.replace('-', '_')}"
    if len(full) <= 63 - len("_building"):
        return full
    return f"{full[:44]}_{hashlib.blake2b(full.encode(), digest_size=4).hexdigest()}"


def _build_in_child(url: str, events: int, big: bool, analytics: bool) -> None:
    argv = [sys.executable, str(Path(__file__)), "--build-into", url, "--events", str(events)]
    if big:
        argv.append("--big")
    if analytics:
        argv.append("--analytics")
    print(f"building a {events:,}-event store (cached afterwards) …", file=sys.stderr)
    subprocess.run(argv, check=True)


async def ensure_store(
    events: int, big: bool, database: str | None, keep: bool, analytics: bool = False
) -> str:
    """The URL of a loaded store: cached, or built now in a child process."""
    name = store_name(events, big, analytics)
    if database and is_postgres(database):
        final = pg_store_name(name)
        if keep and await pg_exists(database, final):
            return pg_url_for(database, final)
        if not keep:
            url = await pg_create(database)
            _build_in_child(url, events, big, analytics)
            return url
        await pg_drop(pg_url_for(database, f"{final}_building"))
        building = await pg_create(database, f"{final}_building")
        _build_in_child(building, events, big, analytics)
        connection = await pg_connect(pg_url_for(database, "postgres"))
        await connection.execute(f'ALTER DATABASE "{final}_building" RENAME TO "{final}"')
        await connection.close()
        return pg_url_for(database, final)
    path = WORK / f"{name}.db"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        partial = WORK / f"{name}.building.db"
        remove_sqlite(partial)
        _build_in_child(sqlite_url(partial), events, big, analytics)
        for suffix in ("-wal", "-shm"):  # checkpointed and closed: nothing left in them
            Path(f"{partial}{suffix}").unlink(missing_ok=True)
        partial.rename(path)
    return sqlite_url(path)


# --- the hand-written answer ------------------------------------------------------------

# The store's layout (store/tables.py): strings are term ids, kinds small ints
# (course 1, group 2, content 3, attempt 5, calculated_grade 6), raw JSON compressed.
TERM_ID = "(SELECT id FROM terms WHERE text = {0})"
HAND_COURSE = (
    "SELECT (SELECT text FROM terms WHERE id = entity_key) FROM event_entities "
    f"WHERE kind = 1 AND alt_key = {TERM_ID} "
    "GROUP BY entity_key ORDER BY max(event_time) DESC LIMIT 1"
)
HAND_LATEST = (
    "SELECT e.codec, e.raw FROM event_entities ee JOIN events e ON e.position = ee.position "
    f"WHERE ee.kind = 1 AND ee.entity_key = {TERM_ID} "
    "ORDER BY ee.event_time DESC, ee.position DESC LIMIT 1"
)
HAND_ENTITIES = (
    "SELECT ee.kind, (SELECT text FROM terms WHERE id = ee.entity_key), "
    "(SELECT text FROM terms WHERE id = e.action), e.event_time, e.codec, e.raw "
    "FROM event_entities ee JOIN events e ON e.position = ee.position "
    f"WHERE ee.course_id = {TERM_ID} AND ee.kind IN (2, 3, 6) "
    # The course index is partial: its own predicate lets SQLite use it.
    "AND ee.kind IN (2, 3, 5, 6) "
    "ORDER BY ee.event_time, ee.position"
)
HAND_KINDS = {2: "group", 3: "content", 6: "calculated_grade"}


def hand_rows(rows: list[tuple]) -> list[tuple]:
    """(kind, key, action, eventTime, raw JSON text), the raw decompressed."""
    return [
        (HAND_KINDS[kind], key, action, time, decode(codec, raw))
        for kind, key, action, time, codec, raw in rows
    ]


CONTENT_FIELDS = ("name", "handler", "renderType", "isFolder", "scorePossible", "dueDate")


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def hand_answer(course_id: str, latest_raw: str, rows: list[tuple]) -> bytes:
    """CourseOverview's answer folded by hand from the course's entity events."""
    latest = orjson.loads(latest_raw)
    membership = latest.get("membership") or {}
    learn_id = (membership.get("extensions") or {}).get("bb:course.id")
    number = (membership.get("extensions") or {}).get("bb:course.externalId")
    groups: dict[str, dict[str, Any]] = {}
    content: dict[str, dict[str, Any]] = {}
    grades: dict[str, dict[str, Any]] = {}
    for kind, key, action, event_time, raw_text in rows:
        raw = orjson.loads(raw_text)
        obj = raw.get("object") or {}
        if kind == "group":
            group = groups.setdefault(key, {"created": event_time})
            ext = obj.get("extensions") or {}
            if "bb:group.name" in ext:
                group["name"] = ext["bb:group.name"]
            if "bb:group.users" in ext:
                users = orjson.loads(ext["bb:group.users"])
                group["members"] = sorted(u["courseMembershipId"] for u in users)
            group["updated"] = event_time
            group["deleted"] = action == "Deleted"
        elif kind == "content":
            item = content.setdefault(key, {"created": event_time})
            for name in CONTENT_FIELDS:
                if name in obj:
                    item[name] = obj[name]
            item["updated"] = event_time
            item["deleted"] = action == "Deleted"
        else:
            version = obj.get("syncVersion", obj.get("synVersion")) or 0
            grade = grades.setdefault(key, {"created": event_time, "version": -1})
            grade["created"] = min(grade["created"], event_time)
            if version >= grade["version"]:
                grade.update(version=version, time=event_time, object=obj)
    answer = {
        "course": {
            "id": course_id,
            "courseNumber": number,
            "learnId": learn_id,
            "groups": _hand_nodes(
                groups,
                lambda key, g: {
                    "id": key,
                    "name": g.get("name"),
                    "memberIds": g.get("members", []),
                    "updatedAt": iso(g["updated"]),
                },
            ),
            "contentItems": _hand_nodes(
                content,
                lambda key, c: {
                    "id": key,
                    "name": c.get("name"),
                    "handler": c.get("handler"),
                    "renderType": c.get("renderType"),
                    "isFolder": c.get("isFolder"),
                    "scorePossible": _float(c.get("scorePossible")),
                    "dueDate": c.get("dueDate"),
                    "updatedAt": iso(c["updated"]),
                },
            ),
            "calculatedGrades": _hand_nodes(
                {k: g for k, g in grades.items() if g["object"].get("isCourseGrade")},
                lambda key, g: {
                    "score": _float(g["object"].get("score")),
                    "scorePossible": _float(g["object"].get("scorePossible")),
                    "synVersion": g["version"],
                    "calculatedAt": iso(g["time"]),
                    "user": {
                        "userId": g["object"]["user"]["extensions"]["bb:user.id"],
                        "externalId": g["object"]["user"]["extensions"]["bb:user.externalId"],
                    },
                },
            ),
        }
    }
    return orjson.dumps(answer)


def _hand_nodes(found: dict[str, dict[str, Any]], node: Callable) -> dict[str, Any]:
    live = sorted(
        ((entity["created"], key) for key, entity in found.items() if not entity.get("deleted")),
    )
    nodes = [node(key, found[key]) for _, key in live]
    return {"totalCount": len(nodes), "nodes": nodes}


# Without ANALYZE statistics SQLite answers the course lookup from the primary key
# (every `course` row: O(store)); the hand-written version names the right index.
HAND_COURSE_SQLITE = HAND_COURSE.replace(
    "FROM event_entities", "FROM event_entities INDEXED BY ix_event_entities_alt_key"
)


class HandSqlite:
    def __init__(self, url: str) -> None:
        self.connection = sqlite3.connect(make_url(url).database or "", check_same_thread=False)

    async def answer(self, course_number: str) -> bytes:
        c = self.connection
        (course_id,) = c.execute(HAND_COURSE_SQLITE.format("?"), (course_number,)).fetchone()
        latest = decode(*c.execute(HAND_LATEST.format("?"), (course_id,)).fetchone())
        rows = c.execute(HAND_ENTITIES.format("?"), (course_id,)).fetchall()
        return hand_answer(course_id, latest, hand_rows(rows))

    async def close(self) -> None:
        self.connection.close()


class HandPostgres:
    def __init__(self, connection: Any) -> None:
        self.connection = connection

    @classmethod
    async def open(cls, url: str) -> HandPostgres:
        return cls(await pg_connect(url))

    async def answer(self, course_number: str) -> bytes:
        c = self.connection
        course_id = await c.fetchval(HAND_COURSE.format("$1"), course_number)
        latest = decode(*await c.fetchrow(HAND_LATEST.format("$1"), course_id))
        rows = await c.fetch(HAND_ENTITIES.format("$1"), course_id)
        return hand_answer(course_id, latest, hand_rows([tuple(r) for r in rows]))

    async def close(self) -> None:
        await self.connection.close()


async def open_hand(url: str) -> HandSqlite | HandPostgres:
    return await HandPostgres.open(url) if is_postgres(url) else HandSqlite(url)


# --- in-process GraphQL -----------------------------------------------------------------


class InProcess:
    def __init__(self, url: str) -> None:
        from app.api.context import Context
        from app.api.schema import SCHEMA
        from app.settings import Settings
        from store.db import create_store

        self.schema = SCHEMA
        self.context_type = Context
        self.settings = Settings(database_url=url)
        self.store = create_store(url)
        # The app's cache across requests, as app.state holds one per worker.
        try:
            from app.api.state_cache import StateCache
        except ImportError:  # an older app kept its caches in module globals
            self.state_cache = None
        else:
            self.state_cache = StateCache(self.settings.cache_bytes)
        # Parsed and validated query texts, as the served app keeps them.
        from app.api.query_cache import QueryCache

        self.query_cache = QueryCache(self.settings.query_cache_bytes)
        _IN_PROCESS.append(self)

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict:
        context = self.context_type(
            store=self.store, settings=self.settings, query_cache=self.query_cache
        )
        if self.state_cache is not None:
            context.state_cache = self.state_cache
        result = await self.schema.execute(query, variable_values=variables, context_value=context)
        if result.errors:
            raise RuntimeError(f"GraphQL errors: {result.errors}")
        return result.data or {}

    async def close(self) -> None:
        await self.store.close()


# Every in-process app of this run, so that clear_fold_cache empties each one's cache.
_IN_PROCESS: list[InProcess] = []


def clear_fold_cache() -> None:
    """Forget what the app caches across requests while the log has not grown (folded
    course entities, course and person states): what a request meets while events keep
    arriving, since every append makes those caches stale."""
    for app in _IN_PROCESS:
        if app.state_cache is not None:
            app.state_cache.clear()
    from app.api import context

    forget = getattr(context, "forget_cached_state", None)
    if forget is not None:
        forget()
        return
    cache = getattr(context, "FOLD_CACHE", None)
    if cache is None:
        return
    if hasattr(cache, "clear"):
        cache.clear()
    elif isinstance(getattr(cache, "_entries", None), dict):
        cache._entries.clear()


async def all_attempts(app: InProcess, course_id: str) -> int:
    """Every attempt of a course, 1,000 a page (ATTEMPTS); the number fetched."""
    after, fetched = None, 0
    while True:
        page = await app.execute(ATTEMPTS, {"id": course_id, "after": after})
        attempts = page["course"]["attempts"]
        fetched += len(attempts["nodes"])
        if not attempts["pageInfo"]["hasNextPage"]:
            return fetched
        after = attempts["pageInfo"]["endCursor"]


async def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = await call()
    return time.perf_counter() - started, value


def count_nodes(value: Any) -> int:
    """Objects in an answer (the course, each node, each nested object)."""
    if isinstance(value, dict):
        children = sum(count_nodes(v) for v in value.values())
        is_node = "id" in value or "score" in value or "userId" in value
        return children + (1 if is_node else 0)
    if isinstance(value, list):
        return sum(count_nodes(v) for v in value)
    return 0


def sample_numbers(plan: Semester, count: int) -> list[str]:
    step = max(1, len(plan.courses) // count)
    return [course.number for course in plan.courses[::step][:count]]


async def events_of_course(url: str, course_iri: str) -> int:
    if is_postgres(url):
        connection = await pg_connect(url)
        try:
            return int(
                await connection.fetchval(
                    f"SELECT count(*) FROM events WHERE course_id = {TERM_ID.format('$1')}",
                    course_iri,
                )
            )
        finally:
            await connection.close()
    connection = sqlite3.connect(make_url(url).database or "")
    try:
        (found,) = connection.execute(
            f"SELECT count(*) FROM events WHERE course_id = {TERM_ID.format('?')}", (course_iri,)
        ).fetchone()
        return int(found)
    finally:
        connection.close()


# --- profiling ----------------------------------------------------------------------------


class Profiler:
    """py-spy attached to this process for the duration of a block."""

    def __init__(self, path: Path, seconds: float, pid: int | None = None) -> None:
        self.path = path
        self.seconds = seconds
        self.pid = pid or os.getpid()
        self.child: subprocess.Popen | None = None

    def __enter__(self) -> Profiler:
        exe = Path(sys.executable).parent / "py-spy"
        argv = [str(exe), "record", "--pid", str(self.pid), "--format", "raw"]
        argv += ["--rate", "250", "--duration", str(int(self.seconds)), "-o", str(self.path)]
        self.child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1.0)  # let it attach
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.child is not None
        self.child.wait(timeout=self.seconds + 60)


async def profile_loop(path: Path, seconds: float, call: Callable[[], Any]) -> None:
    from pyspy_summary import summarise

    with Profiler(path, seconds):
        deadline = time.perf_counter() + seconds - 0.5
        while time.perf_counter() < deadline:
            await call()
    print(f"\nprofile → {path}")
    print(summarise(path, top=30))


# --- HTTP -----------------------------------------------------------------------------------


@dataclass
class LoadResult:
    rps: float
    errors: int
    tool: str
    completed: int = 0

    def text(self) -> str:
        if self.rps >= 100:
            return f"{self.rps:,.0f} req/s"
        return f"{self.rps:.1f} req/s ({self.completed} done)"


def _lua_script(bodies: list[bytes]) -> str:
    quoted = ",\n".join(f"[==[{b.decode()}]==]" for b in bodies)
    return (
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"bodies = {{\n{quoted}\n}}\n"
        "counter = 0\n"
        "request = function()\n"
        "  counter = counter + 1\n"
        "  return wrk.format(nil, nil, nil, bodies[(counter % #bodies) + 1])\n"
        "end\n"
    )


def load(url: str, bodies: list[bytes], seconds: float, connections: int, tool: str) -> LoadResult:
    """Bounded load on a loopback URL: wrk when installed, else bench/loadgen.py."""
    seconds = min(seconds, 60.0)
    WORK.mkdir(parents=True, exist_ok=True)
    if tool == "wrk" or (tool == "auto" and shutil.which("wrk")):
        script = WORK / ".load.lua"
        script.write_text(_lua_script(bodies))
        argv = ["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--timeout", "30s"]
        argv += ["--latency", "-s", str(script), url]
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        with open(WORK / "wrk.log", "a") as log:
            log.write(f"$ {' '.join(argv)}\n{out}\n")
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
        bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
        errors = re.search(
            r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
        )
        failed = (int(bad[1]) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0)
        done = re.search(r"(\d+) requests in", out)
        return LoadResult(rps, failed, "wrk", int(done[1]) if done else 0)
    body_file = WORK / ".load-bodies.json"
    body_file.write_text(json.dumps([json.loads(b) for b in bodies]))
    argv = [
        sys.executable,
        str(BENCH_DIR / "loadgen.py"),
        url,
        str(body_file),
        "--connections",
        str(connections),
        "--seconds",
        str(seconds),
    ]
    result = json.loads(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)
    return LoadResult(result["rps"], result["errors"], "loadgen.py", result["requests"])


def overview_body(number: str) -> bytes:
    return orjson.dumps({"query": COURSE_OVERVIEW, "variables": {"courseNumber": number}})


async def http_latency(base: str, numbers: list[str], iterations: int) -> list[float]:
    """Sequential requests; the first 5 warm the server up on courses of their own, then
    each timed request asks for a course the server has not answered yet (while there
    are courses enough)."""
    times = []
    order = numbers[-5:] + numbers[:-5]
    async with httpx.AsyncClient(timeout=60.0) as client:
        for i in range(iterations + 5):
            body = overview_body(order[i % len(order)])
            started = time.perf_counter()
            response = await client.post(
                f"{base}/graphql", content=body, headers={"content-type": "application/json"}
            )
            elapsed = time.perf_counter() - started
            if response.status_code != 200 or "errors" in response.json():
                raise RuntimeError(f"HTTP course overview failed: {response.text[:500]}")
            if i >= 5:
                times.append(elapsed)
    return times


# --- the run --------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> None:
    backend = "PostgreSQL" if args.database and is_postgres(args.database) else "SQLite"
    print(f"query benchmark, {backend}; {machine_line()}")
    big_url = await ensure_store(args.events, True, args.database, args.keep_db)
    small_url = await ensure_store(args.small_events, False, args.database, args.keep_db)
    temporary = [u for u in (big_url, small_url) if is_postgres(u) and not args.keep_db]
    try:
        await measure(args, backend, big_url, small_url)
    finally:
        for url in temporary:
            await pg_drop(url)


async def measure(args: argparse.Namespace, backend: str, big_url: str, small_url: str) -> None:
    big_plan = semester(args.events, big_course=True)
    small_plan = semester(args.small_events, big_course=False)
    # More courses than the app's fold cache holds (64 entries, 3 a course), so that
    # HTTP requests and the load test miss it as a live log would make them.
    numbers = sample_numbers(big_plan, 100)
    small_numbers = sample_numbers(small_plan, 10)
    rows: list[Row] = []
    if not args.skip_inprocess:
        rows += await measure_inprocess(
            args, backend, big_url, small_url, big_plan, small_plan, numbers, small_numbers
        )
    if not args.skip_http:
        rows += await measure_http(args, big_url, numbers)
    print_table(f"queries, {backend}, {big_plan.total:,}-event store", rows)


async def measure_inprocess(
    args: argparse.Namespace,
    backend: str,
    big_url: str,
    small_url: str,
    big_plan: Semester,
    small_plan: Semester,
    numbers: list[str],
    small_numbers: list[str],
) -> list[Row]:
    rows: list[Row] = []
    big = InProcess(big_url)
    small = InProcess(small_url)
    hand = await open_hand(big_url)
    try:
        # the same answer both ways, before timing anything
        data = await big.execute(COURSE_OVERVIEW, {"courseNumber": numbers[0]})
        by_hand = orjson.loads(await hand.answer(numbers[0]))
        if orjson.loads(orjson.dumps(data)) != by_hand:
            (WORK / "answer-graphql.json").write_bytes(
                orjson.dumps(data, option=orjson.OPT_INDENT_2)
            )
            (WORK / "answer-hand.json").write_bytes(
                orjson.dumps(by_hand, option=orjson.OPT_INDENT_2)
            )
            print("warning: the hand-written answer differs from GraphQL's (see bench/out/query/)")
        nodes = count_nodes(data)
        indexed = await events_of_course(big_url, data["course"]["id"])
        course = data["course"]
        rows += [
            Row("events in the store", f"{big_plan.total:,}"),
            Row("events per course (generated / with its course id)", f"1,000 / {indexed:,}"),
            Row(
                "nodes per answer (groups+content+grades+users)",
                f"{nodes} ({course['groups']['totalCount']}+{course['contentItems']['totalCount']}"
                f"+{course['calculatedGrades']['totalCount']}×2)",
            ),
        ]

        # Course overview, interleaved: GraphQL on the big store with the fold cache
        # emptied first (cold: the log grows all day), hand-written SQL, GraphQL on the
        # small store (cold); then GraphQL on one course again and again (warm).
        for i in range(5):
            await big.execute(COURSE_OVERVIEW, {"courseNumber": numbers[i % len(numbers)]})
            await hand.answer(numbers[i % len(numbers)])
            await small.execute(COURSE_OVERVIEW, {"courseNumber": small_numbers[i % 10]})
        warm_number = numbers[0]
        cold, by_hand_times, small_times, warm = [], [], [], []
        for i in range(args.iterations):
            number = numbers[i % len(numbers)]
            # An untimed pass first: database pages warm for both sides (a server's
            # working set lives in memory); only the app's fold cache is then emptied.
            await big.execute(COURSE_OVERVIEW, {"courseNumber": number})
            clear_fold_cache()
            t, _ = await timed(lambda n=number: big.execute(COURSE_OVERVIEW, {"courseNumber": n}))
            cold.append(t)
            t, _ = await timed(lambda n=number: hand.answer(n))
            by_hand_times.append(t)
            small_number = small_numbers[i % len(small_numbers)]
            clear_fold_cache()
            t, _ = await timed(
                lambda n=small_number: small.execute(COURSE_OVERVIEW, {"courseNumber": n})
            )
            small_times.append(t)
        # warm: one course again and again, the app's caches kept
        for _ in range(args.iterations):
            t, _ = await timed(lambda: big.execute(COURSE_OVERVIEW, {"courseNumber": warm_number}))
            warm.append(t)
        g50, h50, s50, w50 = p50(cold), p50(by_hand_times), p50(small_times), p50(warm)
        target = f"≤ {P50_TARGET_MS:.0f} ms"
        rows += [
            Row(
                "course overview, GraphQL in-process, cold: p50",
                fmt_ms(g50),
                target,
                g50 * 1000 <= P50_TARGET_MS,
            ),
            Row("course overview, GraphQL in-process, cold: p95", fmt_ms(percentile(cold, 95))),
            Row(
                "course overview, GraphQL in-process, warm: p50",
                fmt_ms(w50),
                target,
                w50 * 1000 <= P50_TARGET_MS,
            ),
            Row("course overview, GraphQL in-process, warm: p95", fmt_ms(percentile(warm, 95))),
            Row("course overview, hand-written SQL+orjson: p50", fmt_ms(h50)),
            Row(
                "course overview, hand-written SQL+orjson: p95",
                fmt_ms(percentile(by_hand_times, 95)),
            ),
            Row("ratio GraphQL cold / hand-written (p50)", f"{g50 / h50:.1f}×"),
            Row(f"course overview, {small_plan.total:,}-event store, cold: p50", fmt_ms(s50)),
            Row(
                f"ratio {big_plan.total:,} / {small_plan.total:,} events, cold (p50)",
                f"{g50 / s50:.2f}×",
                f"≤ {SCALE_TARGET}×",
                g50 / s50 <= SCALE_TARGET,
            ),
        ]

        # events(first: 10) { totalCount }
        count_times = []
        for _ in range(max(20, args.iterations // 4)):
            t, _ = await timed(lambda: big.execute(EVENT_COUNT))
            count_times.append(t)
        c50 = p50(count_times)
        rows.append(
            Row(
                "events(first: 10) { totalCount }: p50",
                fmt_ms(c50),
                f"≤ {COUNT_TARGET_MS:.0f} ms",
                c50 * 1000 <= COUNT_TARGET_MS,
            )
        )

        # all 10,000 attempts of one course, 1,000 a page
        big_id = big_plan.big_course.iri if big_plan.big_course else None

        if not args.skip_attempts and big_id:
            attempt_times = []
            for _ in range(args.attempt_runs):
                clear_fold_cache()
                t, fetched = await timed(lambda: all_attempts(big, big_id))
                attempt_times.append(t)
            a50 = p50(attempt_times)
            rows.append(
                Row(
                    f"{fetched:,} attempts (score, assignee), pages of 1,000",
                    f"{a50:.2f} s",
                    f"≤ {ATTEMPTS_TARGET_S} s",
                    a50 <= ATTEMPTS_TARGET_S,
                )
            )

        if args.profile:
            await profile_loop(
                WORK / f"overview-{backend.lower()}.pyspy.txt",
                args.profile_seconds,
                lambda: (
                    clear_fold_cache() or big.execute(COURSE_OVERVIEW, {"courseNumber": numbers[3]})
                ),
            )
            if big_id and not args.skip_attempts:
                await profile_loop(
                    WORK / f"attempts-{backend.lower()}.pyspy.txt",
                    args.profile_seconds,
                    lambda: clear_fold_cache() or all_attempts(big, big_id),
                )
    finally:
        await big.close()
        await small.close()
        await hand.close()
    return rows


async def measure_http(args: argparse.Namespace, url: str, numbers: list[str]) -> list[Row]:
    rows: list[Row] = []
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = env_with(COURSEGRAPH_DATABASE_URL=url, COURSEGRAPH_API_TOKENS="")
    serve = [coursegraph_exe(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    serve += ["--log-level", "warning"]
    with serving(serve, f"{base}/healthz", env) as server_pid:
        times = await http_latency(base, numbers, args.http_iterations)
        h50 = p50(times)
        rows += [
            Row(
                "course overview over HTTP: p50",
                fmt_ms(h50),
                f"≤ {P50_TARGET_MS:.0f} ms",
                h50 * 1000 <= P50_TARGET_MS,
            ),
            Row("course overview over HTTP: p95", fmt_ms(percentile(times, 95))),
        ]
        if args.skip_load:
            return rows
        profiler = None
        if args.profile:
            profile_path = WORK / "serve-trivial.pyspy.txt"
            profiler = Profiler(profile_path, args.load_seconds, pid=server_pid).__enter__()
        trivial = load(
            f"{base}/graphql",
            [orjson.dumps({"query": TRIVIAL})],
            args.load_seconds,
            args.connections,
            args.loadgen,
        )
        if profiler is not None:
            from pyspy_summary import summarise

            profiler.__exit__()
            print(f"\nprofile of the server under {{ __typename }} load → {profile_path}")
            print(summarise(profile_path, top=30))
        overview = load(
            f"{base}/graphql",
            [overview_body(n) for n in numbers],
            args.load_seconds,
            args.connections,
            args.loadgen,
        )
    bare_port = free_port()
    bare_base = f"http://127.0.0.1:{bare_port}"
    bare_serve = [sys.executable, "-m", "uvicorn", "bare_app:app", "--app-dir", str(BENCH_DIR)]
    bare_serve += ["--host", "127.0.0.1", "--port", str(bare_port), "--log-level", "warning"]
    bare_serve += ["--no-access-log"]
    with serving(bare_serve, f"{bare_base}/healthz", env_with()):
        bare = load(
            f"{bare_base}/graphql",
            [orjson.dumps({"query": TRIVIAL})],
            args.load_seconds,
            args.connections,
            args.loadgen,
        )
    ratio = trivial.rps / bare.rps
    label = f"{args.connections} conn × {args.load_seconds:.0f} s, {bare.tool}"
    rows += [
        Row(f"load ({label}): bare Starlette route", bare.text()),
        Row("load: { __typename }", trivial.text()),
        Row(
            "load: { __typename } / bare route",
            f"{ratio:.2f}×",
            f"≥ {LOAD_RATIO_TARGET}×",
            ratio >= LOAD_RATIO_TARGET,
        ),
        Row("load: course overview", overview.text()),
    ]
    failed = trivial.errors + overview.errors + bare.errors
    if failed:
        rows.append(Row("load: failed requests", f"{failed:,}", "0", False))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the big store")
    parser.add_argument("--small-events", type=int, default=10_000)
    parser.add_argument("--database", help="postgresql+asyncpg://… runs on PostgreSQL")
    parser.add_argument("--keep-db", action="store_true", help="PostgreSQL: keep and reuse")
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--http-iterations", type=int, default=95)
    parser.add_argument("--attempt-runs", type=int, default=3)
    parser.add_argument("--load-seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--skip-inprocess", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-attempts", action="store_true")
    parser.add_argument("--profile", action="store_true", help="py-spy the slow operations")
    parser.add_argument("--profile-seconds", type=float, default=15.0)
    parser.add_argument("--build-into", help=argparse.SUPPRESS)
    parser.add_argument("--big", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--analytics", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_into:
        asyncio.run(build_store(args.build_into, args.events, args.big, args.analytics))
        return
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
