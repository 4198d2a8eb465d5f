"""What `ingest` and `seed` print: a progress bar on a terminal, problems, one summary line."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from app.ingest import IngestSummary, ingest_files
from app.settings import Settings
from app.startup import open_ready_store


@contextmanager
def _progress(files: list[str]) -> Iterator[Any]:
    """A byte-based progress bar when stderr is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from app.files import file_size

    sizes = {name: file_size(name) or 0 for name in files}
    with Progress(
        TextColumn("[bold]ingest"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as progress:
        task = progress.add_task("ingest", total=sum(sizes.values()) or None)
        done_before: dict[str, int] = {}

        def update(name: str, offset: int) -> None:
            done_before[name] = offset
            progress.update(task, completed=sum(done_before.values()))

        yield update


def report(summary: IngestSummary, *, out: Any = sys.stderr) -> int:
    for line in summary.repairs:
        print(f"repaired {line}", file=out)
    for line in summary.problems:
        print(line, file=out)
    print(summary.line(), file=sys.stdout)
    return 1 if summary.rejected else 0


async def run_ingest(settings: Settings, files: list[str], *, repair: bool) -> int:
    store = await open_ready_store(settings.database_url)
    try:
        with _progress(files) as on_progress:
            summary = await ingest_files(
                store,
                files,
                repair=repair,
                on_progress=on_progress,
                batch_bytes=settings.ingest_batch_bytes,
            )
    finally:
        await store.close()
    return report(summary)


async def run_seed(settings: Settings, *, scale: int) -> int:
    from app.seeding import seed_store

    store = await open_ready_store(settings.database_url)
    try:
        summary = await seed_store(store, scale=scale, show_progress=sys.stderr.isatty())
    finally:
        await store.close()
    return report(summary)
