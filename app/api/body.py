"""Reading request bodies: the size cap, the content type, JSON parsing."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request

from app.caliper.canonical import JsonProblem, loads


class BodyTooLarge(Exception):
    pass


class BodyTooSlow(Exception):
    pass


class NotJson(ValueError):
    pass


async def read_capped(request: Request, limit: int, timeout_seconds: float | None = None) -> bytes:
    """The body, refusing more than `limit` bytes before reading it all (whatever the
    content type, chunked or not), and a body still arriving after `timeout_seconds`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks = []
    size = 0
    try:
        async with asyncio.timeout(timeout_seconds):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge
                chunks.append(chunk)
    except TimeoutError:
        raise BodyTooSlow from None
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
