"""POST /caliper: the endpoint Learn is registered with. GET /caliper: its configuration."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from app.api.auth import ingest_token_accepted
from app.api.body import (
    BodyTooLarge,
    BodyTooSlow,
    NotJson,
    is_json_media_type,
    parse_json,
    read_capped,
)
from app.api.problems import json_response, problem
from app.caliper.model import ShapeError, UnsupportedVersion
from app.caliper.reader import SUPPORTED_DATA_VERSIONS, check_data_version, read_body
from app.observe import note
from app.settings import Settings
from store.append import GroupAppender
from store.errors import StoreUnavailable
from store.identity import refreshed_identity

log = logging.getLogger("coursegraph.caliper")


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
    if not ingest_token_accepted(request, settings):
        return _unauthorized(settings)
    try:
        body = await read_capped(
            request, settings.max_body_bytes, settings.body_read_timeout_seconds
        )
    except BodyTooSlow:
        timeout = settings.body_read_timeout_seconds
        return problem(
            408,
            f"the body did not arrive within COURSEGRAPH_BODY_READ_TIMEOUT_SECONDS ({timeout} s)",
        )
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
        # Appended with the requests that arrive while the previous append commits.
        appender: GroupAppender = request.app.state.caliper_appender
        # A SQLite file replaced under the served path: append to the new one, not the old.
        await refreshed_identity(appender.store)
        result = await appender.append(batch, source="POST /caliper")
    except StoreUnavailable as error:  # nothing of this request is stored: Learn retries
        log.warning("append refused: %s", error.reason)
        unavailable = problem(
            503,
            f"the database is unavailable ({error.reason}); nothing was stored, retry in "
            f"{error.retry_after_seconds} s",
        )
        unavailable.headers["Retry-After"] = str(error.retry_after_seconds)
        return unavailable
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
    if not ingest_token_accepted(request, settings):
        return _unauthorized(settings)
    return json_response(
        {
            "caliper_supported_versions": list(SUPPORTED_DATA_VERSIONS),
            "caliper_maximum_payload_size": settings.max_body_bytes // 1024,
        }
    )
