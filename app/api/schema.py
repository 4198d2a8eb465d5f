"""The Strawberry schema, with the parser and validation caches that make a small
query cheap (without them a trivial query costs ~5× more)."""

from __future__ import annotations

import strawberry
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from app.api.errors import ErrorCode
from app.api.query import Query, Subscription
from app.api.scalars import SCALAR_MAP
from graphql import GraphQLError


class NoIntrospection(NoSchemaIntrospectionCustomRule):
    """graphql-core's rule, its error carrying the contract's validation code."""

    def report_error(self, error: GraphQLError) -> None:
        super().report_error(
            GraphQLError(
                f"{error.message} (COURSEGRAPH_INTROSPECTION is off)",
                error.nodes,
                extensions={"code": str(ErrorCode.VALIDATION_FAILED)},
            )
        )


def build_schema(*, introspection: bool = True) -> strawberry.Schema:
    extensions: list[type[SchemaExtension] | SchemaExtension | object] = [
        lambda: ParserCache(maxsize=1024),
        lambda: ValidationCache(maxsize=1024),
        lambda: MaxTokensLimiter(max_token_count=20_000),
    ]
    if not introspection:
        extensions.append(lambda: AddValidationRules([NoIntrospection]))
    return strawberry.Schema(
        query=Query,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        extensions=extensions,  # type: ignore[arg-type]
    )


SCHEMA = build_schema()


def schema_for(*, introspection: bool) -> strawberry.Schema:
    """The served schema: the shared one, or one that refuses introspection."""
    return SCHEMA if introspection else build_schema(introspection=False)


def schema_sdl() -> str:
    return SCHEMA.as_str() + "\n"
