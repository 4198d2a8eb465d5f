"""/graphql over HTTP and WebSocket: tokens, the body cap, orjson, GraphiQL, and the
live feed that wakes subscriptions when events are appended."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)

from app.api.body import (
    BodyTooLarge,
    NotJson,
    is_json_media_type,
    parse_json,
    read_capped,
    wants_graphql_response_json,
)
from app.api.caliper_endpoint import token_accepted
from app.api.context import Context
from app.api.persisted_queries import PersistedQueries, PersistedQueryRefused
from app.api.problems import problem
from app.api.schema import SCHEMA
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


def api_token_refusal(request: Request, settings: Settings) -> Response | None:
    """The API token check of /graphql and /metrics, in one place."""
    if settings.api_tokens and not token_accepted(request, settings.api_tokens):
        what = "GraphQL" if request.url.path.startswith("/graphql") else request.url.path
        return problem(
            401, f"{what} needs `Authorization: Bearer <token>` (COURSEGRAPH_API_TOKENS)"
        )
    return None


def _persisted_queries(scope: Scope) -> PersistedQueries:
    return scope["app"].state.persisted_queries


class PersistedQueryHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with persisted queries and the allow-list on `subscribe`."""

    async def handle_subscribe(self, message: Any) -> None:
        payload = message.get("payload")
        if self.connection_acknowledged and isinstance(payload, dict):
            persisted = _persisted_queries(self.context.request.scope)
            try:
                query = persisted.resolve(payload.get("query"), payload.get("extensions"))
            except PersistedQueryRefused as refused:
                await self.send_message(
                    {"id": message["id"], "type": "error", "payload": [refused.error]}
                )
                return
            if query is not payload.get("query"):
                message = {**message, "payload": {**payload, "query": query}}
        await super().handle_subscribe(message)


class CoursegraphGraphQL(GraphQL):
    graphql_transport_ws_handler_class = PersistedQueryHandler

    def __init__(self, settings: Settings, feed: LiveFeed) -> None:
        # The legacy protocol has no hook for the allow-list: allow-list mode leaves it out.
        protocols = (GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL)
        if settings.persisted_queries == "allowlist":
            protocols = (GRAPHQL_TRANSPORT_WS_PROTOCOL,)
        super().__init__(
            SCHEMA,
            graphql_ide="graphiql" if settings.graphiql else None,
            allowed_origins=settings.cors_origins,
            subscription_protocols=protocols,
        )
        self.settings = settings
        self.feed = feed

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
                try:
                    body = _resolve_persisted_body(scope, body)
                except PersistedQueryRefused as refused:
                    await self._persisted_refusal(request, refused)(scope, receive, send)
                    return
                answer = await self._answer_plain_post(request, body)
                if answer is not None:
                    await answer(scope, receive, send)
                    return
                receive = _replay(body)  # anything unusual: Strawberry's own view decides
            try:
                await super().__call__(scope, receive, send)
            except PersistedQueryRefused as refused:  # raised before anything was sent
                await self._persisted_refusal(request, refused)(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def execute_operation(
        self,
        request: Request,
        request_adapter: Any,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: Any,
        sub_response: Response,
    ) -> Any:
        """Strawberry's own path (GET, batches, other body shapes): the same persisted-query
        step as the fast path, on what its parser read."""
        persisted = _persisted_queries(request.scope)
        for operation in request_data if isinstance(request_data, list) else [request_data]:
            operation.query = persisted.resolve(operation.query, operation.extensions)
        return await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )

    def _persisted_refusal(self, request: Request, refused: PersistedQueryRefused) -> Response:
        """Not found / not supported: 200, as Apollo servers answer and its clients expect
        (they resend the text); the others are request errors."""
        graphql_response = wants_graphql_response_json(request.headers.get("accept"))
        status = 400 if graphql_response and not refused.retryable else 200
        headers = {"Cache-Control": "private, no-cache, must-revalidate"}
        media = "application/graphql-response+json" if graphql_response else "application/json"
        body = self.encode_json({"errors": [refused.error]})
        return Response(body, status_code=status, media_type=media, headers=headers)

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
        refusal = api_token_refusal(request, self.settings)
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


def _resolve_persisted_body(scope: Scope, body: bytes) -> bytes:
    """The body with each operation's query text filled in from its persisted-query hash
    (and checked against the allow-list); unchanged when it needs neither."""
    persisted = _persisted_queries(scope)
    if not persisted.checks_every_request and b"persistedQuery" not in body:
        return body
    try:
        payload = parse_json(body)
    except NotJson:
        return body  # no parser runs it: the GraphQL view answers the parse error
    resolved = persisted.resolve_payload(payload)
    return body if resolved is payload else dumps(resolved)


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
