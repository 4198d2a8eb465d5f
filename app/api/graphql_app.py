"""/graphql over HTTP and WebSocket: tokens, the body cap, orjson (text frames on the
socket), GraphiQL; subscriptions follow the worker's live feed (app.api.live)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.http.exceptions import WebSocketDisconnected

from app.api.body import BodyTooLarge, is_json_media_type, read_capped
from app.api.caliper_endpoint import token_accepted
from app.api.context import Context
from app.api.live import LiveFeed
from app.api.problems import problem
from app.api.schema import SCHEMA
from app.caliper.canonical import dumps
from app.settings import Settings


class TextFrameWebSocketAdapter(ASGIWebSocketAdapter):
    """graphql-transport-ws speaks JSON in text frames: our encode_json gives orjson's
    bytes, which Strawberry's adapter would send as binary frames that clients refuse."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        if self.ws.application_state == WebSocketState.DISCONNECTED:
            return  # closed by us (a subscriber that fell behind): nothing more goes out
        try:
            await self.ws.send_text(self.view.encode_json(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class CoursegraphGraphQL(GraphQL):
    websocket_adapter_class = TextFrameWebSocketAdapter  # type: ignore[assignment]

    def __init__(self, settings: Settings, feed: LiveFeed) -> None:
        super().__init__(
            SCHEMA,
            graphql_ide="graphiql" if settings.graphiql else None,
            allowed_origins=settings.cors_origins,
        )
        self.settings = settings
        self.feed = feed
        # The feed counts subscriptions per connection against a setting, with a message
        # that names it; Strawberry's own count would refuse first with one that does not.
        self.max_subscriptions_per_connection = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
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
        if self.settings.api_tokens and not token_accepted(request, self.settings.api_tokens):
            return problem(
                401, "GraphQL needs `Authorization: Bearer <token>` (COURSEGRAPH_API_TOKENS)"
            )
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
        if not self.settings.api_tokens:
            return None
        params = context.connection_params or {}
        token = str(params.get("Authorization") or params.get("authorization") or "")
        token = token.split(" ", 1)[-1] if token.lower().startswith("bearer ") else token
        if token not in self.settings.api_tokens:
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
