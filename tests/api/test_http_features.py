"""Around GraphQL: API tokens, CORS, the body cap, health, and live subscriptions
over a real socket with the graphql-transport-ws protocol."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette

from app.main import create_app
from app.settings import Settings
from tests.api.factories import grade_event
from tests.api.live_client import open_socket, post_events, receive, subscribe
from tests.conftest import LiveServer, make_settings


async def _client(settings: Settings) -> tuple[Starlette, httpx.AsyncClient]:
    app = create_app(settings)
    return app, httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    )


async def test_api_tokens_guard_graphql_but_not_the_page(sqlite_url: str) -> None:
    app, client = await _client(make_settings(sqlite_url, api_tokens=("reader-token",)))
    async with app.router.lifespan_context(app), client:
        refused = await client.post("/graphql", json={"query": "{ __typename }"})
        assert refused.status_code == 401
        [error] = refused.json()["errors"]
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        assert "COURSEGRAPH_API_TOKENS" in error["message"]
        allowed = await client.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"authorization": "Bearer reader-token"},
        )
        assert allowed.json() == {"data": {"__typename": "Query"}}
        page = await client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200 and "<html" in page.text.lower()


async def test_cors_allows_listed_origins_only(sqlite_url: str) -> None:
    app, client = await _client(make_settings(sqlite_url, cors_origins=("http://localhost:5173",)))
    async with app.router.lifespan_context(app), client:
        preflight = await client.options(
            "/graphql",
            headers={
                "origin": "http://localhost:5173",
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "http://localhost:5173"
        other = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"origin": "http://evil.example"}
        )
        assert "access-control-allow-origin" not in other.headers


async def test_graphql_body_cap_and_health(sqlite_url: str) -> None:
    app, client = await _client(make_settings(sqlite_url, max_body_bytes=200))
    async with app.router.lifespan_context(app), client:
        big = await client.post("/graphql", json={"query": "{ __typename }" + " " * 300})
        assert big.status_code == 413
        health = await client.get("/healthz")
        assert health.json() == {"status": "ok"}


def test_subscription_streams_appended_events(sqlite_url: str) -> None:
    with LiveServer(make_settings(sqlite_url)) as server:
        asyncio.run(_subscribe_and_post(server))


async def _subscribe_and_post(server: LiveServer) -> None:
    socket = await open_socket(server)  # insists on text frames, as clients do
    async with socket:
        await subscribe(
            socket,
            "1",
            'subscription { eventAppended(filter: {type: "GradeEvent"}) { position type objectId } }',
        )
        await asyncio.sleep(0.3)
        events = [
            grade_event(
                "live", "LIVE-101", "_i1_1", f"_live{i}_1", f"s{i}", 1.0, "2026-04-01T10:00:00.000Z"
            )
            for i in range(3)
        ]
        assert (await post_events(server, events))["appended"] == 3
        received = []
        for _ in range(3):
            message = await receive(socket)
            assert message["type"] == "next", message
            received.append(message["payload"]["data"]["eventAppended"])
        assert [r["position"] for r in received] == [1, 2, 3]
        assert received[0]["objectId"].endswith("/attempts/_live0_1")
