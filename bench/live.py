"""Live subscriptions (issue #9): what idle subscriptions cost a worker, and how long an
appended event takes to reach a subscriber.

    .venv/bin/python bench/live.py                       # SQLite
    .venv/bin/python bench/live.py --database postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

For 0, 1,000 and 5,000 idle subscriptions (each its own course number, which no event
carries; 100 per WebSocket connection) on one server process: the SQL statements the
worker sends per second (a SQLAlchemy hook on its engines, bench/live_server.py) and its
CPU (from /proc) over a quiet window; then the delay from POST /caliper to delivery at a
probe subscriber, with those idle subscriptions still attached. On PostgreSQL also
across two server processes (subscribe on one, append through the other: LISTEN/NOTIFY).
Baselines from the same run: the 0-subscription row, and the POST's own round trip
(the append commits inside it)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.benchutil import (
    OUT_DIR,
    Row,
    env_with,
    fmt_ms,
    free_port,
    is_postgres,
    machine_line,
    p50,
    percentile,
    pg_create,
    pg_drop,
    print_table,
    remove_sqlite,
    serving,
    sqlite_url,
)

TOKEN = "bench-live-token"
IDLE_COUNTS = (0, 1_000, 5_000)
PER_CONNECTION = 100
QUIET_SECONDS = 10.0
DELAY_SAMPLES = 60
POLL_SECONDS = 2.0  # COURSEGRAPH_LIVE_POLL_SECONDS's default
ONE_WORKER_P99 = 0.100
ACROSS_WORKERS_P99 = 0.250
SUBSCRIBE = "subscription ($f: EventFilter) { eventAppended(filter: $f) { position } }"


def grade_event(n: int, course_number: str) -> dict:
    site = "https://bench.example/v1/sites/live"
    return {
        "@context": "http://purl.imsglobal.org/ctx/caliper/v1p1",
        "id": f"urn:uuid:{os.getpid():08x}-{time.time_ns():x}-{n}",
        "type": "GradeEvent",
        "actor": {"id": f"{site}/applications/learn", "type": "SoftwareApplication"},
        "action": "Graded",
        "object": {
            "id": f"{site}/gradableItems/_i1_1/attempts/_a{n}_1",
            "type": "Attempt",
            "assignee": {"id": f"{site}/users/u{n % 50}", "type": "Person"},
            "assignable": {"id": f"{site}/gradableItems/_i1_1", "type": "Assessment"},
        },
        "generated": {"id": f"{site}/scores/{n}", "type": "Score", "scoreGiven": 1.0},
        "eventTime": "2026-04-01T10:00:00.000Z",
        "group": {
            "id": f"{site}/courses/probe",
            "type": "CourseOffering",
            "courseNumber": course_number,
        },
    }


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def server(database_url: str) -> Iterator[tuple[int, int]]:
    port = free_port()
    env = env_with(COURSEGRAPH_DATABASE_URL=database_url, COURSEGRAPH_INGEST_TOKENS=TOKEN)
    argv = [sys.executable, str(Path(__file__).with_name("live_server.py")), str(port)]
    with serving(argv, f"http://127.0.0.1:{port}/healthz", env) as pid:
        yield port, pid


async def statements(port: int) -> dict:
    async with httpx.AsyncClient() as http:
        return (await http.get(f"http://127.0.0.1:{port}/bench/statements")).json()


async def open_socket(port: int) -> websockets.ClientConnection:
    socket = await websockets.connect(
        f"ws://127.0.0.1:{port}/graphql", subprotocols=["graphql-transport-ws"], max_size=None
    )
    await socket.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    return socket


async def subscribe(socket: websockets.ClientConnection, op: str, live_filter: dict) -> None:
    payload = {"query": SUBSCRIBE, "variables": {"f": live_filter}}
    await socket.send(json.dumps({"id": op, "type": "subscribe", "payload": payload}))


async def add_idle(port: int, sockets: list, have: int, want: int) -> None:
    for n in range(have, want):
        if n % PER_CONNECTION == 0:
            sockets.append(await open_socket(port))
        await subscribe(sockets[-1], f"idle-{n}", {"courseNumber": f"IDLE-{n}"})
    deadline = time.monotonic() + 120
    while (await statements(port))["subscriptions"] < want:
        if time.monotonic() > deadline:
            raise RuntimeError("the subscriptions did not all register")
        await asyncio.sleep(0.2)
    # Until the server is done with the subscribe messages (and anything else).
    while time.monotonic() < deadline:
        before = (await statements(port))["statements"]
        await asyncio.sleep(1.0)
        if (await statements(port))["statements"] - before <= 4:
            return
    raise RuntimeError("the server did not settle")


async def quiet_window(port: int, pid: int) -> tuple[float, float]:
    """Statements per second and CPU share of the server over QUIET_SECONDS."""
    before, cpu_before, started = (
        (await statements(port))["statements"],
        cpu_seconds(pid),
        time.monotonic(),
    )
    await asyncio.sleep(QUIET_SECONDS)
    elapsed = time.monotonic() - started
    after, cpu_after = (await statements(port))["statements"], cpu_seconds(pid)
    return (after - before) / elapsed, (cpu_after - cpu_before) / elapsed


async def delays(port: int) -> tuple[list[float], list[float], list[float]]:
    """Per event through POST /caliper on one worker: commit → delivered (the server
    notes each commit's wall-clock time, bench/live_server.py), POST sent → delivered,
    and the POST's own round trip."""
    probe = await open_socket(port)
    number = "PROBE-one"
    await subscribe(probe, "probe", {"courseNumber": number, "type": "GradeEvent"})
    await asyncio.sleep(1.0)
    received: dict[int, float] = {}
    since_post: list[float] = []
    round_trips: list[float] = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        for n in range(DELAY_SAMPLES):
            body = {"sensor": "bench", "data": [grade_event(n, number)]}
            started = time.perf_counter()
            posted = asyncio.create_task(
                http.post("/caliper", json=body, headers={"authorization": TOKEN})
            )
            message = json.loads(await asyncio.wait_for(probe.recv(), timeout=30))
            received[message["payload"]["data"]["eventAppended"]["position"]] = time.time()
            since_post.append(time.perf_counter() - started)
            answer = await posted
            round_trips.append(answer.elapsed.total_seconds())
            await asyncio.sleep(random.uniform(0, 0.05))
        commits = (await http.get("/bench/commits")).json()
    await probe.close()
    from_commit = [at - commits[str(position)] for position, at in received.items()]
    return from_commit, since_post, round_trips


async def commit_delays(
    subscribe_port: int, database_url: str, samples: int, spread: float
) -> list[float]:
    """Commit → delivered: this process appends through the store itself (another
    process, as a second worker or `coursegraph ingest` is), so the commit's time is
    known: append_batch returns right after it."""
    from app.caliper.reader import read_body
    from store.append import append_batch
    from store.db import create_store

    store = create_store(database_url)
    probe = await open_socket(subscribe_port)
    number = "PROBE-direct"
    await subscribe(probe, "probe", {"courseNumber": number, "type": "GradeEvent"})
    await asyncio.sleep(1.0)
    found: list[float] = []
    try:
        for n in range(samples):
            batch = read_body({"sensor": "bench", "data": [grade_event(10_000 + n, number)]})
            await append_batch(store, batch, source="bench")
            committed = time.perf_counter()
            message = json.loads(await asyncio.wait_for(probe.recv(), timeout=30))
            found.append(time.perf_counter() - committed)
            assert message["type"] == "next", message
            await asyncio.sleep(random.uniform(0, spread))
    finally:
        await probe.close()
        await store.close()
    return found


async def run(database_url: str, idle_counts: tuple[int, ...], rows: list[Row]) -> None:
    postgres = is_postgres(database_url)
    name = "PostgreSQL" if postgres else "SQLite"
    with ExitStack() as stack:
        port, pid = stack.enter_context(server(database_url))
        await statements(port)  # start counting
        sockets: list = []
        have = 0
        baseline: tuple[float, float] | None = None
        for count in idle_counts:
            await add_idle(port, sockets, have, count)
            have = count
            per_second, cpu = await quiet_window(port, pid)
            if baseline is None:
                baseline = (per_second, cpu)
            flat_statements = per_second <= baseline[0] + 0.2
            flat_cpu = cpu <= baseline[1] + 0.02
            rows.append(
                Row(
                    f"{name}: {count:,} idle subscriptions, statements",
                    f"{per_second:.2f}/s",
                    f"≤ {baseline[0]:.2f}/s + 0.2 (0 subs)",
                    flat_statements,
                )
            )
            rows.append(
                Row(
                    f"{name}: {count:,} idle subscriptions, worker CPU",
                    f"{cpu * 100:.1f} %",
                    f"≤ {baseline[1] * 100:.1f} % + 2 pts",
                    flat_cpu,
                )
            )
        from_commit, since_post, round_trips = await delays(port)
        rows.append(
            Row(f"{name}: POST /caliper round trip p50 (baseline)", fmt_ms(p50(round_trips)))
        )
        rows.append(Row(f"{name}: POST sent → delivered p50, one worker", fmt_ms(p50(since_post))))
        rows.append(Row(f"{name}: commit → delivered p50, one worker", fmt_ms(p50(from_commit))))
        p99 = percentile(from_commit, 99)
        rows.append(
            Row(
                f"{name}: commit → delivered p99, one worker, {have:,} idle",
                fmt_ms(p99),
                f"≤ {fmt_ms(ONE_WORKER_P99)}",
                p99 <= ONE_WORKER_P99,
            )
        )
        if postgres:
            delivered = await commit_delays(port, database_url, DELAY_SAMPLES, 0.05)
        else:  # poll-bound: fewer samples, spread over the poll interval
            delivered = await commit_delays(port, database_url, 15, POLL_SECONDS)
        p99 = percentile(delivered, 99)
        label = f"{name}: commit in another process → delivered"
        rows.append(Row(f"{label} p50", fmt_ms(p50(delivered))))
        if postgres:
            rows.append(
                Row(
                    f"{label} p99 (NOTIFY)",
                    fmt_ms(p99),
                    f"≤ {fmt_ms(ACROSS_WORKERS_P99)}",
                    p99 <= ACROSS_WORKERS_P99,
                )
            )
        else:
            rows.append(
                Row(
                    f"{label} p99 (poll)",
                    fmt_ms(p99),
                    f"≤ poll ({POLL_SECONDS:.0f} s) + 250 ms",
                    p99 <= POLL_SECONDS + 0.25,
                )
            )
        for socket in sockets:
            await socket.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--idle",
        type=lambda text: tuple(int(n) for n in text.split(",")),
        default=IDLE_COUNTS,
        help="idle subscription counts, comma-separated (default 0,1000,5000)",
    )
    parser.add_argument(
        "--database", help="a PostgreSQL URL: runs there (a throwaway database beside it)"
    )
    args = parser.parse_args()
    print(machine_line())
    rows: list[Row] = []
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    if args.database:
        url = asyncio.run(pg_create(args.database))
        try:
            asyncio.run(run(url, args.idle, rows))
        finally:
            asyncio.run(pg_drop(url))
    else:
        path = OUT_DIR / "live.db"
        remove_sqlite(path)
        try:
            asyncio.run(run(sqlite_url(path), args.idle, rows))
        finally:
            remove_sqlite(path)
    print_table("Live subscriptions", rows)


if __name__ == "__main__":
    main()
