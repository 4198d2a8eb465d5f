"""DateTime (served as 2021-01-05T14:50:29.906Z; inputs with any offset, none = UTC)
and JSON. Times travel through the API as integer milliseconds."""

from __future__ import annotations

from typing import Any, NewType

import strawberry
from strawberry.scalars import JSON

from app.caliper.values import format_time_ms, parse_time_ms


def _parse_datetime(value: Any) -> int:
    found = parse_time_ms(value)
    if found is None:
        raise ValueError(f"{value!r} is not an ISO-8601 date-time (e.g. 2021-01-05T14:50:29.906Z)")
    return found


def _serialize_datetime(value: int) -> str:
    return format_time_ms(value)


DateTime = NewType("DateTime", int)

# Registered in the schema's config (StrawberryConfig.scalar_map).
SCALAR_MAP = {
    DateTime: strawberry.scalar(
        name="DateTime",
        description="ISO-8601 with timezone, UTC, millisecond precision",
        serialize=_serialize_datetime,
        parse_value=_parse_datetime,
    )
}

__all__ = ["JSON", "SCALAR_MAP", "DateTime"]
