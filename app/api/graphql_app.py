"""/graphql over HTTP and WebSocket: tokens, the body cap and read timeout, the request's
time budget, the response's status and media type, orjson (text frames on the socket),
GraphiQL; subscriptions follow the worker's live feed (app.api.live)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.types.graphql import OperationType

from app.api.auth import api_token_refusal, websocket_token_accepted
from app.api.body import BodyTooLarge, BodyTooSlow, is_json_media_type, read_capped
from app.api.context import Context
from app.api.graphql_http import graphql_response, response_media_type
from app.api.limits import over_time_budget
from app.api.live import LiveFeed, subscription_over_http
from app.api.masking import coded, report
from app.api.persisted_queries import PersistedQueries, PersistedQueryRefused
from app.api.problems import problem
from app.api.query_cache import QueryCache
from app.api.schema import schema_for
from app.caliper.canonical import dumps
from app.observe import note, request_id
from app.settings import Settings
from graphql import GraphQLError


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
    websocket_adapter_class = TextFrameWebSocketAdapter  # type: ignore[assignment]
    graphql_transport_ws_handler_class = PersistedQueryHandler

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
        self.query_cache = QueryCache(settings.query_cache_bytes)
        # The feed counts subscriptions per connection against a setting, with a message
        # that names it; Strawberry's own count would refuse first with one that does not.
        self.max_subscriptions_per_connection = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and GRAPHQL_TRANSPORT_WS_PROTOCOL not in scope.get(
            "subprotocols", ()
        ):
            # Refuse the handshake (403) rather than accept a socket only to close it.
            await send({"type": "websocket.close", "code": 4406, "reason": ""})
            return
        if scope["type"] == "websocket":
            receive = _capped_messages(receive, send, self.settings.max_body_bytes)
        if scope["type"] == "http":
            request = Request(scope, receive)
            refusal = self._refuse(request)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
            if request.method == "POST" or not self.should_render_graphql_ide(request):
                answer = await self._answer_http(request)
                await answer(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def _answer_http(self, request: Request) -> Response:
        """GET and POST queries: every body read with the byte cap and the read timeout,
        whatever its content type; then one operation as JSON."""
        if request.method == "GET":
            payload, problem_response = _payload_from_query_string(request)
        else:
            try:
                body = await read_capped(
                    request, self.settings.max_body_bytes, self.settings.body_read_timeout_seconds
                )
            except BodyTooLarge:
                return self._too_large()
            except BodyTooSlow:
                timeout = self.settings.body_read_timeout_seconds
                return problem(
                    408,
                    f"the body did not arrive within COURSEGRAPH_BODY_READ_TIMEOUT_SECONDS "
                    f"({timeout} s)",
                )
            payload, problem_response = _payload_from_body(request, body)
        if problem_response is not None:
            return problem_response
        try:
            payload = _persisted_queries(request.scope).resolve_payload(payload)
        except PersistedQueryRefused as refused:
            return self._persisted_refusal(request, refused)
        payload, problem_response = _checked_payload(payload)
        if problem_response is not None:
            return problem_response
        return await self._execute(request, payload)

    def _persisted_refusal(self, request: Request, refused: PersistedQueryRefused) -> Response:
        """Not found / not supported: 200, as Apollo servers answer and its clients expect
        (they resend the text); the others are request errors."""
        media = response_media_type(request.headers.get("accept"))
        graphql_response_json = media.startswith("application/graphql-response+json")
        status = 400 if graphql_response_json and not refused.retryable else 200
        headers = {"Cache-Control": "private, no-cache, must-revalidate"}
        body = self.encode_json({"errors": [refused.error]})
        return Response(body, status_code=status, media_type=media, headers=headers)

    async def _execute(self, request: Request, payload: dict[str, Any]) -> Response:
        context = await self.get_context(request, None)
        allowed = {OperationType.QUERY}
        if request.method == "POST":
            allowed.add(OperationType.MUTATION)
        data: Any = None
        errors: list[GraphQLError] = []
        extensions: dict[str, Any] | None = None
        budget = self.settings.request_budget_seconds
        try:
            async with asyncio.timeout(budget):
                result = await self.schema.execute(
                    payload["query"],
                    variable_values=payload.get("variables"),
                    context_value=context,
                    operation_name=payload.get("operationName"),
                    allowed_operation_types=allowed,
                )
            data, errors, extensions = result.data, list(result.errors or []), result.extensions
        except TimeoutError:
            errors = [over_time_budget(budget)]
            self._refused(request, errors)
        except (CannotGetOperationTypeError, InvalidOperationTypeError, MissingQueryError) as error:
            if (
                isinstance(error, InvalidOperationTypeError)
                and error.operation_type is OperationType.SUBSCRIPTION
            ):
                errors = [subscription_over_http(request)]
            else:
                errors = [
                    coded(GraphQLError(str(error), original_error=error), request_id(request.scope))
                ]
            self._refused(request, errors)
        return graphql_response(
            data, errors, extensions, request.headers.get("accept"), self.encode_json
        )

    def _refused(self, request: Request, errors: list[GraphQLError]) -> None:
        """Errors raised around execution (not inside it): logged and noted the same way."""
        report(errors, request_id(request.scope))
        codes = sorted({str((error.extensions or {}).get("code")) for error in errors})
        note(request.scope, errorCodes=codes)

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
            store=request.app.state.store,
            settings=self.settings,
            feed=self.feed,
            request=request,
            query_cache=self.query_cache,
            state_cache=request.app.state.state_cache,
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


def _payload_from_body(request: Request, body: bytes) -> tuple[Any, Response | None]:
    if not is_json_media_type(request.headers.get("content-type")):
        found = request.headers.get("content-type") or "none"
        return {}, problem(415, f"send Content-Type: application/json (found: {found})")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}, problem(400, "the body is not valid JSON")
    return payload, None


def _payload_from_query_string(request: Request) -> tuple[Any, Response | None]:
    params = request.query_params
    payload: dict[str, Any] = {
        "query": params.get("query"),
        "operationName": params.get("operationName"),
    }
    for name in ("variables", "extensions"):
        if params.get(name):
            try:
                payload[name] = orjson.loads(params[name])
            except orjson.JSONDecodeError:
                return {}, problem(400, f"`{name}` is not valid JSON")
    return payload, None


def _checked_payload(payload: Any) -> tuple[dict[str, Any], Response | None]:
    """GraphQL over HTTP's request shape: one operation, not a batch."""
    if not isinstance(payload, dict):
        return {}, problem(400, "send one operation as a JSON object (batches are not accepted)")
    if not isinstance(payload.get("query"), str):
        return {}, problem(400, "the request has no `query` string")
    for name in ("variables", "extensions"):
        if not isinstance(payload.get(name), dict | None):
            return {}, problem(400, f"`{name}` must be a JSON object")
    if not isinstance(payload.get("operationName"), str | None):
        return {}, problem(400, "`operationName` must be a string")
    return payload, None


def _capped_messages(receive: Receive, send: Send, limit: int) -> Receive:
    """WebSocket messages larger than `limit` bytes close the socket (1009)."""

    async def capped() -> Message:
        message = await receive()
        if message["type"] == "websocket.receive":
            size = len(message.get("text") or "") + len(message.get("bytes") or b"")
            if size > limit:
                await send(
                    {
                        "type": "websocket.close",
                        "code": 1009,
                        "reason": f"message larger than COURSEGRAPH_MAX_BODY_BYTES ({limit})",
                    }
                )
                return {"type": "websocket.disconnect", "code": 1009}
        return message

    return capped


def graphql_routes(settings: Settings, feed: LiveFeed) -> list[BaseRoute]:
    from app.api.graphiql import graphiql_routes

    view = CoursegraphGraphQL(settings, feed)
    return [
        Route("/graphql", view, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", view),
        *graphiql_routes(settings),
    ]
