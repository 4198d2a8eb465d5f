"""Every error a client sees carries `extensions.code`: errors raised with a code pass
through; a store that cannot answer becomes SERVICE_UNAVAILABLE; anything unexpected is
masked as INTERNAL_SERVER_ERROR with the request id, and the server log keeps it. Each
request's errors are logged once: client errors in one line, unexpected ones with their
traceback."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence

from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from app.api.errors import ErrorCode, coded_error
from graphql import GraphQLError, GraphQLSyntaxError
from store.errors import StoreUnavailable

log = logging.getLogger("coursegraph.graphql")

# Longest message quoted in a client-error log line.
LOGGED_MESSAGE_CHARS = 200


def code_of(error: GraphQLError) -> str | None:
    code = (error.extensions or {}).get("code")
    return str(code) if code else None


def with_code(error: GraphQLError, code: ErrorCode) -> GraphQLError:
    """The same error (message, locations, path) carrying `code`."""
    error.extensions = {**(error.extensions or {}), "code": str(code)}
    return error


def store_unavailable(reason: StoreUnavailable, error: GraphQLError | None = None) -> GraphQLError:
    return GraphQLError(
        f"the database is unavailable ({reason.reason}); retry in {reason.retry_after_seconds} s",
        nodes=error.nodes if error else None,
        path=error.path if error else None,
        extensions={
            "code": str(ErrorCode.SERVICE_UNAVAILABLE),
            "retryAfter": reason.retry_after_seconds,
        },
    )


def _store_cause(error: BaseException | None) -> StoreUnavailable | None:
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, StoreUnavailable):
            return error
        error = getattr(error, "original_error", None) or error.__cause__
        seen += 1
    return None


def coded(error: GraphQLError, request_id: str) -> GraphQLError:
    """The error as the client may see it."""
    if code_of(error):
        return error
    unavailable = _store_cause(error.original_error)
    if unavailable is not None:
        return store_unavailable(unavailable, error)
    original = error.original_error
    if isinstance(error, GraphQLSyntaxError) or isinstance(original, MissingQueryError):
        return with_code(error, ErrorCode.PARSE_FAILED)
    if isinstance(original, CannotGetOperationTypeError | InvalidOperationTypeError):
        return coded_error(_operation_problem(original), ErrorCode.VALIDATION_FAILED)
    return masked(error, request_id)


def _operation_problem(error: CannotGetOperationTypeError | InvalidOperationTypeError) -> str:
    if isinstance(error, CannotGetOperationTypeError):
        return error.as_http_error_reason()
    if error.operation_type is OperationType.SUBSCRIPTION:
        return "subscriptions run over WebSocket (graphql-transport-ws) at /graphql"
    return f"{error.operation_type.value} operations are not allowed here"


def masked(error: GraphQLError, request_id: str) -> GraphQLError:
    masked_error = coded_error(
        f"internal error; the server log holds it under request id {request_id}",
        ErrorCode.INTERNAL_SERVER_ERROR,
        requestId=request_id,
    )
    masked_error.path = error.path
    masked_error.locations = error.locations
    # Kept for the log line only; `formatted` never shows it.
    masked_error.original_error = error.original_error or error
    return masked_error


def report(errors: Sequence[GraphQLError], request_id: str) -> None:
    """One log entry for a request's client errors (no traceback, no query), and one with
    the traceback of its first unexpected error."""
    if not errors:
        return
    codes = Counter(code_of(error) or "?" for error in errors)
    unexpected = [error for error in errors if code_of(error) == ErrorCode.INTERNAL_SERVER_ERROR]
    clients = [error for error in errors if error not in unexpected]
    if clients:
        first = clients[0].message
        if len(first) > LOGGED_MESSAGE_CHARS:
            first = first[:LOGGED_MESSAGE_CHARS] + "…"
        log.warning(
            "request %s: %d error(s) %s; first: %s",
            request_id,
            len(clients),
            dict(codes),
            first,
        )
    for error in unexpected[:1]:
        cause = error.original_error
        log.error(
            "request %s: unexpected error at %s (%d such in this request)",
            request_id,
            ".".join(str(part) for part in error.path or ()) or "request",
            len(unexpected),
            exc_info=(type(cause), cause, cause.__traceback__) if cause is not None else None,
        )
