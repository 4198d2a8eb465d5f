"""Operations over one WebSocket (graphql-transport-ws): each gets its own loaders, so
answers follow new events and 1,000 queries do not grow the server; messages are capped;
errors carry codes there too; queries run within the request's time budget, subscriptions
outlive it."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import websockets

from tests.api.factories import envelope, grade_event
from tests.api.test_request_limits import (
    budget_settings,
    many_unindexed_counts,
    rss_bytes,
    wait_for_idle_pool,
)
from tests.conftest import INGEST_TOKEN, LiveServer, make_settings

SCORE = '{ course(courseNumber: "WS-101") { attempts { nodes { score { scoreGiven } } } } }'


def _grade(score: float, time: str) -> dict[str, Any]:
    return grade_event("ws", "WS-101", "_i1_1", "_a1_1", "s1", score, time)


async def _post(server: LiveServer, event: dict[str, Any]) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.post(
            "/caliper", json=envelope([event]), headers={"authorization": INGEST_TOKEN}
        )
        assert answer.json()["appended"] == 1


async def _run(socket: Any, operation_id: str, query: str) -> dict[str, Any]:
    await socket.send(
        json.dumps({"id": operation_id, "type": "subscribe", "payload": {"query": query}})
    )
    message = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
    if message["type"] == "next":
        done = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
        assert done == {"id": operation_id, "type": "complete"}
    return message


async def _connect(server: LiveServer) -> Any:
    uri = server.url.replace("http", "ws") + "/graphql"
    socket = await websockets.connect(uri, subprotocols=["graphql-transport-ws"])
    await socket.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    return socket


def test_queries_on_one_socket_see_new_events_and_do_not_grow(sqlite_url: str) -> None:
    with LiveServer(make_settings(sqlite_url)) as server:
        asyncio.run(_many_queries(server))


async def _many_queries(server: LiveServer) -> None:
    await _post(server, _grade(10.0, "2026-04-01T10:00:00Z"))
    socket = await _connect(server)
    try:
        first = await _run(socket, "q0", SCORE)
        scores = first["payload"]["data"]["course"]["attempts"]["nodes"]
        assert scores == [{"score": {"scoreGiven": 10.0}}]
        await _post(server, _grade(42.0, "2026-04-02T10:00:00Z"))
        second = await _run(socket, "q1", SCORE)
        scores = second["payload"]["data"]["course"]["attempts"]["nodes"]
        assert scores == [{"score": {"scoreGiven": 42.0}}]
        for warm_up in range(50):
            await _run(socket, f"w{warm_up}", SCORE)
        before = rss_bytes()
        for index in range(1000):
            answer = await _run(socket, f"n{index}", SCORE)
            assert answer["type"] == "next"
        grown = rss_bytes() - before
        assert grown < 30 * 2**20, f"grew {grown / 2**20:.0f} MB over 1,000 queries"
    finally:
        await socket.close()


def test_errors_over_websocket_carry_codes(sqlite_url: str) -> None:
    with LiveServer(make_settings(sqlite_url)) as server:
        asyncio.run(_coded_errors(server))


async def _coded_errors(server: LiveServer) -> None:
    socket = await _connect(server)
    try:
        deep = "{ " + "a " * 6000 + "}"
        refused = await _run(socket, "t", deep)
        assert refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
        bad = await _run(socket, "b", "{ events(first: 5000) { totalCount } }")
        assert bad["payload"]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    finally:
        await socket.close()


def test_websocket_messages_are_capped(sqlite_url: str) -> None:
    with LiveServer(make_settings(sqlite_url, max_body_bytes=10_000)) as server:
        asyncio.run(_too_big(server))


async def _too_big(server: LiveServer) -> None:
    socket = await _connect(server)
    query = "{ __typename }" + " " * 20_000
    await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
    try:
        await asyncio.wait_for(socket.recv(), timeout=5)
        raise AssertionError("the socket stayed open")
    except websockets.ConnectionClosed as closed:
        assert closed.rcvd is not None and closed.rcvd.code == 1009
        assert "COURSEGRAPH_MAX_BODY_BYTES" in closed.rcvd.reason


def test_time_budget_stops_a_slow_query_on_the_socket(database_url: str) -> None:
    with LiveServer(budget_settings(database_url, 0.3)) as server:
        asyncio.run(_over_budget(server))


async def _over_budget(server: LiveServer) -> None:
    store = server.server.config.app.state.store
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        over_http = await http.post("/graphql", json={"query": many_unindexed_counts()})
    (http_error,) = over_http.json()["errors"]
    socket = await _connect(server)
    try:
        live = "subscription { eventAppended { type objectId } }"
        await socket.send(
            json.dumps({"id": "live", "type": "subscribe", "payload": {"query": live}})
        )
        started = time.monotonic()
        refused = await _run(socket, "slow", many_unindexed_counts())
        assert time.monotonic() - started < 2.0
        assert refused["id"] == "slow" and refused["type"] == "error"
        (error,) = refused["payload"]
        assert error["extensions"] == {
            "code": "QUERY_TOO_COMPLEX",
            "limit": "COURSEGRAPH_REQUEST_BUDGET_SECONDS",
            "limitValue": 0.3,
        }
        assert error["message"] == http_error["message"]
        assert "COURSEGRAPH_REQUEST_BUDGET_SECONDS (0.3 s)" in error["message"]
        assert await asyncio.to_thread(wait_for_idle_pool, store) == 0
        # The socket goes on: another query answers, and the subscription, older than
        # the budget, still delivers.
        after = await _run(socket, "after", "{ events { totalCount } }")
        assert after["payload"] == {"data": {"events": {"totalCount": 0}}}
        await asyncio.sleep(0.5)
        await _post(server, _grade(7.0, "2026-04-03T10:00:00Z"))
        delivered = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
        assert delivered["id"] == "live" and delivered["type"] == "next"
        assert delivered["payload"]["data"]["eventAppended"]["type"] == "GradeEvent"
    finally:
        await socket.close()
