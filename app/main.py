"""create_app(settings) → the Starlette app: /graphql, /caliper, /healthz."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.api.caliper_endpoint import caliper_get, caliper_post
from app.api.dashboard import dashboard_routes
from app.api.problems import json_response, problem
from app.runtime import tune_garbage_collector
from app.settings import Settings
from store.append import AppendResult
from store.db import create_store, ping
from store.schema import prepare_schema

log = logging.getLogger("coursegraph")


async def healthz(request: Request) -> Response:
    try:
        await ping(request.app.state.store)
    except Exception as error:  # the database does not answer yet
        return problem(503, f"database unavailable: {type(error).__name__}")
    return json_response({"status": "ok"})


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    from app.api.graphql_app import LiveFeed, graphql_routes

    feed = LiveFeed()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tune_garbage_collector()
        store = create_store(settings.database_url)
        await prepare_schema(store)
        app.state.store = store
        feed.attach(store)
        try:
            yield
        finally:
            await store.close()

    async def notify_appended(result: AppendResult) -> None:
        feed.notify(result)

    middleware = []
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["authorization", "content-type"],
                max_age=600,
            )
        )
    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/caliper", caliper_post, methods=["POST"]),
            Route("/caliper", caliper_get, methods=["GET"]),
            *graphql_routes(settings, feed),
            *dashboard_routes(settings),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.notify_appended = notify_appended
    return app
