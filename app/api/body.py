"""Reading request bodies: the size cap, the content type, JSON parsing."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from app.caliper.canonical import JsonProblem, loads


class BodyTooLarge(Exception):
    pass


class NotJson(ValueError):
    pass


async def read_capped(request: Request, limit: int) -> bytes:
    """The body, refusing more than `limit` bytes before reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def is_json_media_type(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def parse_json(body: bytes) -> Any:
    """The body's JSON value, exactly as sent (see canonical.loads)."""
    try:
        return loads(body)
    except JsonProblem as error:
        where = f" at line {error.lineno} column {error.colno}" if error.lineno else ""
        raise NotJson(f"not valid JSON: {error.reason}{where}") from None


def wants_graphql_response_json(accept: str | None) -> bool:
    """Whether the Accept header lists application/graphql-response+json with a quality at
    least that of application/json (GraphQL over HTTP's choice of response media type)."""
    qualities: dict[str, float] = {}
    for part in (accept or "").split(","):
        media, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        qualities[media.lower()] = max(quality, qualities.get(media.lower(), 0.0))
    found = qualities.get("application/graphql-response+json", 0.0)
    plain = qualities.get(
        "application/json", qualities.get("application/*", qualities.get("*/*", 0.0))
    )
    return found > 0 and found >= plain
