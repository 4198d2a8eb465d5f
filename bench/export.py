"""`coursegraph export` on a big store: peak RSS and rows per second (issue #12).

    .venv/bin/python bench/export.py                       # 1,000,000-event store, Parquet
    .venv/bin/python bench/export.py --events 100000       # quicker
    .venv/bin/python bench/export.py --formats parquet,csv,jsonl
    .venv/bin/python bench/export.py --database postgresql+asyncpg://postgres@127.0.0.1:5432/postgres [--keep-db]

The store is bench/query.py's (built once and cached: the same courses, and one course
with 10,000 attempts). Measured in one run:

- baseline: the cheapest dump of the log there is, the events table's columns read in
  position order and written as CSV with no parsing (sqlite3 + csv, or PostgreSQL's
  COPY), in a child process;
- `coursegraph export --format F --out DIR` as a child process, per format: wall time
  (interpreter start-up included), the child's own peak RSS (wait4), rows written over
  every table and per second, and the ratio of its log rate to the baseline's.

Target: peak RSS <= 300 MB. Rates have no target: they are printed beside the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

from benchutil import (
    OUT_DIR,
    Row,
    coursegraph_exe,
    env_with,
    fmt_mb,
    fmt_rate,
    is_postgres,
    machine_line,
    pg_drop,
    print_table,
    run_child,
)
from query import ensure_store
from sqlalchemy.engine import make_url

RSS_TARGET_MB = 300
# The columns the export's `events` table holds, in the store's own table (a layout change
# moves this with it).
# The log's columns as stored (revision 0004: term ids, compressed raw), dumped as they are.
LOG_COLUMNS = (
    "position, event_key, type, action, event_time, received_at, actor_id, object_id, "
    "course_id, codec, raw"
)
SQLITE_DUMP = f"""
import csv, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
with open(sys.argv[2], "w", newline="") as f:
    out = csv.writer(f)
    rows = 0
    for row in db.execute("SELECT {LOG_COLUMNS} FROM events ORDER BY position"):
        out.writerow(row)
        rows += 1
print(rows)
"""
POSTGRES_DUMP = f"""
import asyncio, sys
import asyncpg
async def main():
    db = await asyncpg.connect(sys.argv[1])
    with open(sys.argv[2], "wb") as f:
        status = await db.copy_from_query(
            "SELECT {LOG_COLUMNS} FROM events ORDER BY position", output=f, format="csv")
    await db.close()
    print(status.split()[-1])
asyncio.run(main())
"""


def baseline(url: str, folder: Path) -> tuple[float, int, int]:
    """(seconds, rows, peak RSS in KB) of the plain dump."""
    target = folder / "baseline.csv"
    if is_postgres(url):
        plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        argv = [sys.executable, "-c", POSTGRES_DUMP, plain, str(target)]
    else:
        argv = [sys.executable, "-c", SQLITE_DUMP, make_url(url).database or "", str(target)]
    run = run_child(argv)
    if run.returncode != 0:
        raise RuntimeError(f"the baseline dump failed: {run.stderr}")
    target.unlink()
    return run.seconds, int(run.stdout.split()[-1]), run.max_rss_kb


def export_rows(stdout: str) -> dict[str, int]:
    """`path<TAB>N rows` per table, as the command prints them."""
    found = {}
    for line in stdout.splitlines():
        path, count = line.split("\t")
        found[Path(path).stem] = int(count.split()[0])
    return found


def measure(url: str, formats: list[str]) -> list[Row]:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(dir=OUT_DIR) as scratch:
        folder = Path(scratch)
        base_seconds, base_rows, base_rss = baseline(url, folder)
        base_rate = base_rows / base_seconds
        rows.append(Row("baseline: plain CSV dump of the log", fmt_rate(base_rate)))
        rows.append(
            Row(
                "baseline: its rows / time / peak RSS",
                f"{base_rows:,} / {base_seconds:.1f} s / {fmt_mb(base_rss)}",
            )
        )
        for format in formats:
            out = folder / format
            run = run_child(
                [coursegraph_exe(), "export", "--format", format, "--out", str(out)],
                env=env_with(COURSEGRAPH_DATABASE_URL=url),
            )
            if run.returncode != 0:
                raise RuntimeError(f"export --format {format} failed: {run.stderr}")
            written = export_rows(run.stdout)
            total = sum(written.values())
            size = sum(p.stat().st_size for p in out.iterdir())
            shutil.rmtree(out)
            rss_mb = run.max_rss_kb / 1024
            rows += [
                Row(
                    f"{format}: peak RSS",
                    fmt_mb(run.max_rss_kb),
                    f"<= {RSS_TARGET_MB} MB",
                    rss_mb <= RSS_TARGET_MB,
                ),
                Row(f"{format}: wall time", f"{run.seconds:.1f} s"),
                Row(
                    f"{format}: rows (events + projections)",
                    f"{written['events']:,} + {total - written['events']:,}",
                ),
                Row(f"{format}: rows/s, every table", fmt_rate(total / run.seconds)),
                Row(
                    f"{format}: log rows / whole wall time, vs baseline",
                    f"{written['events'] / run.seconds / base_rate:.2f}×",
                ),
                Row(f"{format}: files", f"{size / 1e6:,.0f} MB"),
            ]
            if written["events"] != base_rows:
                rows.append(
                    Row(
                        f"{format}: events written = stored",
                        f"{written['events']:,}",
                        f"{base_rows:,}",
                        False,
                    )
                )
    return rows


async def run(args: argparse.Namespace) -> None:
    backend = "PostgreSQL" if args.database and is_postgres(args.database) else "SQLite"
    print(f"export benchmark, {backend}; {machine_line()}")
    url = await ensure_store(args.events, True, args.database, args.keep_db)
    try:
        rows = measure(url, args.formats.split(","))
    finally:
        if is_postgres(url) and not args.keep_db:
            await pg_drop(url)
    print_table(f"export, {backend}, {args.events:,}-event store", rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--formats", default="parquet", help="comma-separated: parquet,csv,jsonl")
    parser.add_argument("--database", help="postgresql+asyncpg://… runs on PostgreSQL")
    parser.add_argument("--keep-db", action="store_true", help="PostgreSQL: keep and reuse")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
