"""Bytes per event and ingest rate of the store's layout, on bench/coursegen.py's semester.

    python bench/size.py --events 100000 [--postgres postgresql+asyncpg://…]

Loads the semester through the reader and append_batch (batches of 500, as ingest
writes them) into a new SQLite file (and a new PostgreSQL database), then prints:
bytes per event of the whole database (SQLite: file + WAL after a checkpoint;
PostgreSQL: pg_total_relation_size of every table of ours, indexes and TOAST
included), the share of each table and index (SQLite's dbstat), and events/s.
`measure_store(url, events)` is the same for another script to import."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.benchutil import is_postgres, pg_connect, pg_create, pg_drop, sqlite_url
from bench.coursegen import semester

BATCH = 500


@dataclass
class SizeReport:
    events: int
    seconds: float
    total_bytes: int
    parts: dict[str, int] = field(default_factory=dict)  # table or index -> bytes

    @property
    def bytes_per_event(self) -> float:
        return self.total_bytes / max(1, self.events)

    @property
    def rate(self) -> float:
        return self.events / self.seconds


async def load(url: str, events: int) -> tuple[int, float]:
    """(events appended, seconds) of the semester through read_body + append_batch."""
    from app.caliper.reader import read_body
    from app.startup import open_ready_store
    from store.append import append_batch

    store = await open_ready_store(url)
    appended = 0
    started = time.perf_counter()
    batch: list[dict[str, Any]] = []
    try:
        for event in semester(events, big_course=False).events():
            batch.append(event)
            if len(batch) >= BATCH:
                appended += (await append_batch(store, read_body(batch), source="size")).appended
                batch = []
        if batch:
            appended += (await append_batch(store, read_body(batch), source="size")).appended
    finally:
        await store.close()
    return appended, time.perf_counter() - started


def sqlite_sizes(path: Path) -> tuple[int, dict[str, int]]:
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        try:
            parts = dict(
                connection.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
            )
        except sqlite3.OperationalError:  # built without SQLITE_ENABLE_DBSTAT_VTAB
            parts = {}
    finally:
        connection.close()
    wal = Path(f"{path}-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0), parts


async def postgres_sizes(url: str) -> tuple[int, dict[str, int]]:
    connection = await pg_connect(url)
    try:
        await connection.execute("VACUUM ANALYZE")
        rows = await connection.fetch(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r'"
        )
        index_rows = await connection.fetch(
            "SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'i'"
        )
    finally:
        await connection.close()
    total = sum(int(size) for _name, size in rows)
    parts = {name: int(size) for name, size in rows}
    parts.update({f"  {name}": int(size) for name, size in index_rows})
    return total, parts


async def measure_store(url: str, events: int) -> SizeReport:
    """Load `events` generated events into the (new, empty) database at url and size it."""
    appended, seconds = await load(url, events)
    if is_postgres(url):
        total, parts = await postgres_sizes(url)
    else:
        from sqlalchemy.engine import make_url

        total, parts = sqlite_sizes(Path(make_url(url).database or ""))
    return SizeReport(appended, seconds, total, parts)


def print_report(backend: str, report: SizeReport) -> None:
    print(
        f"{backend}: {report.events:,} events, {report.total_bytes / 1e6:,.1f} MB = "
        f"{report.bytes_per_event:,.0f} bytes/event; ingest {report.rate:,.0f} events/s"
    )
    for name, size in sorted(report.parts.items(), key=lambda item: -item[1]):
        print(f"  {name:<40} {size / report.events:8.1f} bytes/event")


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        report = await measure_store(sqlite_url(Path(folder) / "size.db"), args.events)
        print_report("SQLite", report)
    if args.postgres:
        url = await pg_create(args.postgres)
        try:
            print_report("PostgreSQL", await measure_store(url, args.events))
        finally:
            await pg_drop(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--postgres", help="a PostgreSQL URL: also measure there")
    parser.add_argument("--folder", default=None, help="where the SQLite file goes")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
