"""/graphql over HTTP and WebSocket: tokens, the body cap, orjson, GraphiQL, and the
live feed that wakes subscriptions when events are appended."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from app.api.auth import api_token_refusal, websocket_token_accepted
from app.api.body import BodyTooLarge, is_json_media_type, read_capped
from app.api.context import Context
from app.api.problems import problem
from app.api.schema import schema_for
from app.caliper.canonical import dumps
from app.settings import Settings
from store import read
from store.append import AppendResult
from store.db import Store

# Other workers append too: a subscription also looks at the log this often.
POLL_SECONDS = 1.0


class LiveFeed:
    """Wakes waiting subscriptions when this process appends; polls for the others."""

    def __init__(self) -> None:
        self._store: Store | None = None
        self._changed = asyncio.Event()

    def attach(self, store: Store) -> None:
        self._store = store

    def notify(self, result: AppendResult) -> None:
        if result.appended:
            self._changed.set()
            self._changed = asyncio.Event()

    async def last_position(self) -> int:
        assert self._store is not None
        return await read.last_position(self._store)

    async def wait(self, after_position: int) -> None:
        changed = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), timeout=POLL_SECONDS)


class CoursegraphGraphQL(GraphQL):
    def __init__(self, settings: Settings, feed: LiveFeed) -> None:
        super().__init__(
            schema_for(introspection=settings.introspection),
            graphql_ide="graphiql" if settings.graphiql else None,
            allowed_origins=settings.cors_origins,
            # The legacy graphql-ws protocol has no init timeout: only the current one.
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=settings.connection_init_wait_timeout),
        )
        self.settings = settings
        self.feed = feed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and GRAPHQL_TRANSPORT_WS_PROTOCOL not in scope.get(
            "subprotocols", ()
        ):
            # Refuse the handshake (403) rather than accept a socket only to close it.
            await send({"type": "websocket.close", "code": 4406, "reason": ""})
            return
        if scope["type"] == "http":
            request = Request(scope, receive)
            refusal = self._refuse(request)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
            if request.method == "POST" and is_json_media_type(request.headers.get("content-type")):
                try:
                    body = await read_capped(request, self.settings.max_body_bytes)
                except BodyTooLarge:
                    await self._too_large()(scope, receive, send)
                    return
                answer = await self._answer_plain_post(request, body)
                if answer is not None:
                    await answer(scope, receive, send)
                    return
                receive = _replay(body)  # anything unusual: Strawberry's own view decides
        await super().__call__(scope, receive, send)

    async def _answer_plain_post(self, request: Request, body: bytes) -> Response | None:
        """The common request — one query or mutation as JSON — without the generic
        view's content negotiation and multipart parsing (it costs ~20% of a small query).
        None for every other shape."""
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return None
        query = payload["query"]
        variables = payload.get("variables")
        operation_name = payload.get("operationName")
        if "subscription" in query or not isinstance(variables, dict | None):
            return None
        if not isinstance(operation_name, str | None):
            return None
        result = await self.schema.execute(
            query,
            variable_values=variables,
            context_value=await self.get_context(request, None),
            operation_name=operation_name,
        )
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [error.formatted for error in result.errors]
        if result.extensions:
            answer["extensions"] = result.extensions
        return Response(self.encode_json(answer), media_type="application/json")

    def _too_large(self) -> Response:
        limit = self.settings.max_body_bytes
        return problem(413, f"body is larger than COURSEGRAPH_MAX_BODY_BYTES ({limit} bytes)")

    def _refuse(self, request: Request) -> Response | None:
        if self.settings.graphiql and self.should_render_graphql_ide(request):
            return None  # the page loads without a token; its header editor sends one
        refusal = api_token_refusal(request, self.settings, graphql=True)
        if refusal is not None:
            return refusal
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.settings.max_body_bytes:
            return self._too_large()
        return None

    async def get_context(self, request: Any, response: Any) -> Context:
        # WebSocket tokens come in connection_init and are checked in on_ws_connect.
        return Context(
            store=request.app.state.store, settings=self.settings, feed=self.feed, request=request
        )

    async def on_ws_connect(self, context: Context) -> Any:
        if not websocket_token_accepted(context.connection_params, context.request, self.settings):
            from strawberry.exceptions import ConnectionRejectionError

            raise ConnectionRejectionError({"reason": "unknown token"})
        return None

    async def render_graphql_ide(self, request: Request) -> Response:
        from app.api.graphiql import graphiql_page

        return graphiql_page(self.settings, request)

    def encode_json(self, data: object) -> bytes:
        return dumps(data)  # orjson, and the exact fallback for integers beyond 64 bits

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)


def _replay(body: bytes) -> Receive:
    """A receive channel that hands out a body already read."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def graphql_routes(settings: Settings, feed: LiveFeed) -> list[BaseRoute]:
    from app.api.graphiql import graphiql_routes

    view = CoursegraphGraphQL(settings, feed)
    return [
        Route("/graphql", view, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", view),
        *graphiql_routes(settings),
    ]
