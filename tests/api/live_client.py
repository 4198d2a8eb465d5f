"""A raw graphql-transport-ws client for tests that need to see the frames themselves:
every server message must be a text frame holding JSON."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from tests.conftest import INGEST_TOKEN, LiveServer


def ws_url(server: LiveServer) -> str:
    return server.url.replace("http://", "ws://") + "/graphql"


async def open_socket(server: LiveServer, **options: Any) -> ClientConnection:
    """Connected and acknowledged (connection_init → connection_ack)."""
    socket = await websockets.connect(
        ws_url(server), subprotocols=["graphql-transport-ws"], **options
    )
    await socket.send(json.dumps({"type": "connection_init"}))
    ack = await receive(socket)
    assert ack["type"] == "connection_ack", ack
    return socket


async def receive(socket: ClientConnection, timeout: float = 5) -> dict[str, Any]:
    frame = await asyncio.wait_for(socket.recv(), timeout=timeout)
    assert isinstance(frame, str), f"the server sent a binary frame: {frame[:80]!r}"
    return json.loads(frame)


async def subscribe(
    socket: ClientConnection, operation_id: str, query: str, variables: dict | None = None
) -> None:
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    await socket.send(json.dumps({"id": operation_id, "type": "subscribe", "payload": payload}))


async def post_events(server: LiveServer, events: list[dict[str, Any]]) -> dict[str, Any]:
    from tests.api.factories import envelope

    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        answer = await http.post(
            "/caliper", json=envelope(events), headers={"authorization": INGEST_TOKEN}
        )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def graphql(server: LiveServer, query: str, variables: dict | None = None) -> dict:
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        answer = await http.post("/graphql", json={"query": query, "variables": variables or {}})
    return answer.json()
