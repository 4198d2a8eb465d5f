"""The Strawberry schema, with the parser and validation caches that make a small
query cheap (without them a trivial query costs ~5× more)."""

from __future__ import annotations

import strawberry
from strawberry.extensions import MaxTokensLimiter, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig

from app.api.observed_operation import ObservedOperation
from app.api.query import Query, Subscription
from app.api.scalars import SCALAR_MAP


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        extensions=[
            lambda: ParserCache(maxsize=1024),
            lambda: ValidationCache(maxsize=1024),
            lambda: MaxTokensLimiter(max_token_count=20_000),
            ObservedOperation,
        ],
    )


SCHEMA = build_schema()


def schema_sdl() -> str:
    return SCHEMA.as_str() + "\n"
