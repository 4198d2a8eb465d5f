"""Who may call: the one place that reads and checks tokens, for HTTP and WebSocket.

Ingest tokens guard /caliper; API tokens guard /graphql (HTTP and WebSocket), /metrics and
/dashboard. Tokens are compared in constant time against every configured token, so
neither the answer's timing nor an early exit tells which token (or how much of one)
matched."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import HTTPConnection
from starlette.responses import Response

from app.api.errors import ErrorCode
from app.api.problems import problem
from app.settings import Settings

API_TOKENS_VARIABLE = "COURSEGRAPH_API_TOKENS"
UNAUTHENTICATED_MESSAGE = (
    f"this API needs `Authorization: Bearer <token>` with one of {API_TOKENS_VARIABLE}"
)


def bearer_token(value: str | None) -> str | None:
    """`Bearer <token>`, or the bare token as some sensors send it; None when empty."""
    value = (value or "").strip()
    if not value:
        return None
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer" and rest.strip():
        return rest.strip()
    return value


def token_of(connection: HTTPConnection) -> str | None:
    """The token of a request's (or a WebSocket upgrade's) Authorization header."""
    return bearer_token(connection.headers.get("authorization"))


def token_matches(token: str | None, accepted: tuple[str, ...]) -> bool:
    """Whether `token` is one of `accepted`, comparing against every one of them."""
    if token is None:
        return False
    given = token.encode()
    matched = False
    for known in accepted:
        # No short-circuit: every configured token is compared whatever matched before.
        matched |= hmac.compare_digest(given, known.encode())
    return matched


def token_accepted(connection: HTTPConnection, accepted: tuple[str, ...]) -> bool:
    return token_matches(token_of(connection), accepted)


def ingest_token_accepted(connection: HTTPConnection, settings: Settings) -> bool:
    """/caliper: a valid ingest token (no tokens configured: nobody may post)."""
    return token_accepted(connection, settings.ingest_tokens)


def api_token_accepted(connection: HTTPConnection, settings: Settings) -> bool:
    """The API: open without API tokens, else a valid one in the Authorization header."""
    return not settings.api_tokens or token_accepted(connection, settings.api_tokens)


def websocket_token_accepted(
    connection_params: Mapping[str, Any] | None, upgrade: HTTPConnection, settings: Settings
) -> bool:
    """A GraphQL WebSocket: the token in connection_init's payload (`Authorization` or
    `authorization`, what browsers can send), or in the upgrade request's header."""
    if not settings.api_tokens:
        return True
    params = connection_params if isinstance(connection_params, Mapping) else {}
    sent = params.get("Authorization", params.get("authorization"))
    from_init = bearer_token(sent) if isinstance(sent, str) else None
    return token_matches(from_init, settings.api_tokens) or api_token_accepted(upgrade, settings)


def graphql_unauthenticated() -> Response:
    """401 for GraphQL clients: a GraphQL-shaped body whose error carries the code."""
    body = {
        "errors": [
            {"message": UNAUTHENTICATED_MESSAGE, "extensions": {"code": ErrorCode.UNAUTHENTICATED}}
        ]
    }
    return Response(
        orjson.dumps(body),
        status_code=401,
        media_type="application/json",
        headers={"WWW-Authenticate": "Bearer"},
    )


def api_token_refusal(
    connection: HTTPConnection, settings: Settings, *, graphql: bool = False
) -> Response | None:
    """None when the request may use the API; else its 401 (GraphQL-shaped for /graphql,
    problem+json with the same code elsewhere, e.g. /metrics and /dashboard)."""
    if api_token_accepted(connection, settings):
        return None
    if graphql:
        return graphql_unauthenticated()
    return problem(401, UNAUTHENTICATED_MESSAGE, code=str(ErrorCode.UNAUTHENTICATED))
