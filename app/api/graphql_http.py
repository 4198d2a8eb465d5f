"""GraphQL over HTTP as the contract has it: the media type chosen from Accept, request
errors (no `data`) 400 under application/graphql-response+json and 200 under
application/json, SERVICE_UNAVAILABLE 503 with Retry-After."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from app.api.errors import ErrorCode
from app.api.masking import code_of
from graphql import GraphQLError

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"


def _qualities(accept: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if not media:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.lower()
        found[media] = max(found.get(media, 0.0), quality)
    return found


def response_media_type(accept: str | None) -> str:
    """application/graphql-response+json when Accept lists it with a quality at least that
    of application/json; otherwise (also for */* or no Accept) application/json."""
    if not accept:
        return JSON
    qualities = _qualities(accept)
    wanted = qualities.get(GRAPHQL_RESPONSE_JSON, 0.0)
    plain = qualities.get(JSON, qualities.get("application/*", qualities.get("*/*", 0.0)))
    return GRAPHQL_RESPONSE_JSON if wanted > 0 and wanted >= plain else JSON


def is_request_error(data: Any, errors: list[GraphQLError]) -> bool:
    """Refused before execution (parse, validation, limits, variables): no `data`."""
    return data is None and bool(errors) and all(error.path is None for error in errors)


def graphql_response(
    data: Any,
    errors: list[GraphQLError],
    extensions: dict[str, Any] | None,
    accept: str | None,
    encode: Callable[[object], bytes],
) -> Response:
    media_type = response_media_type(accept)
    request_error = is_request_error(data, errors)
    body: dict[str, Any] = {} if request_error else {"data": data}
    if errors:
        body["errors"] = [error.formatted for error in errors]
    if extensions:
        body["extensions"] = extensions
    status = 200
    headers: dict[str, str] = {}
    unavailable = [e for e in errors if code_of(e) == ErrorCode.SERVICE_UNAVAILABLE]
    if unavailable:
        status = 503
        retry = max(int((e.extensions or {}).get("retryAfter", 5)) for e in unavailable)
        headers["Retry-After"] = str(retry)
    elif request_error and media_type == GRAPHQL_RESPONSE_JSON:
        status = 400
    return Response(encode(body), status_code=status, media_type=media_type, headers=headers)
