"""GET /healthz: 200 when the database takes a read and a write, else 503 with why."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from app.api.problems import json_response, problem
from app.settings import Settings
from store.db import check_read_write
from store.errors import StoreUnavailable

RETRY_AFTER_SECONDS = 5


def _unavailable(reason: str) -> Response:
    response = problem(503, reason)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


async def healthz(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    store = getattr(request.app.state, "store", None)
    if store is None:
        return _unavailable("the database is not open yet")
    try:
        async with asyncio.timeout(settings.health_timeout):
            await check_read_write(store, min_free_bytes=settings.health_min_free_bytes)
    except TimeoutError:
        return _unavailable(
            "the database did not take a read and a write within "
            f"COURSEGRAPH_HEALTH_TIMEOUT={settings.health_timeout:g} s"
        )
    except StoreUnavailable as unavailable:
        return _unavailable(unavailable.reason)
    return json_response({"status": "ok"})
