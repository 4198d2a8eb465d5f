"""The Strawberry schema: one extension guards every operation (limits, the byte-bounded
parse and validation cache, coded errors), and introspection can be refused."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.schema.config import StrawberryConfig

from app.api.errors import ErrorCode
from app.api.extensions import GuardedOperation
from app.api.observed_operation import ObservedOperation
from app.api.query import Query, Subscription
from app.api.scalars import SCALAR_MAP
from app.api.unreadable import UnreadableEntities
from graphql import GraphQLError


class CoursegraphSchema(strawberry.Schema):
    def process_errors(self, errors: Sequence[GraphQLError], execution_context: Any = None) -> None:
        """Nothing here: GuardedOperation logs each request's errors once, coded."""


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
    extensions: list[type[SchemaExtension] | Any] = [
        GuardedOperation,
        UnreadableEntities,
        ObservedOperation,
    ]
    if not introspection:
        extensions.append(lambda: AddValidationRules([NoIntrospection]))
    return CoursegraphSchema(
        query=Query,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        extensions=extensions,
    )


SCHEMA = build_schema()


def schema_for(*, introspection: bool) -> strawberry.Schema:
    """The served schema: the shared one, or one that refuses introspection."""
    return SCHEMA if introspection else build_schema(introspection=False)


def schema_sdl() -> str:
    return SCHEMA.as_str() + "\n"
