"""create_app(settings) → the Starlette app: /graphql, /caliper, /healthz."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route

from app.api.caliper_endpoint import caliper_get, caliper_post
from app.api.dashboard import dashboard_routes
from app.api.health import healthz
from app.api.hosts import HostAllowList
from app.api.metrics_endpoint import metrics_get
from app.api.persisted_queries import PersistedQueries
from app.api.state_cache import StateCache
from app.metrics import Metrics
from app.request_log import RequestLog, route_paths
from app.runtime import tune_garbage_collector
from app.settings import Settings
from store.append import AppendResult, GroupAppender
from store.db import create_store
from store.schema import prepare_schema

log = logging.getLogger("coursegraph")


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    from app.api.graphql_app import graphql_routes
    from app.api.live import LiveFeed

    feed = LiveFeed(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tune_garbage_collector()
        store = create_store(settings.database_url)
        await prepare_schema(store)
        app.state.store = store
        app.state.caliper_appender = GroupAppender(store, max_items=settings.caliper_group_items)
        app.state.metrics.watch_store(store)
        await feed.start(store)
        try:
            yield
        finally:
            await feed.stop()
            await store.close()

    async def notify_appended(result: AppendResult) -> None:
        if result.last_position is not None:
            feed.appended(result.last_position)
        metrics.appended(result)

    persisted_queries = PersistedQueries(settings)
    state_cache = StateCache(settings.cache_bytes)
    metrics = Metrics(persisted_queries.allowed.operation_names)
    metrics.watch_state_cache(state_cache)
    feed.delivery_listeners.append(metrics.delivered)
    metrics.watch_subscriptions(lambda: feed.subscriptions)
    # Outermost the request log, so refused requests are logged too; then a foreign Host is
    # refused before anything else reads the request.
    middleware = [
        Middleware(RequestLog),
        Middleware(HostAllowList, allowed=settings.effective_allowed_hosts),
    ]
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
            Route("/metrics", metrics_get, methods=["GET"]),
            *graphql_routes(settings, feed),
            *dashboard_routes(settings),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.feed = feed  # one per worker: its subscriptions, counters for /metrics
    app.state.notify_appended = notify_appended
    app.state.metrics = metrics
    app.state.route_paths = route_paths(app.routes)
    app.state.persisted_queries = persisted_queries
    app.state.state_cache = state_cache  # one per worker: values folded from the log
    return app
