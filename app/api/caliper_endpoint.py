"""POST /caliper: the endpoint Learn is registered with. GET /caliper: its configuration."""

from __future__ import annotations

import hmac
import logging

from starlette.requests import Request
from starlette.responses import Response

from app.api.body import BodyTooLarge, NotJson, is_json_media_type, parse_json, read_capped
from app.api.problems import json_response, problem
from app.caliper.model import ShapeError, UnsupportedVersion
from app.caliper.reader import SUPPORTED_DATA_VERSIONS, check_data_version, read_body
from app.observe import note
from app.settings import Settings
from store.append import append_batch
from store.db import Store

log = logging.getLogger("coursegraph.caliper")


def token_of(request: Request) -> str | None:
    """`Authorization: Bearer <token>`, or the bare token as some sensors send it."""
    header = request.headers.get("authorization", "").strip()
    if not header:
        return None
    scheme, _, rest = header.partition(" ")
    if scheme.lower() == "bearer" and rest.strip():
        return rest.strip()
    return header


def token_accepted(request: Request, accepted: tuple[str, ...]) -> bool:
    token = token_of(request)
    if token is None:
        return False
    return any(hmac.compare_digest(token.encode(), known.encode()) for known in accepted)


def _unauthorized(settings: Settings) -> Response:
    if not settings.ingest_tokens:
        return problem(
            401,
            "the Caliper endpoint accepts no token yet: set COURSEGRAPH_INGEST_TOKENS "
            "(comma-separated) and register one of them with Learn",
        )
    return problem(401, "missing or unknown token: send `Authorization: Bearer <token>`")


async def caliper_post(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    store: Store = request.app.state.store
    if not token_accepted(request, settings.ingest_tokens):
        return _unauthorized(settings)
    try:
        body = await read_capped(request, settings.max_body_bytes)
    except BodyTooLarge:
        return problem(
            413,
            f"body is larger than COURSEGRAPH_MAX_BODY_BYTES ({settings.max_body_bytes} bytes)",
            limit=settings.max_body_bytes,
        )
    if not is_json_media_type(request.headers.get("content-type")):
        found = request.headers.get("content-type") or "none"
        return problem(415, f"send Content-Type: application/json (found: {found})")
    try:
        value = parse_json(body)
        batch = read_body(value)
        check_data_version(value)
    except NotJson as error:
        return problem(400, f"$: {error}", path="$", reason=str(error))
    except ShapeError as error:
        return problem(400, str(error), path=error.path, reason=error.reason)
    except UnsupportedVersion as error:
        return problem(
            422,
            f"{error.path}: unsupported dataVersion {error.version!r}; supported: "
            + ", ".join(SUPPORTED_DATA_VERSIONS),
            path=error.path,
            supported=list(SUPPORTED_DATA_VERSIONS),
        )
    try:
        result = await append_batch(store, batch, source="POST /caliper")
    except Exception:  # the transaction rolled back: nothing of this request is stored
        log.exception("append failed")
        return problem(503, "the store could not take this request; nothing was stored, retry it")
    note(
        request.scope,
        appended=result.appended,
        duplicates=result.duplicates,
        conflicts=result.conflicts,
        rejected=len(result.rejected),
        entities=result.entities,
    )
    await request.app.state.notify_appended(result)
    return json_response(result.answer())


async def caliper_get(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    if not token_accepted(request, settings.ingest_tokens):
        return _unauthorized(settings)
    return json_response(
        {
            "caliper_supported_versions": list(SUPPORTED_DATA_VERSIONS),
            "caliper_maximum_payload_size": settings.max_body_bytes // 1024,
        }
    )
