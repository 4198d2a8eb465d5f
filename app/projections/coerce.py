"""JSON values → the Python types the projections serve.

Each returns None for a value it cannot read, so one odd value never breaks a
fold. `bool` is refused where a number is expected: in Python it is an int."""

from __future__ import annotations

from typing import Any

from app.caliper.values import parse_time_ms


def as_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def as_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def as_time_ms(value: Any) -> int | None:
    """An ISO-8601 text, or a number already in epoch milliseconds."""
    if isinstance(value, str):
        return parse_time_ms(value)
    return as_int(value)
