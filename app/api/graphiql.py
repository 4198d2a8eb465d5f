"""Placeholder GraphiQL page (replaced by the offline-capable one)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute
from strawberry.http.ides import get_graphql_ide_html

from app.settings import Settings


def graphiql_page(settings: Settings, request: Request) -> Response:
    return HTMLResponse(get_graphql_ide_html("graphiql"))


def graphiql_routes(settings: Settings) -> list[BaseRoute]:
    return []
