"""`coursegraph ingest` throughput and memory against a plain-insert baseline (issues #2, #5).

    .venv/bin/python bench/ingest.py                    # 100,000 events, SQLite
    .venv/bin/python bench/ingest.py --events 20000     # a quick run
    .venv/bin/python bench/ingest.py --rss              # also 200 MB .jsonl.gz and .json.gz
    .venv/bin/python bench/ingest.py --database postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/ingest.py --profile          # py-spy profile of the ingest

The baseline, measured in the same run (before and after, averaged), reads the same
JSON Lines file and stores each line as it is into a one-table database, in batches
of BATCH_EVENTS rows, one transaction each: sqlite3 executemany (WAL,
synchronous=NORMAL) or asyncpg copy_records_to_table. `coursegraph ingest` runs as a
child process on a fresh database; its wall time includes interpreter start-up.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import re
import sqlite3
import sys
import time
from pathlib import Path

import orjson
from benchutil import (
    OUT_DIR,
    ChildRun,
    Row,
    coursegraph_exe,
    env_with,
    fmt_mb,
    fmt_rate,
    is_postgres,
    machine_line,
    pg_connect,
    pg_create,
    pg_drop,
    print_table,
    remove_sqlite,
    run_child,
    sqlite_url,
)
from coursegen import INGEST_VERSION, ingest_stream

from app.ingest import BATCH_EVENTS

RATIO_TARGET = 0.7
RSS_TARGET_MB = 200
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
    batch: list[tuple[str]] = []
    with open(path, "rb") as source:
        for line in source:
            batch.append((line.rstrip(b"\r\n").decode(),))
            if len(batch) == BATCH_EVENTS:
                yield batch
                batch = []
    if batch:
        yield batch


def baseline_sqlite(path: Path, db: Path) -> tuple[float, int]:
    remove_sqlite(db)
    connection = sqlite3.connect(db, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("CREATE TABLE events (position INTEGER PRIMARY KEY, raw TEXT NOT NULL)")
    rows = 0
    started = time.perf_counter()
    for batch in _batches(path):
        connection.execute("BEGIN")
        connection.executemany("INSERT INTO events (raw) VALUES (?)", batch)
        connection.execute("COMMIT")
        rows += len(batch)
    seconds = time.perf_counter() - started
    connection.close()
    remove_sqlite(db)
    return seconds, rows


async def baseline_postgres(path: Path, base_url: str) -> tuple[float, int]:
    url = await pg_create(base_url)
    try:
        connection = await pg_connect(url)
        await connection.execute(
            "CREATE TABLE events (position bigserial PRIMARY KEY, raw text NOT NULL)"
        )
        rows = 0
        started = time.perf_counter()
        for batch in _batches(path):
            async with connection.transaction():
                await connection.copy_records_to_table("events", records=batch, columns=["raw"])
            rows += len(batch)
        seconds = time.perf_counter() - started
        await connection.close()
    finally:
        await pg_drop(url)
    return seconds, rows


def baseline(path: Path, database: str | None) -> tuple[float, int]:
    if database and is_postgres(database):
        return asyncio.run(baseline_postgres(path, database))
    return baseline_sqlite(path, WORK / "baseline.db")


# --- coursegraph ingest ---------------------------------------------------------------------


SUMMARY = re.compile(r"read (\d+), appended (\d+)")


def ingest(path: Path, database: str | None, profile_to: Path | None = None) -> ChildRun:
    """`coursegraph ingest PATH` on a fresh database, as a child process."""
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
            return run_child(argv, env=env_with(COURSEGRAPH_DATABASE_URL=url))
        finally:
            asyncio.run(pg_drop(url))
    db = WORK / "ingest.db"
    remove_sqlite(db)
    try:
        return run_child(argv, env=env_with(COURSEGRAPH_DATABASE_URL=sqlite_url(db)))
    finally:
        remove_sqlite(db)


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
    args = parser.parse_args()
    backend = "PostgreSQL" if args.database and is_postgres(args.database) else "SQLite"
    print(f"ingest benchmark, {backend}; {machine_line()}")
    rows: list[Row] = []

    if not args.skip_throughput:
        path = events_file(args.events)
        size_mb = path.stat().st_size / 1e6
        before, count = baseline(path, args.database)
        run = ingest(path, args.database)
        stored = appended(run)
        after, _ = baseline(path, args.database)
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
                f"(b) peak RSS, {size_mb:.0f} MB .jsonl",
                fmt_mb(run.max_rss_kb),
                f"≤ {RSS_TARGET_MB} MB",
                run.max_rss_kb / 1024 <= RSS_TARGET_MB,
            ),
        ]

    if args.rss:
        lines_gz, array_gz, count = big_files(args.rss_mb)
        for label, path in (
            (f"{args.rss_mb} MB JSON Lines, gzipped", lines_gz),
            (f"{args.rss_mb} MB JSON array, gzipped", array_gz),
        ):
            run = ingest(path, args.database)
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
        run = ingest(path, args.database, profile_to=profile)
        print(f"\nprofile of `coursegraph ingest` ({run.seconds:.1f} s under py-spy) → {profile}")
        print(summarise(profile))


if __name__ == "__main__":
    main()
