"""Content identity: two events are equal when their parsed JSON values are equal
(key order and whitespace aside; numbers by value). Also the one parse every way in
(HTTP bodies, files) goes through, so that the stored event is the value as sent."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import orjson

# Integral floats (20.0) and exponent floats (1e16) are the only numbers whose text
# differs from an equal int's; only events that hold one pay for the slow walk.
_NEEDS_NUMBER_WALK = re.compile(rb"[:,\[]-?\d+(?:\.0|(?:\.\d+)?e[+-]?\d+)[,\]}]")
# The regular expression looks at every byte (slow on 3 KB events), so a cheap look
# comes first: a positive exponent, which orjson and json both write with its sign
# (1e+16), needs a `+` in the text; `20.0` needs `.0` before `,` `]` or `}`, found in
# the text translated into byte classes. Text with neither is hashed as it is.
_FLOAT_MARKS = bytes(
    {ord("0"): 0x30, ord("."): 0x2E, ord(","): 0x2C, ord("]"): 0x2C, ord("}"): 0x2C}.get(code, 0x20)
    for code in range(256)
)


# orjson reads an integer beyond 64 bits as a float (a changed value): a text with a run
# of 19 digits goes to the standard parser, which keeps it. translate + `in` is ~10x
# faster than a regular expression, and this runs on every line that is ingested.
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= code <= 0x39 else 0x20 for code in range(256))
_LONG_DIGIT_RUN = b"0" * 19
# orjson writes nothing nested deeper, and the stored form is written by orjson.
MAX_DEPTH = 254


class JsonProblem(ValueError):
    """Text that is not JSON, or JSON holding a value no stored form keeps exactly.
    `pos` is a character offset into the text (None when unknown); lineno and colno
    count as Python's json module does."""

    def __init__(self, reason: str, text: str | None = None, pos: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.pos = pos
        self.lineno: int | None = None
        self.colno: int | None = None
        if text is not None and pos is not None:
            self.lineno = text.count("\n", 0, pos) + 1
            self.colno = pos - text.rfind("\n", 0, pos)


class OutOfRangeNumber:
    """A JSON number no Python value holds: an integer beyond the 4,300 digits int()
    reads, or a decimal beyond the range of a double. Kept as its text, so that the item
    holding it is rejected (the reader refuses it) and stored verbatim, instead of the
    whole request failing."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"<number of {len(self.text)} characters>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OutOfRangeNumber) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def _refuse_constant(name: str) -> Any:
    raise JsonProblem(f"{name} is not a JSON value")


def _finite_float(text: str) -> float | OutOfRangeNumber:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        return OutOfRangeNumber(text)
    return value


def _exact_int(text: str) -> int | OutOfRangeNumber:
    try:
        return int(text)
    except ValueError:  # beyond sys.get_int_max_str_digits()
        return OutOfRangeNumber(text)


_EXACT = json.JSONDecoder(
    parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_exact_int
)


def loads_stored(text: str) -> Any:
    """A stored event back to its value. What we stored was checked on the way in, so
    only exactness matters here: integers beyond 64 bits go to the standard parser, and
    so do rejected items, which may hold lone surrogates (escaped) or OutOfRangeNumbers."""
    raw = text.encode()
    if _LONG_DIGIT_RUN not in raw.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return _EXACT.decode(text)


def loads(data: bytes | str) -> Any:
    """JSON text → the value it holds, exactly: orjson when that keeps every value, else
    the standard parser (integers beyond 64 bits; Python's messages and positions).
    Raises JsonProblem for what is not JSON (NaN and Infinity included). Values no
    stored event may hold (lone UTF-16 surrogates, OutOfRangeNumber) are returned: the
    reader rejects the items holding them, and the other items are stored."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if _LONG_DIGIT_RUN not in raw.translate(_DIGITS_AS_ZERO):
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
        else:
            _refuse_too_deep(value, raw.count(b"[") + raw.count(b"{"))
            return value
    if isinstance(data, str):
        text = data
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            valid = data[: error.start].decode("utf-8")
            raise JsonProblem("not UTF-8 text", valid, len(valid)) from None
    try:
        value = _EXACT.decode(text)
    except json.JSONDecodeError as error:
        raise JsonProblem(error.msg, text, error.pos) from None
    except RecursionError:
        raise JsonProblem(f"nested more than {MAX_DEPTH} levels deep") from None
    _refuse_too_deep(value, text.count("[") + text.count("{"))
    return value


def raw_decode(text: str, pos: int) -> tuple[Any, int]:
    """One JSON value starting at text[pos] → (value, end), as loads keeps it.
    Raises json.JSONDecodeError (with positions in `text`) or JsonProblem."""
    try:
        value, end = _EXACT.raw_decode(text, pos)
    except RecursionError:
        raise JsonProblem(f"nested more than {MAX_DEPTH} levels deep", text, pos) from None
    _refuse_too_deep(value, text.count("[", pos, end) + text.count("{", pos, end))
    return value, end


def _refuse_too_deep(value: Any, brackets: int) -> None:
    """No stored form keeps a value nested deeper than MAX_DEPTH. `brackets` (how many
    `[` and `{` the text holds) spares the check to nearly every event."""
    if brackets <= MAX_DEPTH:
        return
    try:
        orjson.dumps(value)
        return
    except orjson.JSONEncodeError:
        pass  # too deep, or an integer beyond 64 bits
    deepest = 0
    pending = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict):
            node = node.values()
        elif not isinstance(node, list):
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            raise JsonProblem(f"nested more than {MAX_DEPTH} levels deep")
        pending.extend((child, depth + 1) for child in node)


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
        pass
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    except (TypeError, ValueError):  # a rejected item's OutOfRangeNumber or lone surrogate
        return _escaped_text(value, sort_keys=True).encode()


def _escaped_text(value: Any, *, sort_keys: bool = False) -> str:
    """JSON text of anything loads returns, ASCII only: lone surrogates are written as
    their \\u escapes and an OutOfRangeNumber as its own text, both as they were sent."""
    if isinstance(value, dict):
        pairs = sorted(value.items()) if sort_keys else value.items()
        inner = ",".join(
            f"{json.dumps(key)}:{_escaped_text(item, sort_keys=sort_keys)}" for key, item in pairs
        )
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + ",".join(_escaped_text(item, sort_keys=sort_keys) for item in value) + "]"
    if isinstance(value, OutOfRangeNumber):
        return value.text
    return json.dumps(value)


def _may_hold_integral_float(text: bytes) -> bool:
    return b"+" in text or b".0," in text.translate(_FLOAT_MARKS)


def content_hash(value: Any) -> str:
    text = _sorted_text(value)
    if _may_hold_integral_float(text) and _NEEDS_NUMBER_WALK.search(text):
        text = _sorted_text(_numbers_by_value(value))
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def dumps(value: Any) -> bytes:
    """The stored form: the same JSON value, keys in the order they came."""
    try:
        return orjson.dumps(value)
    except TypeError:  # integers beyond 64 bits: orjson refuses, json keeps them
        pass
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    except (TypeError, ValueError):  # a rejected item's OutOfRangeNumber or lone surrogate
        return _escaped_text(value).encode()
