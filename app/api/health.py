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
    # One check at a time: callers meanwhile wait for the one under way. A check stuck
    # behind a held write lock is not cancelled (that would wait for the driver anyway);
    # it ends within the database's own busy timeout.
    probe: asyncio.Future[None] | None = getattr(request.app.state, "health_probe", None)
    if probe is None or probe.done():
        probe = asyncio.ensure_future(
            check_read_write(store, min_free_bytes=settings.health_min_free_bytes)
        )
        # Its outcome is read here or by no one: say nothing about it in the log then.
        probe.add_done_callback(lambda done: done.cancelled() or done.exception())
        request.app.state.health_probe = probe
    done, _ = await asyncio.wait({probe}, timeout=settings.health_timeout)
    if not done:
        return _unavailable(
            "the database did not take a read and a write within "
            f"COURSEGRAPH_HEALTH_TIMEOUT={settings.health_timeout:g} s"
        )
    try:
        probe.result()
    except StoreUnavailable as unavailable:
        return _unavailable(unavailable.reason)
    return json_response({"status": "ok"})
