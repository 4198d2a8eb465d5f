"""Relay connections: nodes, edges, pageInfo, totalCount; opaque, stable cursors."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import orjson
import strawberry

from graphql import GraphQLError

MAX_PAGE = 1000
T = TypeVar("T")
S = TypeVar("S")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    nodes: list[T]
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int


def encode_cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, orjson.JSONDecodeError):
        raise GraphQLError(f"`after`: {cursor!r} is not a cursor this API gave out") from None


DEFAULT_PAGE = 100


def check_first(first: int | None) -> int:
    """`first` as given (null means the default page), within the limit."""
    if first is None:
        return DEFAULT_PAGE
    if first < 0 or first > MAX_PAGE:
        raise GraphQLError(f"`first` must be between 0 and {MAX_PAGE} (got {first})")
    return first


def build_connection(
    page: Sequence[S],
    *,
    total: int,
    has_next: bool,
    has_previous: bool,
    cursor_of: Callable[[S], Any],
    node_of: Callable[[S], T],
) -> Connection[T]:
    nodes = [node_of(item) for item in page]
    cursors = [encode_cursor(cursor_of(item)) for item in page]
    return Connection(
        nodes=nodes,
        edges=[Edge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)],
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
        total_count=total,
    )


def paginate(
    items: Sequence[S],
    *,
    first: int | None,
    after: str | None,
    sort_key: Callable[[S], list[Any]],
    node_of: Callable[[S], T],
) -> Connection[T]:
    """Page an already sorted list; the cursor is the item's sort key, so a page
    boundary stays put when items are added before or after it."""
    first = check_first(first)
    start = 0
    if after is not None:
        boundary = decode_cursor(after)
        start = len(items)
        for index, item in enumerate(items):
            if sort_key(item) > boundary:
                start = index
                break
    page = items[start : start + first]
    return build_connection(
        page,
        total=len(items),
        has_next=start + first < len(items),
        has_previous=start > 0,
        cursor_of=sort_key,
        node_of=node_of,
    )
