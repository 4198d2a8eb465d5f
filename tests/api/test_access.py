"""Who may reach the API, over real HTTP and WebSocket against uvicorn: API tokens (one
auth module for both), the Host allow-list, the WebSocket protocol and its init timeout,
the introspection switch, and the GraphiQL page's security headers."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets
from pydantic import ValidationError
from websockets.exceptions import ConnectionClosed, InvalidStatus

from app.api import auth
from app.api.auth import token_matches
from app.api.hosts import host_allowed
from app.main import create_app
from app.settings import Settings
from tests.conftest import LiveServer, make_settings

API_TOKEN = "reader-token-0123456789"
COURSES = {"query": "{ courses { totalCount } }"}
INTROSPECTION = {"query": "{ __schema { queryType { name } } }"}


@pytest.fixture
def guarded_server(database_url: str) -> Iterator[LiveServer]:
    with LiveServer(make_settings(database_url, api_tokens=(API_TOKEN, "second-token"))) as live:
        yield live


def ws_url(server: LiveServer) -> str:
    return server.url.replace("http", "ws") + "/graphql"


# --- API tokens over HTTP -------------------------------------------------------------


def test_graphql_without_a_token_is_401_unauthenticated(guarded_server: LiveServer) -> None:
    with httpx.Client(base_url=guarded_server.url) as http:
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "Bearer"}):
            refused = http.post("/graphql", json=COURSES, headers=headers)
            assert refused.status_code == 401, headers
            assert refused.headers["www-authenticate"] == "Bearer"
            [error] = refused.json()["errors"]
            assert error["extensions"]["code"] == "UNAUTHENTICATED"
            assert "COURSEGRAPH_API_TOKENS" in error["message"]
        # GET queries are guarded the same way.
        assert http.get("/graphql", params=COURSES).status_code == 401
        for token in (API_TOKEN, "second-token"):
            allowed = http.post(
                "/graphql", json=COURSES, headers={"authorization": f"Bearer {token}"}
            )
            assert allowed.status_code == 200
            assert allowed.json() == {"data": {"courses": {"totalCount": 0}}}


def test_caliper_keeps_its_problem_401(guarded_server: LiveServer) -> None:
    with httpx.Client(base_url=guarded_server.url) as http:
        refused = http.post("/caliper", json={}, headers={"authorization": f"Bearer {API_TOKEN}"})
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["www-authenticate"] == "Bearer"


def test_every_configured_token_is_compared(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[bytes] = []
    real = auth.hmac.compare_digest

    def counting(given: bytes, known: bytes) -> bool:
        compared.append(known)
        return real(given, known)

    monkeypatch.setattr(auth.hmac, "compare_digest", counting)
    accepted = ("first", "second", "third")
    assert token_matches("first", accepted)  # a match on the first does not stop the loop
    assert compared == [b"first", b"second", b"third"]
    compared.clear()
    assert not token_matches("none of them", accepted)
    assert len(compared) == 3
    assert not token_matches(None, accepted)


# --- API tokens over WebSocket --------------------------------------------------------


async def _init(uri: str, payload: dict[str, Any] | None, **connect: Any) -> dict[str, Any]:
    """connection_init with `payload`: the server's answer, or how it closed the socket."""
    async with websockets.connect(uri, subprotocols=["graphql-transport-ws"], **connect) as ws:
        message: dict[str, Any] = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await ws.send(json.dumps(message))
        try:
            return dict(json.loads(await asyncio.wait_for(ws.recv(), timeout=10)))
        except ConnectionClosed as closed:
            assert closed.rcvd is not None
            return {"closed": closed.rcvd.code}


def test_websocket_token_in_connection_init_or_upgrade_header(guarded_server: LiveServer) -> None:
    uri = ws_url(guarded_server)
    bearer = f"Bearer {API_TOKEN}"
    assert asyncio.run(_init(uri, {"Authorization": bearer}))["type"] == "connection_ack"
    assert asyncio.run(_init(uri, {"authorization": bearer}))["type"] == "connection_ack"
    assert asyncio.run(_init(uri, {"authorization": API_TOKEN}))["type"] == "connection_ack"
    upgraded = asyncio.run(_init(uri, None, additional_headers={"Authorization": bearer}))
    assert upgraded["type"] == "connection_ack"
    assert asyncio.run(_init(uri, None)) == {"closed": 4403}
    assert asyncio.run(_init(uri, {"Authorization": "Bearer wrong"})) == {"closed": 4403}
    assert asyncio.run(_init(uri, {"Authorization": 12345})) == {"closed": 4403}


def test_a_socket_that_never_sends_connection_init_is_closed(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, api_tokens=(API_TOKEN,), connection_init_wait_timeout=0.5)

    async def wait_silently(uri: str) -> tuple[int, float]:
        started = time.monotonic()
        async with websockets.connect(uri, subprotocols=["graphql-transport-ws"]) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), timeout=10)
        assert closed.value.rcvd is not None
        return closed.value.rcvd.code, time.monotonic() - started

    with LiveServer(settings) as server:
        code, waited = asyncio.run(wait_silently(ws_url(server)))
    assert code == 4408
    assert waited < 3


def test_many_silent_sockets_are_all_closed_within_the_timeout(sqlite_url: str) -> None:
    """The attack of holding sockets open without ever saying hello: each ends on time."""
    settings = make_settings(sqlite_url, connection_init_wait_timeout=1.0)
    sockets = 200

    async def hold(uri: str) -> tuple[int, float]:
        started = time.monotonic()
        async with websockets.connect(uri, subprotocols=["graphql-transport-ws"]) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), timeout=30)
        assert closed.value.rcvd is not None
        return closed.value.rcvd.code, time.monotonic() - started

    async def hold_all(uri: str) -> list[tuple[int, float]]:
        return await asyncio.gather(*(hold(uri) for _ in range(sockets)))

    with LiveServer(settings) as server:
        results = asyncio.run(hold_all(ws_url(server)))
    assert {code for code, _ in results} == {4408}
    assert max(waited for _, waited in results) < 6


def test_the_default_init_timeout_is_short() -> None:
    assert Settings(_env_file=None).connection_init_wait_timeout <= 10  # type: ignore[call-arg]


def test_only_graphql_transport_ws_is_offered(sqlite_url: str) -> None:
    async def handshake(uri: str, subprotocols: list[str] | None) -> int | str | None:
        try:
            async with websockets.connect(uri, subprotocols=subprotocols) as ws:  # type: ignore[arg-type]
                return ws.subprotocol
        except InvalidStatus as refused:
            return refused.response.status_code

    with LiveServer(make_settings(sqlite_url)) as server:
        uri = ws_url(server)
        assert asyncio.run(handshake(uri, ["graphql-ws"])) == 403
        assert asyncio.run(handshake(uri, None)) == 403
        chosen = asyncio.run(handshake(uri, ["graphql-ws", "graphql-transport-ws"]))
        assert chosen == "graphql-transport-ws"


# --- Settings -------------------------------------------------------------------------


@pytest.mark.parametrize("value", [",", " , ", "good,,other", " ", "token, "])
def test_an_empty_token_is_an_error_at_start(
    value: str, monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    for variable in ("COURSEGRAPH_API_TOKENS", "COURSEGRAPH_INGEST_TOKENS"):
        monkeypatch.setenv(variable, value)
        with pytest.raises(ValidationError, match=variable):
            Settings(_env_file=None)  # type: ignore[call-arg]
        monkeypatch.delenv(variable)
    with pytest.raises(ValidationError, match="COURSEGRAPH_API_TOKENS"):
        make_settings(sqlite_url, api_tokens=("good", "  "))
    # The app reads the environment itself and refuses to be built.
    monkeypatch.setenv("COURSEGRAPH_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("COURSEGRAPH_API_TOKENS", value)
    with pytest.raises(ValidationError, match="COURSEGRAPH_API_TOKENS"):
        create_app()


def test_an_empty_variable_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSEGRAPH_API_TOKENS", "")
    monkeypatch.setenv("COURSEGRAPH_INGEST_TOKENS", " first , second ")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.api_tokens == ()
    assert settings.ingest_tokens == ("first", "second")


# --- Host allow-list ------------------------------------------------------------------

GUARDED = ["/graphql", "/graphiql/assets/graphiql/graphiql.min.js", "/metrics", "/dashboard"]


def _get(server: LiveServer, path: str, host: str, **headers: str) -> httpx.Response:
    with httpx.Client(base_url=server.url) as http:
        return http.get(path, headers={"host": host, "accept": "text/html", **headers})


def test_default_allows_loopback_names_only(database_url: str) -> None:
    with LiveServer(make_settings(database_url, allowed_hosts=None)) as server:
        for path in GUARDED:
            refused = _get(server, path, "rebound.example")
            assert refused.status_code == 403, path
            assert refused.headers["content-type"] == "application/problem+json"
            assert "COURSEGRAPH_ALLOWED_HOSTS" in refused.json()["detail"]
            assert _get(server, path, "rebound.example:8000").status_code == 403
        assert _get(server, "/graphqlx", "rebound.example").status_code == 404  # not a prefix
        for host in (f"127.0.0.1:{server.port}", "localhost", "LOCALHOST:1", "[::1]:8000"):
            page = _get(server, "/graphql", host)
            assert page.status_code == 200, host
            assert "<html" in page.text.lower()
        # Learn and load balancers reach these by the public name.
        assert _get(server, "/healthz", "coursegraph.example.edu").status_code == 200
        caliper = _get(server, "/caliper", "coursegraph.example.edu")
        assert caliper.status_code == 401  # the token decides there, not the Host


def test_with_api_tokens_any_host_unless_listed(sqlite_url: str) -> None:
    bearer = {"authorization": f"Bearer {API_TOKEN}"}
    tokens_only = make_settings(sqlite_url, api_tokens=(API_TOKEN,), allowed_hosts=None)
    with LiveServer(tokens_only) as server:
        assert _get(server, "/graphql", "coursegraph.example.edu", **bearer).status_code == 200
    listed = make_settings(
        sqlite_url,
        api_tokens=(API_TOKEN,),
        allowed_hosts=Settings(  # type: ignore[call-arg]
            _env_file=None, allowed_hosts="coursegraph.example.edu, *.internal.example:8443"
        ).allowed_hosts,
    )
    with LiveServer(listed) as server:
        assert _get(server, "/graphql", "coursegraph.example.edu", **bearer).status_code == 200
        assert _get(server, "/graphql", "a.internal.example:8443", **bearer).status_code == 200
        assert _get(server, "/graphql", "a.internal.example:9000", **bearer).status_code == 403
        assert _get(server, "/graphql", "localhost", **bearer).status_code == 403


def test_a_foreign_host_cannot_open_a_websocket(sqlite_url: str) -> None:
    async def handshake(port: int, host: str) -> int | str | None:
        # The name in the URL is the Host the browser would send; the socket goes here.
        sock = socket.create_connection(("127.0.0.1", port))
        try:
            async with websockets.connect(
                f"ws://{host}/graphql", sock=sock, subprotocols=["graphql-transport-ws"]
            ) as ws:
                return ws.subprotocol
        except InvalidStatus as refused:
            return refused.response.status_code

    with LiveServer(make_settings(sqlite_url, allowed_hosts=None)) as server:
        assert asyncio.run(handshake(server.port, "rebound.example")) == 403
        assert asyncio.run(handshake(server.port, "localhost")) == "graphql-transport-ws"


def test_host_matching() -> None:
    allowed = ("localhost", "[::1]", "api.example:8443", "*.example.edu")
    assert host_allowed("localhost:8000", allowed)
    assert host_allowed("localhost.", allowed)
    assert host_allowed("[::1]:9", allowed)
    assert host_allowed("api.example:8443", allowed)
    assert not host_allowed("api.example", allowed)
    assert host_allowed("lms.example.edu", allowed)
    assert not host_allowed("example.edu.attacker.test", allowed)
    assert not host_allowed("localhost.attacker.test", allowed)
    assert not host_allowed("", allowed)
    assert not host_allowed(None, allowed)
    assert host_allowed("anything", ("*",))


# --- Introspection, GraphiQL and the page's headers -----------------------------------


def test_introspection_can_be_turned_off(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, introspection=False)
    with LiveServer(settings) as server, httpx.Client(base_url=server.url) as http:
        refused = http.post("/graphql", json=INTROSPECTION).json()
        typename = http.post("/graphql", json={"query": "{ __typename }"}).json()
        courses = http.post("/graphql", json=COURSES).json()
    assert "data" not in refused or refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "COURSEGRAPH_INTROSPECTION" in refused["errors"][0]["message"]
    assert typename == {"data": {"__typename": "Query"}}
    assert courses == {"data": {"courses": {"totalCount": 0}}}


def test_introspection_is_on_by_default(sqlite_url: str) -> None:
    with LiveServer(make_settings(sqlite_url)) as server, httpx.Client(base_url=server.url) as http:
        answer = http.post("/graphql", json=INTROSPECTION).json()
    assert answer == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


def test_graphiql_off_serves_no_page(sqlite_url: str) -> None:
    with LiveServer(make_settings(sqlite_url, graphiql=False)) as server:
        page = _get(server, "/graphql", "localhost")
    assert "<html" not in page.text.lower()


def test_the_graphiql_page_sends_security_headers(sqlite_url: str) -> None:
    with LiveServer(make_settings(sqlite_url)) as server:
        first = _get(server, "/graphql", f"127.0.0.1:{server.port}")
        second = _get(server, "/graphql", f"127.0.0.1:{server.port}")
    assert first.headers["x-frame-options"] == "DENY"
    assert first.headers["x-content-type-options"] == "nosniff"
    assert first.headers["referrer-policy"] == "no-referrer"
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in first.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    script_sources = policy["script-src"].split()
    assert "'self'" in script_sources and "https://unpkg.com" in script_sources
    assert "'unsafe-inline'" not in script_sources and "'unsafe-eval'" not in script_sources
    [nonce] = [source for source in script_sources if source.startswith("'nonce-")]
    nonce = nonce.removeprefix("'nonce-").removesuffix("'")
    # Every inline script carries this response's nonce; no inline handler attributes.
    assert first.text.count("<script nonce=") == first.text.count("<script>") + 2
    assert first.text.count(f'<script nonce="{nonce}">') == 2
    assert "onerror=" not in first.text
    assert nonce not in second.text  # one nonce per response
    connect = policy["connect-src"].split()
    assert connect == ["'self'", f"ws://127.0.0.1:{server.port}", f"wss://127.0.0.1:{server.port}"]
