"""JSON values → the Python types the projections serve.

Each returns None for a value it cannot read, so one odd value never breaks a
fold. `bool` is refused where a number is expected: in Python it is an int. Numbers
and instants are read by app.caliper.values, whose ranges ingest checks too: a value
that reads but lies outside them raises UnusableValue."""

from __future__ import annotations

from typing import Any

from app.caliper.values import as_float, as_int, as_time_ms


def as_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def as_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


__all__ = ["as_bool", "as_float", "as_int", "as_text", "as_time_ms"]
