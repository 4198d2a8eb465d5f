"""The baseline for the HTTP load test: a bare Starlette JSON route, served by uvicorn the
same way `coursegraph serve` serves the app (one worker, no access log).

    .venv/bin/python -m uvicorn bare_app:app --app-dir bench --port 8001
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def answer(request: Request) -> JSONResponse:
    await request.body()
    return JSONResponse({"data": {"__typename": "Query"}})


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/graphql", answer, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
)
