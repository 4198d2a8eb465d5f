"""kill -9 for real: `coursegraph ingest` mid-run and `coursegraph serve` under concurrent
POSTs to /caliper, on both backends. Every acknowledged event is stored exactly once,
positions stay gapless, and what was in flight is stored whole or not at all."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import func, select

from store.db import create_store
from tests.api.factories import envelope, grade_event
from tests.conftest import INGEST_TOKEN, free_port
from tests.store.test_concurrent_writers import EVENTS, stored_ids

INGEST_EVENTS = 12_000  # six of ingest's batches
POSTERS, EVENTS_PER_POST = 6, 20
WAIT_S = 120


def _event(serial: int) -> dict[str, Any]:
    event = grade_event(
        f"crash{serial % 7}",
        f"CRASH-{serial % 7}",
        f"_i{serial % 5}_1",
        f"_a{serial}_1",
        f"s{serial % 31}",
        float(serial % 50),
        "2026-04-01T10:00:00.000Z",
    )
    event["id"] = f"urn:uuid:{uuid.uuid4()}"
    return event


def _child_env(database_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("COURSEGRAPH_")}
    env["COURSEGRAPH_DATABASE_URL"] = database_url
    env["COURSEGRAPH_INGEST_TOKENS"] = INGEST_TOKEN
    return env


def _stored(database_url: str) -> list[tuple[int, str]]:
    async def read() -> list[tuple[int, str]]:
        store = create_store(database_url)
        try:
            return await stored_ids(store)
        finally:
            await store.close()

    return asyncio.run(read())


def _count(database_url: str) -> int:
    async def count() -> int:
        store = create_store(database_url)
        try:
            async with store.reader.connect() as connection:
                return int(
                    (await connection.execute(select(func.count(EVENTS.c.position)))).one()[0]
                )
        except Exception:  # the log is not created yet
            return 0
        finally:
            await store.close()

    return asyncio.run(count())


def _assert_once_and_gapless(stored: list[tuple[int, str]]) -> None:
    ids = [event_id for _, event_id in stored]
    assert len(ids) == len(set(ids)), "an event is stored twice"
    assert [position for position, _ in stored] == list(range(1, len(stored) + 1))


def test_kill_9_during_ingest_then_rerun(database_url: str, tmp_path: Path) -> None:
    events = [_event(serial) for serial in range(INGEST_EVENTS)]
    lines = tmp_path / "events.jsonl"
    lines.write_bytes(b"\n".join(orjson.dumps(event) for event in events) + b"\n")
    command = [sys.executable, "-m", "app.cli", "ingest", str(lines)]
    env = _child_env(database_url)

    ingest = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + WAIT_S
        while _count(database_url) == 0:  # the first batch has committed
            assert ingest.poll() is None, "ingest ended before it could be killed"
            assert time.monotonic() < deadline, "ingest stored nothing"
            time.sleep(0.05)
        assert ingest.poll() is None
        ingest.send_signal(signal.SIGKILL)
        ingest.wait(timeout=30)
    finally:
        if ingest.poll() is None:
            ingest.kill()
    assert ingest.returncode == -signal.SIGKILL

    before = _stored(database_url)
    assert 0 < len(before) < INGEST_EVENTS, "killed before or after the whole file"
    _assert_once_and_gapless(before)

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=WAIT_S * 3)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    summary = rerun.stdout.strip().splitlines()[-1]
    assert f"read {INGEST_EVENTS}, appended {INGEST_EVENTS - len(before)}, " in summary
    assert f"duplicates {len(before)}," in summary

    after = _stored(database_url)
    _assert_once_and_gapless(after)
    assert after[: len(before)] == before
    assert sorted(event_id for _, event_id in after) == sorted(event["id"] for event in events)


class Poster(threading.Thread):
    """Posts envelopes until the server dies: what it sent, and what was acknowledged."""

    def __init__(self, url: str, serials: range) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.serials = iter(serials)
        self.acknowledged: list[list[str]] = []
        self.unanswered: list[list[str]] = []  # in flight when the server died

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as http:
            while True:
                batch = [_event(next(self.serials)) for _ in range(EVENTS_PER_POST)]
                ids = [event["id"] for event in batch]
                try:
                    answer = http.post(
                        "/caliper", json=envelope(batch), headers={"authorization": INGEST_TOKEN}
                    )
                except httpx.TransportError:
                    self.unanswered.append(ids)
                    return
                assert answer.status_code == 200, answer.text
                assert answer.json()["appended"] == EVENTS_PER_POST
                self.acknowledged.append(ids)


def test_kill_9_during_concurrent_posts(database_url: str) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--log-level", "warning"],
        env=_child_env(database_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT_S
        while True:
            assert server.poll() is None, "serve did not start"
            assert time.monotonic() < deadline, "serve did not start in time"
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        posters = [Poster(url, range(i * 1_000_000, (i + 1) * 1_000_000)) for i in range(POSTERS)]
        for poster in posters:
            poster.start()
        while sum(len(poster.acknowledged) for poster in posters) < 4 * POSTERS:
            assert time.monotonic() < deadline, "the posts were not answered in time"
            assert all(poster.is_alive() for poster in posters), "a post failed"
            time.sleep(0.02)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
        for poster in posters:
            poster.join(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=30)
    assert server.returncode == -signal.SIGKILL
    assert all(not poster.is_alive() for poster in posters)

    stored = _stored(database_url)
    _assert_once_and_gapless(stored)
    stored_set = {event_id for _, event_id in stored}
    acknowledged = [i for poster in posters for ids in poster.acknowledged for i in ids]
    assert set(acknowledged) <= stored_set, "an acknowledged event was lost"
    unanswered = [ids for poster in posters for ids in poster.unanswered]
    for ids in unanswered:  # one transaction per request: all of it or none of it
        assert len(stored_set & set(ids)) in (0, len(ids))
    in_flight = {i for ids in unanswered for i in ids}
    assert stored_set <= set(acknowledged) | in_flight, "stored something never sent"
