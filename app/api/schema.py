"""The Strawberry schema, with the parser and validation caches that make a small
query cheap (without them a trivial query costs ~5× more)."""

from __future__ import annotations

import strawberry
from strawberry.extensions import MaxTokensLimiter, ParserCache, ValidationCache

from app.api.query import Query, Subscription


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        subscription=Subscription,
        extensions=[
            lambda: ParserCache(maxsize=1024),
            lambda: ValidationCache(maxsize=1024),
            lambda: MaxTokensLimiter(max_token_count=20_000),
        ],
    )


SCHEMA = build_schema()


def schema_sdl() -> str:
    return SCHEMA.as_str() + "\n"
