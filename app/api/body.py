"""Reading request bodies: the size cap, the content type, JSON parsing."""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.requests import Request


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
    """orjson first; the standard parser for what orjson refuses but JSON allows
    (integers beyond 64 bits), and for a line/column in the error."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NotJson(f"body is not UTF-8 (byte {error.start})") from None
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise NotJson(
            f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except ValueError as error:
        raise NotJson(f"not valid JSON: {error}") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")
