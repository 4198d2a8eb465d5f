"""POST /caliper's group commit over real HTTP (uvicorn): concurrent requests with
overlapping events each get the answer a sequential append would have given them, and
the stored positions show which request stored what."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson

from store.db import create_store
from tests.conftest import LiveServer
from tests.test_caliper_endpoint import AUTH, EVENTS, envelope, event, rows

REQUESTS = 16
SHARED = 4  # shared event k is in every request r with r % SHARED == k


def _request_events(request: int) -> list[dict[str, Any]]:
    """Its own first and last events around its share of overlapping ones."""
    events = [event(f"first-{request}")]
    events.append(event(f"shared-{request % SHARED}"))
    events.append(event(f"shared-{(request + 1) % SHARED}"))
    if request < 2:  # the same id in two requests, with other content: one is a conflict
        events.append(event("twin", action="Modified" if request else "Graded"))
    events.append(event(f"own-{request}"))
    events.append(event(f"own-{request}"))  # twice in one request
    events.append(event(f"last-{request}"))
    return events


def _content(value: dict[str, Any]) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


async def test_concurrent_requests_each_get_their_own_sequential_answer(
    live_server: LiveServer, database_url: str
) -> None:
    sent = [_request_events(request) for request in range(REQUESTS)]
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as http:
        responses = await asyncio.gather(
            *(http.post("/caliper", json=envelope(*events), headers=AUTH) for events in sent)
        )
    assert [response.status_code for response in responses] == [200] * REQUESTS

    store = create_store(database_url)
    try:
        stored = await rows(store, EVENTS)
    finally:
        await store.close()
    distinct = {_content(value) for events in sent for value in events}
    assert len(stored) == len(distinct)
    assert [row["position"] for row in stored] == list(range(1, len(distinct) + 1))
    position = {_content(orjson.loads(row["raw"])): row["position"] for row in stored}
    twin_positions = sorted(
        position[_content(value)]
        for events in sent[:2]
        for value in events
        if "twin" in value["id"]
    )

    for request, (events, response) in enumerate(zip(sent, responses, strict=True)):
        # A request's events are stored together, in its order, from its first to its last.
        first, last = position[_content(events[0])], position[_content(events[-1])]
        mine = [value for value in events if first <= position[_content(value)] <= last]
        kept = list(dict.fromkeys(_content(value) for value in mine))
        assert [position[content] for content in kept] == list(range(first, last + 1))
        conflicts = sum(
            1
            for value in mine
            if "twin" in value["id"] and position[_content(value)] > twin_positions[0]
        )
        assert response.json() == {
            "appended": len(kept),
            "duplicates": len(events) - len(kept),
            "conflicts": conflicts,
            "rejected": [],
            "entities": 0,
        }, request
    answers = [response.json() for response in responses]
    assert sum(answer["conflicts"] for answer in answers) == 1
    assert sum(answer["appended"] for answer in answers) == len(distinct)
