"""Per-request observations kept in the ASGI scope's state: the request id and the facts
(operation name, counts, error codes) that the request log line and the metrics report."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.types import Scope


def request_id(scope: Scope) -> str:
    """This request's id, made on first use; the log line and masked errors carry it."""
    state = scope.setdefault("state", {})
    found = state.get("request_id")
    if found is None:
        found = state["request_id"] = uuid.uuid4().hex[:16]
    return str(found)


def note(scope: Scope, **facts: Any) -> None:
    """Record facts about this request for its log line and metrics (never tokens, event
    content or SQL parameters)."""
    scope.setdefault("state", {}).setdefault("observed", {}).update(facts)


def observed(scope: Scope) -> dict[str, Any]:
    return dict(scope.get("state", {}).get("observed", {}))
