"""Values no stored event may hold: what a column, an index, a fold or an answer could
not take. The reader asks before it hands an item on; a problem makes that item a
rejected item with the reason (and where inside the item), never the whole request.

- Nesting: at most MAX_NESTING levels of objects and arrays in one item. Learn's events
  nest 6-8 levels; the folds and the answers walk values recursively, and a value
  nested hundreds deep (a `bb:group.users` of lists in lists) would exhaust them.
- Text: no NUL (PostgreSQL text cannot hold U+0000) and no lone UTF-16 surrogate
  (not Unicode: no UTF-8 form, and orjson refuses it), in any string or key.
- Ids the store indexes (event, actor, object, course and entity ids, type, action):
  at most MAX_ID_BYTES of UTF-8. A PostgreSQL btree entry must fit in ~2,700 bytes,
  and an incompressible id longer than that fails the whole insert.
- Numbers and instants the folds read (by key, wherever they appear): through the
  folds' own readers (app.caliper.values), so scores lie within ±1e15, counts and
  versions within GraphQL Int, instants within years 1-9999 in UTC. A number no
  Python value holds (OutOfRangeNumber) is refused wherever it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from app.caliper.canonical import OutOfRangeNumber
from app.caliper.values import UnusableValue, as_float, as_int, as_time_ms

MAX_NESTING = 64
MAX_ID_BYTES = 2048

# Keys whose values a fold reads, and how it reads them. `oldValue`/`newValue` under
# one of them (UpdatedContentProperties) are read as that key.
FIELD_READERS: dict[str, Callable[[Any], Any]] = {
    **dict.fromkeys(
        (
            "scoreGiven",
            "maxScore",
            "normalScore",
            "penaltyScore",
            "extraCreditScore",
            "totalScore",
            "curvedTotalScore",
            "score",
            "scorePossible",
        ),
        as_float,
    ),
    **dict.fromkeys(("count", "maxAttempts", "dataVersion", "synVersion", "syncVersion"), as_int),
    **dict.fromkeys(
        (
            "eventTime",
            "startedAtTime",
            "endedAtTime",
            "dateCreated",
            "dateModified",
            "datePublished",
            "dateToActivate",
            "dateToShow",
            "dateToStartOn",
            "dateToSubmit",
            "dueDate",
        ),
        as_time_ms,
    ),
}
_CHANGE_KEYS = ("oldValue", "newValue")
# A member list may come as a string holding JSON (app.caliper.reader.parse_member_list).
_JSON_TEXT_KEYS = ("bb:group.users",)
_SHOWN_KEY = 60  # characters of a key shown in a path


def text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "holds a NUL character (\\u0000), which PostgreSQL text cannot store"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "holds a lone UTF-16 surrogate (\\uD800-\\uDFFF), which is not Unicode text"
    return None


def id_problem(name: str, value: Any) -> str | None:
    """An indexed text: at most MAX_ID_BYTES bytes (its text was checked by value_problem)."""
    if not isinstance(value, str):
        return None
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > MAX_ID_BYTES:
        return (
            f"{name} is {size:,} bytes long; ids are indexed and must stay within "
            f"{MAX_ID_BYTES:,} bytes (a PostgreSQL index entry holds about 2,700)"
        )
    return None


def ids_problem(named: Iterable[tuple[str, Any]]) -> str | None:
    for name, value in named:
        found = id_problem(name, value)
        if found:
            return found
    return None


def value_problem(value: Any, where: str = "") -> str | None:
    """The first value in `value` (an item, or a part of one at `where`) that no stored
    event may hold, as a reason naming its path; None when there is none."""
    pending: list[tuple[Any, str, int, str | None]] = [(value, where, 1, None)]
    while pending:
        node, path, depth, field = pending.pop()
        if isinstance(node, (dict, list)):
            if depth > MAX_NESTING:
                return f"`{path or '$'}` is nested more than {MAX_NESTING} levels deep"
            if isinstance(node, list):
                pending.extend(
                    (child, f"{path}[{index}]", depth + 1, None) for index, child in enumerate(node)
                )
                continue
            for key, child in node.items():
                problem = text_problem(key)
                if problem:
                    return f"a key of `{path or '$'}` {problem}"
                shown = key if len(key) <= _SHOWN_KEY else key[:_SHOWN_KEY] + "…"
                child_field = field if key in _CHANGE_KEYS else key
                pending.append(
                    (child, f"{path}.{shown}" if path else shown, depth + 1, child_field)
                )
            continue
        if isinstance(node, OutOfRangeNumber):
            return (
                f"`{path}` is a number of {len(node.text):,} characters, beyond any range "
                "a stored event may hold"
            )
        if isinstance(node, str):
            problem = text_problem(node)
            if problem:
                return f"`{path}` {problem}"
            if field in _JSON_TEXT_KEYS:
                problem = _json_text_problem(node, path)
                if problem:
                    return problem
        read = FIELD_READERS.get(field) if field is not None else None
        if read is not None:
            try:
                read(node)
            except UnusableValue as error:
                return f"`{path}`: {error}"
    return None


def _json_text_problem(text: str, path: str) -> str | None:
    """A string the fold parses as JSON: what it holds is checked like the item."""
    try:
        inner = json.loads(text)
    except RecursionError:
        return f"`{path}` holds JSON nested more than {MAX_NESTING} levels deep"
    except ValueError:
        return None  # not JSON: the fold reads nothing from it
    return value_problem(inner, f"{path} (the JSON it holds)")
