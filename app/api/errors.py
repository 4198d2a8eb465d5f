"""The error codes of the contract's "GraphQL errors" table, and the one way to raise
each: every error a client sees carries `extensions.code`."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from graphql import GraphQLError


class ErrorCode(StrEnum):
    PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    # Apollo's codes: persisted queries turned off; an operation off the allow-list.
    PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
    QUERY_NOT_IN_SAFELIST = "QUERY_NOT_IN_SAFELIST"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


def coded_error(message: str, code: ErrorCode, **extensions: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": str(code), **extensions})


def bad_user_input(message: str) -> GraphQLError:
    """An argument value the schema admits but the API cannot use."""
    return coded_error(message, ErrorCode.BAD_USER_INPUT)


def too_complex(limit: str, value: int | float, message: str) -> GraphQLError:
    """Over one of the request's limits: `limit` names its setting, `value` its value."""
    return coded_error(message, ErrorCode.QUERY_TOO_COMPLEX, limit=limit, limitValue=value)


def unreadable_entity(kind: str, key: str, request_id: str | None = None) -> GraphQLError:
    """A stored entity whose events cannot be folded: only its own field fails."""
    extra = {"requestId": request_id} if request_id else {}
    return coded_error(
        f"{kind} {key} cannot be read from its stored events; the server log has the details",
        ErrorCode.INTERNAL_SERVER_ERROR,
        entity=key,
        **extra,
    )
