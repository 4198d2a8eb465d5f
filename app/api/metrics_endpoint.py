"""GET /metrics: the Prometheus text format, behind the API tokens like /graphql."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response

from app.api.auth import api_token_refusal


async def metrics_get(request: Request) -> Response:
    refusal = api_token_refusal(request, request.app.state.settings)
    if refusal is not None:
        return refusal
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
