"""Content identity: two events are equal when their parsed JSON values are equal
(key order and whitespace aside; numbers by value)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import orjson

# Integral floats (20.0) and exponent floats (1e16) are the only numbers whose text
# differs from an equal int's; only events that hold one pay for the slow walk.
_NEEDS_NUMBER_WALK = re.compile(rb"[:,\[]-?\d+(?:\.0|(?:\.\d+)?e[+-]?\d+)[,\]}]")


def _numbers_by_value(value: Any) -> Any:
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**63 else value
    if isinstance(value, dict):
        return {key: _numbers_by_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_numbers_by_value(item) for item in value]
    return value


def _sorted_text(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # integers beyond 64 bits
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def content_hash(value: Any) -> str:
    text = _sorted_text(value)
    if _NEEDS_NUMBER_WALK.search(text):
        text = _sorted_text(_numbers_by_value(value))
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def dumps(value: Any) -> bytes:
    """The stored form: the same JSON value, keys in the order they came."""
    try:
        return orjson.dumps(value)
    except TypeError:  # integers beyond 64 bits: orjson refuses, json keeps them
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
