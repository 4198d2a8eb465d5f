"""Server memory after serving many different courses (issue #10).

    .venv/bin/python bench/memory.py                      # 1,000,000-event SQLite store
    .venv/bin/python bench/memory.py --events 100000      # quicker
    .venv/bin/python bench/memory.py --database postgresql+asyncpg://postgres@127.0.0.1:5432/postgres [--keep-db]

Starts `coursegraph serve` (one worker) on the query benchmark's cached store
(bench/query.py builds it), asks the contract's CourseOverview operation over HTTP for
every course of the store (up to --courses), and reads the server's resident memory
(VmRSS in /proc) before and after, and its peak (VmHWM). Target: at most 250 MB RSS
after the last course. The state cache's own estimate of what it holds comes from the
server's /metrics. `measure_memory` is what other benchmarks import.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import orjson
from benchutil import (
    Row,
    coursegraph_exe,
    env_with,
    free_port,
    is_postgres,
    machine_line,
    p50,
    pg_drop,
    print_table,
    serving,
)
from coursegen import semester
from query import COURSE_OVERVIEW, ensure_store

RSS_TARGET_MB = 250.0


def process_memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak resident) of a process, in kB, from /proc."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(rest.split()[0])
    return found


def cache_bytes_from_metrics(base: str) -> int | None:
    text = httpx.get(f"{base}/metrics", timeout=30).text
    for line in text.splitlines():
        if line.startswith("coursegraph_state_cache_bytes "):
            return int(float(line.split()[1]))
    return None


def measure_memory(
    url: str, course_numbers: Sequence[str], extra_env: dict[str, str] | None = None
) -> list[Row]:
    """Serve `url`, ask CourseOverview of each course once over HTTP, and report the
    server's RSS against the target (rows for a benchmark's table)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = env_with(COURSEGRAPH_DATABASE_URL=url, COURSEGRAPH_API_TOKENS="", **(extra_env or {}))
    serve = [coursegraph_exe(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    serve += ["--log-level", "warning"]
    times: list[float] = []
    with serving(serve, f"{base}/healthz", env) as pid, httpx.Client(timeout=60) as client:
        client.post(f"{base}/graphql", json={"query": "{ __typename }"})
        before = process_memory_kb(pid)
        for number in course_numbers:
            body = orjson.dumps(
                {
                    "query": COURSE_OVERVIEW,
                    "operationName": "CourseOverview",
                    "variables": {"courseNumber": number},
                }
            )
            started = time.perf_counter()
            answer = client.post(
                f"{base}/graphql", content=body, headers={"content-type": "application/json"}
            )
            times.append(time.perf_counter() - started)
            data = answer.json()
            if answer.status_code != 200 or data.get("errors") or not data["data"]["course"]:
                raise RuntimeError(f"CourseOverview of {number} failed: {answer.text[:500]}")
        after = process_memory_kb(pid)
        cached = cache_bytes_from_metrics(base)
    rss_mb = after["VmRSS"] / 1024
    return [
        Row("courses asked (CourseOverview over HTTP, each once)", f"{len(course_numbers):,}"),
        Row("baseline: server RSS after start-up", f"{before['VmRSS'] / 1024:.0f} MB"),
        Row(
            "server RSS after every course",
            f"{rss_mb:.0f} MB",
            f"≤ {RSS_TARGET_MB:.0f} MB",
            rss_mb <= RSS_TARGET_MB,
        ),
        Row("server peak RSS (VmHWM)", f"{after['VmHWM'] / 1024:.0f} MB"),
        Row(
            "state cache's estimate of what it holds",
            "n/a" if cached is None else f"{cached / 1_048_576:.1f} MB",
        ),
        Row(
            "CourseOverview over HTTP, first ask of each course: p50", f"{p50(times) * 1000:.1f} ms"
        ),
    ]


async def run(args: argparse.Namespace) -> None:
    backend = "PostgreSQL" if args.database and is_postgres(args.database) else "SQLite"
    print(f"memory benchmark, {backend}; {machine_line()}")
    url = await ensure_store(args.events, True, args.database, args.keep_db)
    plan = semester(args.events, big_course=True)
    courses = list(plan.courses) + ([plan.big_course] if plan.big_course else [])
    numbers = [course.number for course in courses][: args.courses]
    extra = {"COURSEGRAPH_CACHE_BYTES": str(args.cache_bytes)} if args.cache_bytes else {}
    try:
        rows = measure_memory(url, numbers, extra)
    finally:
        if is_postgres(url) and not args.keep_db:
            await pg_drop(url)
    print_table(f"server memory, {backend}, {plan.total:,}-event store", rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--courses", type=int, default=1_000, help="different courses to ask")
    parser.add_argument("--database", help="postgresql+asyncpg://… runs on PostgreSQL")
    parser.add_argument("--keep-db", action="store_true", help="PostgreSQL: keep and reuse")
    parser.add_argument("--cache-bytes", type=int, help="COURSEGRAPH_CACHE_BYTES for the server")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
