"""One JSON log line per HTTP request, WebSocket connection and WebSocket operation, and
the same observation feeds the request metrics.

A line holds the request id (also sent back as `X-Request-Id`), method, route, status,
duration and what the handler noted through app.observe.note (GraphQL operation name and
error codes, /caliper's counts). Never tokens, bodies, event content, query variables or
SQL parameters: only what handlers note, and they note counts and names."""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Iterable
from typing import Any

import orjson
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observe import observed, request_id

log = logging.getLogger("coursegraph.requests")
UNMATCHED = "unmatched"
# A client names its operations; the log keeps a bounded piece of that name.
MAX_LOGGED_NAME = 100


def serve_log_config() -> dict[str, Any]:
    """uvicorn's logging, plus the app's loggers on standard error: the request lines as
    bare JSON, the rest with their level."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["line"] = {"format": "%(message)s"}
    config["formatters"]["app"] = {"format": "%(levelname)s %(name)s: %(message)s"}
    for name, formatter in (("request_lines", "line"), ("app", "app")):
        config["handlers"][name] = {
            "class": "logging.StreamHandler",
            "formatter": formatter,
            "stream": "ext://sys.stderr",
        }
    config["loggers"]["coursegraph"] = {"handlers": ["app"], "level": "INFO", "propagate": False}
    config["loggers"]["coursegraph.requests"] = {
        "handlers": ["request_lines"],
        "level": "INFO",
        "propagate": False,
    }
    return config


def route_paths(routes: Iterable[BaseRoute]) -> dict[Any, str]:
    """Each route's endpoint and its path, for route_of (app.state.route_paths)."""
    paths = {}
    for route in routes:
        endpoint = getattr(route, "endpoint", None) or getattr(route, "app", None)
        if endpoint is not None:
            paths[endpoint] = str(getattr(route, "path", UNMATCHED))
    return paths


def route_of(scope: Scope) -> str:
    """The path of the route that served this request (bounded, unlike the path itself):
    the router leaves the endpoint it picked in the scope."""
    paths = getattr(getattr(scope.get("app"), "state", None), "route_paths", {})
    return paths.get(scope.get("endpoint"), UNMATCHED)


def write_line(line: dict[str, Any]) -> None:
    log.info(orjson.dumps(line).decode())


def report_operation(
    scope: Scope,
    *,
    name: str | None,
    seconds: float,
    error_codes: Iterable[str],
    transport: str,
    subscription: bool = False,
) -> None:
    """A GraphQL operation ended. Over HTTP it is part of its request's line; over a
    WebSocket it gets its own line."""
    codes = sorted(set(error_codes))
    app = scope.get("app")
    metrics = getattr(getattr(app, "state", None), "metrics", None)
    if metrics is not None:
        metrics.operation_finished(name, transport, None if subscription else seconds, codes)
    if transport == "websocket":
        write_line(
            {
                "requestId": request_id(scope),
                "kind": "websocket-operation",
                "route": route_of(scope),
                "operation": (name or "")[:MAX_LOGGED_NAME] or None,
                "status": "error" if codes else "ok",
                "durationMs": round(seconds * 1000, 2),
                "errorCodes": codes,
            }
        )


class RequestLog:
    """ASGI middleware: the line and the request metrics at the end of each request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        identifier = request_id(scope)
        header = (b"x-request-id", identifier.encode())
        status = 0

        async def send_observed(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind in ("http.response.start", "websocket.accept"):
                status = message.get("status", 101)
                message = {**message, "headers": [*message.get("headers", ()), header]}
            elif kind == "websocket.close" and status == 0:
                status = 403  # refused before the handshake completed
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        except BaseException:
            status = status or 500
            raise
        finally:
            self._finish(scope, identifier, status, time.perf_counter() - started)

    def _finish(self, scope: Scope, identifier: str, status: int, seconds: float) -> None:
        route = route_of(scope)
        method = scope.get("method", "WEBSOCKET")
        facts = observed(scope)
        metrics = getattr(scope["app"].state, "metrics", None)
        if metrics is not None:
            latency = seconds if scope["type"] == "http" else None
            metrics.request_finished(route, method, status, latency)
        operation = facts.pop("operation", None)
        line: dict[str, Any] = {
            "requestId": identifier,
            "kind": scope["type"],
            "method": method,
            "route": route,
            "operation": operation[:MAX_LOGGED_NAME] if isinstance(operation, str) else None,
            "status": status,
            "durationMs": round(seconds * 1000, 2),
        }
        line.update(facts)
        write_line(line)
