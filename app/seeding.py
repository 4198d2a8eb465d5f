"""`coursegraph seed`: the demo semester through the same ingest path as everything else."""

from __future__ import annotations

from app.caliper.reader import read_body
from app.ingest import IngestSummary
from store.append import append_batch
from store.db import Store


async def seed_store(store: Store, *, scale: int = 1, show_progress: bool = False) -> IngestSummary:
    from seed.loader import iter_demo_envelopes

    summary = IngestSummary()
    envelopes = list(iter_demo_envelopes(scale))
    progress = None
    if show_progress:
        from rich.progress import Progress

        progress = Progress(transient=True)
        progress.start()
        task = progress.add_task("seed", total=len(envelopes))
    try:
        batch = None
        for index, envelope in enumerate(envelopes):
            part = read_body(envelope, base_path=f"seed[{index}]")
            summary.read += len(part.events) + len(part.descriptions) + len(part.rejected)
            if batch is None:
                batch = part
            else:
                batch.events.extend(part.events)
                batch.descriptions.extend(part.descriptions)
                batch.rejected.extend(part.rejected)
            if len(batch.events) >= 2000:
                summary.result.add(await append_batch(store, batch, source="seed"))
                batch = None
            if progress:
                progress.update(task, completed=index + 1)
        if batch is not None:
            summary.result.add(await append_batch(store, batch, source="seed"))
    finally:
        if progress:
            progress.stop()
    return summary
