"""A schema extension that reports each GraphQL operation when it ends: its name and the
codes of its errors go to its request's log line (HTTP) or a line of its own (WebSocket),
and to the metrics (open subscriptions are the live feed's count, read at scrape time)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from app.request_log import report_operation

UNCODED = "none"


class ObservedOperation(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        self._subscription_ran = False
        try:
            yield
        finally:
            self._finish(time.perf_counter() - started)

    def on_execute(self) -> Iterator[None]:
        # A subscription that got as far as running: its lifetime is no latency sample.
        self._subscription_ran = self.execution_context.operation_type is OperationType.SUBSCRIPTION
        yield

    def _finish(self, seconds: float) -> None:
        context = self.execution_context
        scope = _scope_of(context.context)
        if scope is None:
            return
        codes = [
            str((error.extensions or {}).get("code") or UNCODED)
            for error in context.pre_execution_errors or ()
        ]
        name = context.operation_name
        transport = "websocket" if scope["type"] == "websocket" else "http"
        # Over HTTP the request's line gets the operation and its coded errors from
        # GuardedOperation; here only the metrics and a WebSocket operation's own line.
        report_operation(
            scope,
            name=name,
            seconds=seconds,
            error_codes=codes,
            transport=transport,
            subscription=self._subscription_ran,
        )


def _scope_of(context: Any) -> dict[str, Any] | None:
    request = getattr(context, "request", None)
    scope = getattr(request, "scope", None)
    return scope if isinstance(scope, dict) else None
