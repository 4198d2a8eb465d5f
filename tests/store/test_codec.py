"""Raw JSON is stored compressed (store.codec) and comes back exactly as received: every
Blackboard sample and every event of the seed semester, through the real store."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.caliper.canonical import loads
from app.caliper.model import ReadBatch
from app.caliper.reader import read_body
from app.repair import repair_text
from seed.loader import iter_demo_envelopes
from store import codec, read
from store.append import append_batch
from store.db import Store
from store.tables import EventRow, RejectedItemRow
from tests.store.rows import readable_rows


def test_encode_uses_the_current_dictionary_and_decode_reads_every_codec() -> None:
    raw = b'{"type":"ViewEvent","action":"Viewed","id":"urn:uuid:1","caf\xc3\xa9":"\\u0000"}'
    chosen, blob = codec.encode(raw)
    assert chosen == codec.CURRENT and chosen >= 1 and len(blob) < len(raw)
    assert codec.decode(chosen, blob) == raw
    assert codec.decode(codec.PLAIN, raw) == raw
    with pytest.raises(codec.UnknownCodec, match="codec 99"):
        codec.decode(99, blob)


def sample_batches(samples_dir: Path) -> list[ReadBatch]:
    batches = []
    for path in sorted(samples_dir.glob("*.json")):
        text, _, _ = repair_text(path.read_text(encoding="utf-8"))
        try:
            batches.append(read_body(loads(text)))
        except ValueError:
            continue  # split or broken blocks: tests/test_samples.py covers them
    return batches


async def assert_every_event_reads_back_exactly(store: Store, batches: list[ReadBatch]) -> None:
    sent = {}
    rejected = {}
    for batch in batches:
        await append_batch(store, batch, source="test")
        sent.update((event.content_hash, event) for event in batch.events)
        rejected.update((item.content_hash, item.raw_json) for item in batch.rejected)
    async with store.reader.connect() as connection:
        rows = await readable_rows(connection, EventRow.__table__)
        rejected_rows = await readable_rows(connection, RejectedItemRow.__table__)
    assert len(rows) == len(sent) > 0
    for row in rows:
        assert row["raw"].encode() == sent[row["content_hash"]].raw_json  # the same bytes
    assert {row["content_hash"]: row["raw"].encode() for row in rejected_rows} == rejected
    # What the API serves as Event.raw: the value as received.
    stored = await read.page_events(
        store, read.EventQuery(), after_cursor_position=None, limit=len(rows)
    )
    by_position = {row["position"]: row["content_hash"] for row in rows}
    for event in stored:
        assert event.raw == sent[by_position[event.position]].raw
        assert event.event_id == sent[by_position[event.position]].event_id


async def test_every_sample_reads_back_exactly(store: Store, samples_dir: Path) -> None:
    await assert_every_event_reads_back_exactly(store, sample_batches(samples_dir))


async def test_every_seed_event_reads_back_exactly(store: Store) -> None:
    batches: list[ReadBatch] = []
    pending: list[dict] = []
    for envelope in iter_demo_envelopes():
        pending.append(envelope)
        if len(pending) == 200:
            batches.append(read_body(pending))
            pending = []
    if pending:
        batches.append(read_body(pending))
    await assert_every_event_reads_back_exactly(store, batches)
