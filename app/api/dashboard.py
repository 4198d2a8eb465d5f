"""GET /dashboard: the course dashboard. A course picker, then one page per course
(/dashboard?course=<course IRI>: course numbers repeat across terms) that reads
everything through /graphql with the project's own operations (graphql/operations/),
and refreshes when the eventAppended subscription reports one of the course's events.

The page, its script and its stylesheet are template files beside this module; its
chart library (Chart.js) is the npm package `make assets` installs, served by the app
through GraphiQL's asset route, so the dashboard works offline."""

from __future__ import annotations

import functools
import logging
import string
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from app.api.graphiql import OPERATIONS_DIR, asset_route, script_json
from app.settings import Settings

log = logging.getLogger("coursegraph.dashboard")
TEMPLATES = Path(__file__).resolve().parent / "templates"
ASSETS_PREFIX = "/dashboard/assets"
# Must match package.json.
CHART_JS_VERSION = "4.6.1"
CHART_JS = "chart.js/dist/chart.umd.min.js"
SERVED_FILES = frozenset([CHART_JS])
# The operations the page sends, by name: graphql/operations/<name>.graphql.
OPERATIONS = ("CourseActivity", "AtRiskStudents", "ItemStatistics")
# The page's own files, served from TEMPLATES.
PAGE_FILES = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}


@functools.cache
def _operations(folder: Path) -> dict[str, str]:
    return {name: (folder / f"{name}.graphql").read_text(encoding="utf-8") for name in OPERATIONS}


def render_page(settings: Settings) -> str:
    installed = (settings.graphiql_assets_dir / CHART_JS).is_file()
    config = {
        "graphql": "/graphql",
        "tokenRequired": bool(settings.api_tokens),
        "operations": _operations(OPERATIONS_DIR),
        "chartInstalled": installed,
    }
    template = string.Template((TEMPLATES / "dashboard.html").read_text(encoding="utf-8"))
    return template.substitute(
        config=script_json(config),
        chart_src=f"{ASSETS_PREFIX}/{CHART_JS}?v={CHART_JS_VERSION}",
    )


def dashboard_routes(settings: Settings) -> list[BaseRoute]:
    if not settings.dashboard:
        return []
    _operations.cache_clear()
    try:
        _operations(OPERATIONS_DIR)  # read at startup, not per view
    except OSError as error:
        log.warning("the dashboard is off: its operations cannot be read (%s)", error)
        return []

    async def page(request: Request) -> Response:
        return HTMLResponse(render_page(settings), headers={"Cache-Control": "no-store"})

    async def page_file(request: Request) -> Response:
        name = str(request.path_params["name"])
        if name not in PAGE_FILES:
            return PlainTextResponse("not a dashboard file", status_code=404)
        return FileResponse(TEMPLATES / name, media_type=PAGE_FILES[name])

    return [
        Route("/dashboard", page, methods=["GET"]),
        Route("/dashboard/{name:str}", page_file, methods=["GET", "HEAD"]),
        asset_route(settings.graphiql_assets_dir, ASSETS_PREFIX, SERVED_FILES, "dashboard"),
    ]
