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
_CHANGE_KEYS = frozenset(("oldValue", "newValue"))
# A member list may come as a string holding JSON (app.caliper.reader.parse_member_list).
_JSON_TEXT_KEYS = ("bb:group.users",)
_READ_FIELDS = frozenset((*FIELD_READERS, *_JSON_TEXT_KEYS))
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
    # A code point is at most 4 bytes of UTF-8: most ids need no encoding to be measured.
    if not isinstance(value, str) or len(value) <= MAX_ID_BYTES // 4:
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


def value_problem(value: Any, where: str = "", *, text_clean: bool = False) -> str | None:
    """The first value in `value` (an item, or a part of one at `where`) that no stored
    event may hold, as a reason naming its path; None when there is none.
    `text_clean`: the caller knows that no string or key in it holds a NUL or a lone
    surrogate (its stored text has neither escape), which spares looking at each."""
    found = _first_problem(value, text_clean)
    if found is None:
        return None
    trail, template, detail = found
    return template.format(path=_path(where, trail)) + detail


# A problem: where (a linked trail of keys and indexes), a template for its path, detail.
Trail = tuple[Any, ...]
Problem = tuple[Trail, str, str]


def _first_problem(value: Any, text_clean: bool) -> Problem | None:
    """Runs on every item, so the loop is written for speed: a scalar is looked at only
    when it may be a problem, and a path is built only for the problem found."""
    if not isinstance(value, (dict, list)):
        return _scalar_problem(value, None, (), text_clean)
    pending: list[tuple[Any, int, str | None, Trail]] = [(value, 1, None, ())]
    read_fields = _READ_FIELDS
    change_keys = _CHANGE_KEYS
    while pending:
        node, depth, field, trail = pending.pop()
        if depth > MAX_NESTING:
            return trail, "`{path}`", f" is nested more than {MAX_NESTING} levels deep"
        if isinstance(node, dict):
            for key, child in node.items():
                if not text_clean:
                    problem = text_problem(key)
                    if problem:
                        return trail, "a key of `{path}`", f" {problem}"
                kind = type(child)
                if kind is dict or kind is list:
                    child_field = field if key in change_keys else key
                    pending.append((child, depth + 1, child_field, (trail, key)))
                    continue
                if key in read_fields:
                    key_field: str | None = key
                elif key in change_keys:
                    key_field = field
                elif (kind is str and text_clean) or kind in _PLAIN_SCALARS:
                    continue
                else:
                    key_field = None
                found = _scalar_problem(child, key_field, (trail, key), text_clean)
                if found:
                    return found
        else:
            for index, child in enumerate(node):
                kind = type(child)
                if kind is dict or kind is list:
                    pending.append((child, depth + 1, None, (trail, index)))
                elif not ((kind is str and text_clean) or kind in _PLAIN_SCALARS):
                    found = _scalar_problem(child, None, (trail, index), text_clean)
                    if found:
                        return found
    return None


_PLAIN_SCALARS = frozenset((int, float, bool, type(None)))


def _scalar_problem(
    node: Any, field: str | None, trail: Trail, text_clean: bool = False
) -> Problem | None:
    if isinstance(node, str):
        problem = None if text_clean else text_problem(node)
        if problem:
            return trail, "`{path}`", f" {problem}"
        if field in _JSON_TEXT_KEYS:
            problem = _json_text_problem(node)
            if problem:
                return trail, "`{path}`", problem
    elif isinstance(node, OutOfRangeNumber):
        return (
            trail,
            "`{path}`",
            f" is a number of {len(node.text):,} characters, beyond any range "
            "a stored event may hold",
        )
    read = FIELD_READERS.get(field) if field is not None else None
    if read is not None:
        try:
            read(node)
        except UnusableValue as error:
            return trail, "`{path}`", f": {error}"
    return None


def _path(where: str, trail: Trail) -> str:
    steps: list[Any] = []
    while trail:
        trail, step = trail
        steps.append(step)
    path = where
    for step in reversed(steps):
        if isinstance(step, int):
            path += f"[{step}]"
        else:
            shown = step if len(step) <= _SHOWN_KEY else step[:_SHOWN_KEY] + "…"
            path = f"{path}.{shown}" if path else shown
    return path or "$"


def _json_text_problem(text: str) -> str | None:
    """A string the fold parses as JSON: what it holds is checked like the item."""
    try:
        inner = json.loads(text)
    except RecursionError:
        return f" holds JSON nested more than {MAX_NESTING} levels deep"
    except ValueError:
        return None  # not JSON: the fold reads nothing from it
    found = value_problem(inner, "$")
    return f" holds JSON whose {found}" if found else None
