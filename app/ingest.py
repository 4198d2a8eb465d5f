"""`coursegraph ingest`: files → reader → store, in batches of one transaction each."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from app.caliper.model import (
    EntityDescription,
    ReadBatch,
    ReadEvent,
    RejectedItem,
    ShapeError,
    UnsupportedVersion,
)
from app.caliper.reader import check_data_version, read_body, reject
from app.files import Document, Problem, Repaired, open_binary, read_items
from app.settings import Settings
from store.append import AppendResult, append_batch
from store.db import Store

# The most items (events, entity descriptions, rejected items) one transaction holds,
# however small; Settings.ingest_batch_bytes bounds their bytes.
BATCH_EVENTS = 10_000
DEFAULT_BATCH_BYTES: int = Settings.model_fields["ingest_batch_bytes"].default


@dataclass
class IngestSummary:
    read: int = 0
    result: AppendResult = field(default_factory=AppendResult)
    problems: list[str] = field(default_factory=list)  # "file:line[:col]: reason"
    repairs: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.result.rejected)

    def line(self) -> str:
        r = self.result
        return (
            f"read {self.read}, appended {r.appended}, duplicates {r.duplicates}, "
            f"conflicts {r.conflicts}, rejected {self.rejected}, entities {r.entities}"
        )


class Batcher:
    def __init__(
        self,
        store: Store,
        summary: IngestSummary,
        source: str,
        batch_bytes: int = DEFAULT_BATCH_BYTES,
    ) -> None:
        self.store = store
        self.summary = summary
        self.source = source
        self.batch_bytes = batch_bytes
        self.batch = ReadBatch()
        self.held_items = 0
        self.held_bytes = 0  # of the stored JSON of what self.batch holds

    def add(self, document: Document) -> None:
        where = document.where
        try:
            check_data_version(document.value, document.path)
            part = read_body(document.value, base_path=document.path)
        except (ShapeError, UnsupportedVersion) as error:
            rejected = reject(document.value, f"{where} {error.path}", error.reason)
            self.batch.rejected.append(rejected)
            self._held([rejected])
            self.summary.read += 1
            self.summary.problems.append(f"{where}: {error}")
            return
        for item in part.rejected:
            self.summary.problems.append(f"{where}: {item.path}: {item.reason}")
            self.batch.rejected.append(reject(item.raw, f"{where} {item.path}", item.reason))
        self.summary.read += len(part.events) + len(part.descriptions) + len(part.rejected)
        self.batch.events.extend(part.events)
        self.batch.descriptions.extend(
            replace(item, path=f"{where} {item.path}") for item in part.descriptions
        )
        self._held(part.events, part.descriptions, part.rejected)

    def _held(self, *parts: Sequence[ReadEvent | EntityDescription | RejectedItem]) -> None:
        for part in parts:
            self.held_items += len(part)
            self.held_bytes += sum(len(item.raw_json) for item in part)

    def add_problem(self, problem: Problem) -> None:
        self.summary.read += 1
        self.summary.problems.append(f"{problem.where}: {problem.reason}")
        rejected = reject(problem.raw, problem.where, problem.reason)
        self.batch.rejected.append(rejected)
        self._held([rejected])

    @property
    def full(self) -> bool:
        return self.held_items >= BATCH_EVENTS or self.held_bytes >= self.batch_bytes

    async def flush(self) -> None:
        batch = self.batch
        if not (batch.events or batch.descriptions or batch.rejected):
            return
        self.batch = ReadBatch()
        self.held_items = self.held_bytes = 0
        self.summary.result.add(await append_batch(self.store, batch, source=self.source))


async def ingest_files(
    store: Store,
    files: Iterable[str],
    *,
    repair: bool = False,
    on_progress: Callable[[str, int], Any] | None = None,
    source: str = "ingest",
    batch_bytes: int = DEFAULT_BATCH_BYTES,
) -> IngestSummary:
    """on_progress(file, bytes of it read so far) is called now and then. Each transaction
    holds about `batch_bytes` of events' stored JSON, at most BATCH_EVENTS events."""
    summary = IngestSummary()
    batcher = Batcher(store, summary, source, batch_bytes)
    for name in files:
        raw, stream = open_binary(name)
        try:
            for count, item in enumerate(read_items(name, stream, repair=repair)):
                if on_progress and count % 256 == 0:
                    on_progress(name, _offset(raw))
                if isinstance(item, Document):
                    batcher.add(item)
                elif isinstance(item, Problem):
                    batcher.add_problem(item)
                elif isinstance(item, Repaired):
                    summary.repairs.append(f"{item.where}: {item.what}")
                if batcher.full:
                    await batcher.flush()
        finally:
            if on_progress:
                on_progress(name, _offset(raw))
            if name != "-":
                stream.close()
                raw.close()
    await batcher.flush()
    return summary


def _offset(raw: Any) -> int:
    try:
        return int(raw.tell())
    except (OSError, ValueError):
        return 0
