"""`coursegraph seed`: the demo semester through the same ingest path as everything else."""

from __future__ import annotations

from app.files import Document
from app.ingest import Batcher, IngestSummary
from store.db import Store


async def seed_store(store: Store, *, scale: int = 1, show_progress: bool = False) -> IngestSummary:
    from seed.loader import iter_demo_envelopes

    summary = IngestSummary()
    batcher = Batcher(store, summary, "seed")
    envelopes = list(iter_demo_envelopes(scale))
    progress = None
    if show_progress:
        from rich.progress import Progress

        progress = Progress(transient=True)
        progress.start()
        task = progress.add_task("seed", total=len(envelopes))
    try:
        for index, envelope in enumerate(envelopes):
            batcher.add(Document(f"seed:{index + 1}", envelope))
            if batcher.full:
                await batcher.flush()
            if progress and index % 64 == 0:
                progress.update(task, completed=index + 1)
        await batcher.flush()
    finally:
        if progress:
            progress.stop()
    return summary
