"""`coursegraph ingest` throughput and memory against a plain-insert baseline (issues #2, #5).

    .venv/bin/python bench/ingest.py                    # 100,000 events, SQLite
    .venv/bin/python bench/ingest.py --events 20000     # a quick run
    .venv/bin/python bench/ingest.py --rss              # also 200 MB .jsonl.gz and .json.gz
    .venv/bin/python bench/ingest.py --database postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/ingest.py --profile          # py-spy profile of the ingest
    .venv/bin/python bench/ingest.py --http             # + POST /caliper, 8 senders

The baseline, measured in the same run (before and after, averaged), reads the same
JSON Lines file, parses each line with orjson and stores it as it came into a one-table
database, in the batches `coursegraph ingest` makes (about 10 MiB, at most BATCH_EVENTS
rows), one transaction each: sqlite3 executemany
(WAL, synchronous=NORMAL) or asyncpg copy_records_to_table. `coursegraph ingest` runs
as a child process on a fresh database; its wall time includes interpreter start-up.
On SQLite the bytes it wrote (/proc/<pid>/io write_bytes) are compared with the
database's size at the end.

`--http` sends the same events to `coursegraph serve` (one worker, a fresh database)
as Caliper envelopes of 10-50 events, each once, from 8 concurrent senders
(bench/loadgen.py --once), and compares the rate with `coursegraph ingest`'s.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import random
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import orjson
from benchutil import (
    BENCH_DIR,
    OUT_DIR,
    ChildRun,
    Row,
    coursegraph_exe,
    env_with,
    fmt_mb,
    fmt_rate,
    free_port,
    is_postgres,
    machine_line,
    pg_connect,
    pg_create,
    pg_drop,
    print_table,
    remove_sqlite,
    run_child,
    serving,
    sqlite_url,
)
from coursegen import INGEST_VERSION, ingest_stream

from app.ingest import BATCH_EVENTS, DEFAULT_BATCH_BYTES

RATIO_TARGET = 0.7
RSS_TARGET_MB = 200
WRITE_AMPLIFICATION_TARGET = 3.0
HTTP_RATE_TARGET = 5_000
HTTP_RATIO_TARGET = 0.8
HTTP_SENDERS = 8
ENVELOPE_EVENTS = (10, 50)
WORK = OUT_DIR / "ingest"


# --- input files ------------------------------------------------------------------------


def events_file(n: int) -> Path:
    path = WORK / f"events-{n}-g{INGEST_VERSION}.jsonl"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    started = time.perf_counter()
    with open(partial, "wb") as out:
        for event in ingest_stream(n):
            out.write(orjson.dumps(event) + b"\n")
    partial.rename(path)
    print(f"generated {n:,} events in {time.perf_counter() - started:.1f} s → {path}")
    return path


def big_files(megabytes: int) -> tuple[Path, Path, int]:
    """(JSON Lines .gz, one JSON array .gz, events in each): `megabytes` uncompressed."""
    lines_path = WORK / f"rss-{megabytes}MB-g{INGEST_VERSION}.jsonl.gz"
    array_path = WORK / f"rss-{megabytes}MB-g{INGEST_VERSION}.json.gz"
    count_path = WORK / f"rss-{megabytes}MB-g{INGEST_VERSION}.count"
    if lines_path.exists() and array_path.exists() and count_path.exists():
        return lines_path, array_path, int(count_path.read_text())
    WORK.mkdir(parents=True, exist_ok=True)
    limit = megabytes * 1_000_000
    written = count = 0
    started = time.perf_counter()
    with (
        gzip.open(lines_path, "wb", compresslevel=1) as lines,
        gzip.open(array_path, "wb", compresslevel=1) as array,
    ):
        array.write(b"[\n")
        for event in ingest_stream(10_000_000, seed=2):
            text = orjson.dumps(event)
            lines.write(text + b"\n")
            array.write((b",\n" if count else b"") + text)
            written += len(text) + 1
            count += 1
            if written >= limit:
                break
        array.write(b"\n]\n")
    count_path.write_text(str(count))
    print(
        f"generated two {megabytes} MB files ({count:,} events) in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return lines_path, array_path, count


# --- the baseline -------------------------------------------------------------------------


def _batches(path: Path):
    """Each line parsed with orjson (as any ingest must) and kept as it came; batches
    bounded as `coursegraph ingest` bounds its transactions."""
    batch: list[tuple[str]] = []
    held = 0
    with open(path, "rb") as source:
        for line in source:
            text = line.rstrip(b"\r\n")
            orjson.loads(text)
            batch.append((text.decode(),))
            held += len(text)
            if len(batch) == BATCH_EVENTS or held >= DEFAULT_BATCH_BYTES:
                yield batch
                batch, held = [], 0
    if batch:
        yield batch


def baseline_sqlite(path: Path, db: Path) -> tuple[float, int, float]:
    remove_sqlite(db)
    connection = sqlite3.connect(db, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("CREATE TABLE events (position INTEGER PRIMARY KEY, raw TEXT NOT NULL)")
    rows = 0
    started = time.perf_counter()
    cpu_started = time.process_time()
    for batch in _batches(path):
        connection.execute("BEGIN")
        connection.executemany("INSERT INTO events (raw) VALUES (?)", batch)
        connection.execute("COMMIT")
        rows += len(batch)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    connection.close()
    remove_sqlite(db)
    return seconds, rows, cpu


async def baseline_postgres(path: Path, base_url: str) -> tuple[float, int, float]:
    url = await pg_create(base_url)
    try:
        connection = await pg_connect(url)
        await connection.execute(
            "CREATE TABLE events (position bigserial PRIMARY KEY, raw text NOT NULL)"
        )
        rows = 0
        started = time.perf_counter()
        cpu_started = time.process_time()
        for batch in _batches(path):
            async with connection.transaction():
                await connection.copy_records_to_table("events", records=batch, columns=["raw"])
            rows += len(batch)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_started  # the client's alone: the server's is not seen
        await connection.close()
    finally:
        await pg_drop(url)
    return seconds, rows, cpu


def baseline(path: Path, database: str | None) -> tuple[float, int, float]:
    """(wall seconds, rows, CPU seconds of this process)."""
    if database and is_postgres(database):
        return asyncio.run(baseline_postgres(path, database))
    return baseline_sqlite(path, WORK / "baseline.db")


# --- coursegraph ingest ---------------------------------------------------------------------


SUMMARY = re.compile(r"read (\d+), appended (\d+)")


def ingest(
    path: Path, database: str | None, profile_to: Path | None = None
) -> tuple[ChildRun, int | None]:
    """`coursegraph ingest PATH` on a fresh database, as a child process; with the SQLite
    database's size once it has ended (None on PostgreSQL)."""
    argv = [coursegraph_exe(), "ingest", str(path)]
    if profile_to is not None:
        argv = [
            str(Path(sys.executable).parent / "py-spy"),
            "record",
            "--format",
            "raw",
            "--rate",
            "200",
            "--subprocesses",
            "-o",
            str(profile_to),
            "--",
            *argv,
        ]
    if database and is_postgres(database):
        url = asyncio.run(pg_create(database))
        try:
            return run_child(argv, env=env_with(COURSEGRAPH_DATABASE_URL=url)), None
        finally:
            asyncio.run(pg_drop(url))
    db = WORK / "ingest.db"
    remove_sqlite(db)
    try:
        run = run_child(argv, env=env_with(COURSEGRAPH_DATABASE_URL=sqlite_url(db)))
        return run, _sqlite_bytes(db)
    finally:
        remove_sqlite(db)


def _sqlite_bytes(db: Path) -> int:
    return sum(
        Path(f"{db}{suffix}").stat().st_size
        for suffix in ("", "-wal")
        if Path(f"{db}{suffix}").exists()
    )


# --- POST /caliper ------------------------------------------------------------------------


def envelopes_file(path: Path) -> tuple[Path, int, int]:
    """The events of `path` as Caliper envelopes of 10-50 events (a seeded draw), one
    request body a line: (file, bodies, events)."""
    out = path.with_name(f"{path.stem}.envelopes.jsonl")
    rng = random.Random(10)
    bodies = events = 0
    with open(path, "rb") as source, open(out, "wb") as sink:
        pending: list[bytes] = []
        size = rng.randint(*ENVELOPE_EVENTS)
        for line in source:
            pending.append(line.rstrip(b"\r\n"))
            if len(pending) == size:
                sink.write(_envelope(pending, bodies) + b"\n")
                bodies, events = bodies + 1, events + len(pending)
                pending, size = [], rng.randint(*ENVELOPE_EVENTS)
        if pending:
            sink.write(_envelope(pending, bodies) + b"\n")
            bodies, events = bodies + 1, events + len(pending)
    return out, bodies, events


def _envelope(events: list[bytes], number: int) -> bytes:
    head = orjson.dumps(
        {
            "sensor": "https://learn.example.edu/caliper/sensor",
            "sendTime": f"2026-10-15T20:{number // 60 % 60:02d}:{number % 60:02d}.000Z",
            "dataVersion": "http://purl.imsglobal.org/ctx/caliper/v1p1",
        }
    )
    return head[:-1] + b',"data":[' + b",".join(events) + b"]}"


def http_ingest(path: Path, database: str | None) -> tuple[float, int, dict]:
    """(seconds, events, loadgen's answer) for every event of `path` POSTed to /caliper
    of `coursegraph serve` (one worker) on a fresh database."""
    bodies_path, bodies, events = envelopes_file(path)
    token = "bench-ingest-token"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = [coursegraph_exe(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    load = [sys.executable, str(BENCH_DIR / "loadgen.py"), f"{base}/caliper", str(bodies_path)]
    load += ["--once", "--connections", str(HTTP_SENDERS), "--seconds", "600"]
    load += ["--header", f"authorization: Bearer {token}"]
    pg_url = asyncio.run(pg_create(database)) if database and is_postgres(database) else None
    db = WORK / "http.db"
    remove_sqlite(db)
    url = pg_url or sqlite_url(db)
    env = env_with(COURSEGRAPH_DATABASE_URL=url, COURSEGRAPH_INGEST_TOKENS=token)
    try:
        with serving(serve, f"{base}/healthz", env):
            done = subprocess.run(load, capture_output=True, text=True, check=True)
        result = json.loads(done.stdout)
    finally:
        if pg_url:
            asyncio.run(pg_drop(pg_url))
        remove_sqlite(db)
        bodies_path.unlink(missing_ok=True)
    if result["errors"] or result["requests"] != bodies:
        raise SystemExit(f"POST /caliper: {result} of {bodies} bodies")
    return result["seconds"], events, result


def appended(run: ChildRun) -> int:
    match = SUMMARY.search(run.stdout)
    if run.returncode != 0 or not match:
        print(run.stdout[-2000:], run.stderr[-3000:], sep="\n", file=sys.stderr)
        raise SystemExit(f"coursegraph ingest failed (exit {run.returncode})")
    return int(match[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--database", help="postgresql+asyncpg://… (databases made and dropped)")
    parser.add_argument("--rss", action="store_true", help="also ingest two 200 MB .gz files")
    parser.add_argument("--rss-mb", type=int, default=200)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--profile", action="store_true", help="py-spy the ingest child")
    parser.add_argument("--http", action="store_true", help="also POST the events to /caliper")
    args = parser.parse_args()
    backend = "PostgreSQL" if args.database and is_postgres(args.database) else "SQLite"
    print(f"ingest benchmark, {backend}; {machine_line()}")
    rows: list[Row] = []

    if not args.skip_throughput:
        path = events_file(args.events)
        size_mb = path.stat().st_size / 1e6
        before, count, cpu_before = baseline(path, args.database)
        run, db_bytes = ingest(path, args.database)
        stored = appended(run)
        after, _, cpu_after = baseline(path, args.database)
        base_rate = count / ((before + after) / 2)
        rate = stored / run.seconds
        ratio = rate / base_rate
        print(
            f"\n{count:,} events, {size_mb:.0f} MB JSON Lines; baseline {before:.2f} s before, "
            f"{after:.2f} s after; ingest {run.seconds:.2f} s, {stored:,} appended"
        )
        rows += [
            Row("(a) baseline, plain insert", fmt_rate(base_rate)),
            Row("(b) coursegraph ingest", fmt_rate(rate)),
            Row("ratio b/a", f"{ratio:.3f}", f"≥ {RATIO_TARGET}", ratio >= RATIO_TARGET),
            Row(
                "CPU seconds (a), (b)", f"{(cpu_before + cpu_after) / 2:.2f}, {run.cpu_seconds:.2f}"
            ),
            Row(
                f"(b) peak RSS, {size_mb:.0f} MB .jsonl",
                fmt_mb(run.max_rss_kb),
                f"≤ {RSS_TARGET_MB} MB",
                run.max_rss_kb / 1024 <= RSS_TARGET_MB,
            ),
        ]
        if db_bytes and run.write_bytes is not None:
            amplification = run.write_bytes / db_bytes
            rows += [
                Row("(b) database size", f"{db_bytes / 1e6:,.0f} MB"),
                Row("(b) bytes written", f"{run.write_bytes / 1e6:,.0f} MB"),
                Row(
                    "written / database size",
                    f"{amplification:.1f}x",
                    f"≤ {WRITE_AMPLIFICATION_TARGET:.0f}x",
                    amplification <= WRITE_AMPLIFICATION_TARGET,
                ),
            ]
        if args.http:
            seconds, events, _ = http_ingest(path, args.database)
            http_rate = events / seconds
            print(f"POST /caliper: {events:,} events in {seconds:.2f} s")
            rows += [
                Row(
                    f"(c) POST /caliper, {HTTP_SENDERS} senders",
                    fmt_rate(http_rate),
                    f"≥ {HTTP_RATE_TARGET:,}/s",
                    http_rate >= HTTP_RATE_TARGET,
                ),
                Row(
                    "ratio c/b",
                    f"{http_rate / rate:.3f}",
                    f"≥ {HTTP_RATIO_TARGET}",
                    http_rate / rate >= HTTP_RATIO_TARGET,
                ),
            ]

    if args.rss:
        lines_gz, array_gz, count = big_files(args.rss_mb)
        for label, path in (
            (f"{args.rss_mb} MB JSON Lines, gzipped", lines_gz),
            (f"{args.rss_mb} MB JSON array, gzipped", array_gz),
        ):
            run, _ = ingest(path, args.database)
            stored = appended(run)
            rows.append(Row(f"{label}: rate", fmt_rate(stored / run.seconds)))
            rows.append(
                Row(
                    f"{label}: peak RSS",
                    fmt_mb(run.max_rss_kb),
                    f"≤ {RSS_TARGET_MB} MB",
                    run.max_rss_kb / 1024 <= RSS_TARGET_MB,
                )
            )
            if stored != count:
                print(f"warning: {path.name}: {stored} appended of {count}", file=sys.stderr)

    if rows:
        print_table(f"coursegraph ingest, {backend}", rows)

    if args.profile:
        from pyspy_summary import summarise

        path = events_file(args.events)
        profile = WORK / f"ingest-{backend.lower()}.pyspy.txt"
        run, _ = ingest(path, args.database, profile_to=profile)
        print(f"\nprofile of `coursegraph ingest` ({run.seconds:.1f} s under py-spy) → {profile}")
        print(summarise(profile))


if __name__ == "__main__":
    main()
