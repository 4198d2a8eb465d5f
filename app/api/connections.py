"""Relay connections: nodes, edges, pageInfo, totalCount; opaque, stable cursors."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import orjson
import strawberry
from strawberry.types import Info
from strawberry.types.nodes import SelectedField

from app.api.errors import bad_user_input
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
    total_count: int  # counted only when the selection asks for it


def encode_cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


# Positions and row numbers are 64-bit integers >= 0 in both databases.
MAX_POSITION = 2**63 - 1
# Longest cursor this API gives out is far shorter (a sort key of two short values).
MAX_CURSOR_CHARS = 2_000


def _foreign_cursor(cursor: str) -> GraphQLError:
    shown = cursor if len(cursor) <= 40 else cursor[:40] + "…"
    return bad_user_input(f"`after`: {shown!r} is not a cursor this API gave out")


def _decode(cursor: str) -> Any:
    if len(cursor) > MAX_CURSOR_CHARS:
        raise _foreign_cursor(cursor)
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, orjson.JSONDecodeError):
        raise _foreign_cursor(cursor) from None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def decode_position(cursor: str) -> int:
    """A cursor of a log ordered by position (or row number): an integer in range,
    checked before it reaches SQL."""
    value = _decode(cursor)
    if not _is_int(value) or not 0 <= value <= MAX_POSITION:
        raise _foreign_cursor(cursor)
    return value


def decode_sort_key(cursor: str, shape: tuple[type, ...]) -> list[Any]:
    """A cursor that is a sort key: a list of exactly `shape`'s types (ints in 64 bits)."""
    value = _decode(cursor)
    if not isinstance(value, list) or len(value) != len(shape):
        raise _foreign_cursor(cursor)
    for part, kind in zip(value, shape, strict=True):
        if kind is int:
            if not _is_int(part) or not -MAX_POSITION - 1 <= part <= MAX_POSITION:
                raise _foreign_cursor(cursor)
        elif not isinstance(part, kind):
            raise _foreign_cursor(cursor)
    return value


DEFAULT_PAGE = 100


def check_first(first: int | None) -> int:
    """`first` as given (null means the default page), within the limit."""
    if first is None:
        return DEFAULT_PAGE
    if first < 0 or first > MAX_PAGE:
        raise bad_user_input(f"`first` must be between 0 and {MAX_PAGE} (got {first})")
    return first


def asks_for(info: Info, name: str) -> bool:
    """Whether the field's own selection (fragments included) names `name`: what is not
    asked for is not computed (totalCount costs a count over the log)."""
    pending = [child for field in info.selected_fields for child in field.selections]
    while pending:
        selection = pending.pop()
        if isinstance(selection, SelectedField):
            if selection.name == name:
                return True
        else:  # a fragment spread or an inline fragment: its fields are at this level
            pending.extend(selection.selections)
    return False


def build_connection(
    page: Sequence[S],
    *,
    total: int | None,
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
        total_count=total,  # type: ignore[arg-type]  # None only when not selected
    )


def paginate(
    items: Sequence[S],
    *,
    first: int | None,
    after: str | None,
    sort_key: Callable[[S], list[Any]],
    key_shape: tuple[type, ...],
    node_of: Callable[[S], T],
) -> Connection[T]:
    """Page an already sorted list; the cursor is the item's sort key, so a page
    boundary stays put when items are added before or after it."""
    first = check_first(first)
    start = 0
    if after is not None:
        boundary = decode_sort_key(after, key_shape)
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
