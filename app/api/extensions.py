"""The Strawberry extension every operation (HTTP or WebSocket) goes through: fresh
loaders per operation, the text limits at parse time, the cost limits before validation,
one byte-bounded cache of parsed and validated texts, the time budget of each query and
mutation over the WebSocket, and coded, masked, logged errors."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types.graphql import OperationType

from app.api.errors import ErrorCode, coded_error, too_complex
from app.api.limits import Limits, over_time_budget, refusal
from app.api.masking import coded, report, with_code
from app.api.query_cache import CachedQuery
from app.observe import note
from app.observe import request_id as scope_request_id
from app.settings import Settings
from graphql import GraphQLError, GraphQLSyntaxError, OperationDefinitionNode, parse


class GuardedOperation(SchemaExtension):
    def __init__(self) -> None:
        self.refused: GraphQLError | None = None
        self.cached: CachedQuery | None = None
        self.streamed = False
        self._request_id: str | None = None

    # --- context -------------------------------------------------------------------

    @property
    def settings(self) -> Settings | None:
        return getattr(self.execution_context.context, "settings", None)

    def request_id(self) -> str:
        if self._request_id is None:
            request = getattr(self.execution_context.context, "request", None)
            scope = getattr(request, "scope", None)
            self._request_id = scope_request_id(scope) if scope is not None else uuid.uuid4().hex
        return self._request_id

    def _scope(self) -> Any:
        return getattr(getattr(self.execution_context.context, "request", None), "scope", None)

    # --- hooks ---------------------------------------------------------------------

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        # A WebSocket shares one context among its operations: each operation gets its
        # own loaders, which die with it.
        if hasattr(context, "for_operation"):
            self.execution_context.context = context.for_operation()
        settings = self.settings
        if settings is not None:
            options = self.execution_context.parse_options
            options["max_source_length"] = settings.max_query_chars
            options["max_tokens"] = settings.max_query_tokens
        yield
        if not self.streamed:
            self._finish(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        self.streamed = True
        self._finish(result)
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        cache = getattr(context.context, "query_cache", None)
        query = context.query
        if context.graphql_document is None and query is not None:
            self.cached = cache.get(query) if cache is not None else None
            if self.cached is not None:
                context.graphql_document = self.cached.document
            else:
                try:
                    document = parse(query, **context.parse_options)
                except GraphQLSyntaxError as error:
                    # Left for Strawberry's own parse to fail the same way (fast: the
                    # same limits apply); the limit, when one was passed, is named.
                    self.refused = self._text_refusal(query, error)
                else:
                    context.graphql_document = document
                    if cache is not None:
                        self.cached = cache.put(query, document)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        settings = self.settings
        document = context.graphql_document
        if document is not None and context._provided_operation_name is None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                context.pre_execution_errors = [
                    coded_error(
                        "the document holds several operations: name the one to run "
                        "(operationName)",
                        ErrorCode.VALIDATION_FAILED,
                    )
                ]
                yield
                return
        if document is not None and settings is not None:
            # Before validation: its cost grows with the document too.
            refused = refusal(
                document, context.schema._schema, context.variables, Limits.from_settings(settings)
            )
            if refused is not None:
                context.pre_execution_errors = [refused]
                yield
                return
        if document is not None and context.pre_execution_errors is None:
            rules = tuple(context.validation_rules)
            known = self.cached.validation.get(rules) if self.cached is not None else None
            if known is None:
                known = [
                    with_code(error, ErrorCode.VALIDATION_FAILED)
                    for error in validate_document(context.schema._schema, document, rules)
                ]
                if self.cached is not None:
                    self.cached.validation[rules] = known
            context.pre_execution_errors = list(known)
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        budget = self._websocket_budget()
        if budget is None:
            yield
        else:
            try:
                async with asyncio.timeout(budget):
                    yield
            except TimeoutError:
                # Strawberry answers an error raised here as the operation's `error`
                # message; the socket and its other operations go on.
                raise over_time_budget(budget) from None
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if errors and getattr(result, "data", None) is None:
            # Errors before any field ran: the variables' values could not be used.
            for error in errors:
                if error.path is None and not (error.extensions or {}).get("code"):
                    with_code(error, ErrorCode.BAD_USER_INPUT)

    def _websocket_budget(self) -> float | None:
        """Over HTTP the whole request runs within its budget (graphql_app); over the
        WebSocket each query and mutation does here. Subscriptions are long-lived by
        design: no budget."""
        settings = self.settings
        scope = self._scope()
        if settings is None or scope is None or scope.get("type") != "websocket":
            return None
        if self.execution_context.operation_type is OperationType.SUBSCRIPTION:
            return None
        return settings.request_budget_seconds

    # --- results -------------------------------------------------------------------

    def _text_refusal(self, query: str, error: GraphQLSyntaxError) -> GraphQLError | None:
        settings = self.settings
        if settings is None:
            return None
        if len(query) > settings.max_query_chars:
            return too_complex(
                "COURSEGRAPH_MAX_QUERY_CHARS",
                settings.max_query_chars,
                f"the query text is longer than COURSEGRAPH_MAX_QUERY_CHARS "
                f"({settings.max_query_chars} characters)",
            )
        # graphql-core's own words for its token limit (checked by a test).
        if "Document contains more than" in error.message:
            return too_complex(
                "COURSEGRAPH_MAX_QUERY_TOKENS",
                settings.max_query_tokens,
                f"the query has more tokens than COURSEGRAPH_MAX_QUERY_TOKENS "
                f"({settings.max_query_tokens})",
            )
        return None

    def _finish(self, result: Any) -> None:
        errors = getattr(result, "errors", None)
        if not errors:
            self._note([])
            return
        if self.refused is not None:
            errors = [self.refused]
        request_id = self.request_id()
        result.errors = [coded(error, request_id) for error in errors]
        report(result.errors, request_id)
        self._note(result.errors)

    def _note(self, errors: list[GraphQLError]) -> None:
        scope = self._scope()
        if scope is None:
            return
        codes = sorted({str((error.extensions or {}).get("code")) for error in errors})
        note(scope, operation=self.execution_context.operation_name, errorCodes=codes)
