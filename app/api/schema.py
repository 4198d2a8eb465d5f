"""The Strawberry schema. One extension guards every operation (app/api/extensions.py):
limits, a parse and validation cache bounded by bytes (without a cache a trivial query
costs ~5× more), and coded errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.schema.config import StrawberryConfig

from app.api.extensions import GuardedOperation
from app.api.query import Query, Subscription
from app.api.scalars import SCALAR_MAP
from graphql import GraphQLError


class CoursegraphSchema(strawberry.Schema):
    def process_errors(self, errors: Sequence[GraphQLError], execution_context: Any = None) -> None:
        """Nothing here: GuardedOperation logs each request's errors once, coded."""


def build_schema() -> strawberry.Schema:
    return CoursegraphSchema(
        query=Query,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        extensions=[GuardedOperation],
    )


SCHEMA = build_schema()


def schema_sdl() -> str:
    return SCHEMA.as_str() + "\n"
