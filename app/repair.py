"""`ingest --repair`: the two copy-paste defects of the documentation samples, fixed
without changing any value: U+00A0 used as whitespace outside strings becomes a space;
raw control characters inside strings are escaped (a raw line break becomes \\n)."""

from __future__ import annotations

import bisect
from collections.abc import Callable

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def repair_text(text: str) -> tuple[str, list[tuple[int, str]], Callable[[int], int]]:
    """(repaired text, [(line, what was fixed)], repaired offset → original offset)."""
    out: list[str] = []
    fixes: dict[int, set[str]] = {}
    grown_at: list[int] = []  # repaired offsets where an escape added characters
    growth: list[int] = []
    in_string = False
    escaped = False
    line = 1
    size = 0
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            elif char < " ":
                replacement = _ESCAPES.get(char, f"\\u{ord(char):04x}")
                fixes.setdefault(line, set()).add("escaped a raw control character inside a string")
                out.append(replacement)
                size += len(replacement)
                grown_at.append(size)
                growth.append((growth[-1] if growth else 0) + len(replacement) - 1)
                if char == "\n":
                    line += 1
                continue
        elif char == '"':
            in_string = True
        elif char == "\u00a0":
            fixes.setdefault(line, set()).add("replaced U+00A0 (no-break space) with a space")
            char = " "
        if char == "\n":
            line += 1
        out.append(char)
        size += 1

    def to_original(offset: int) -> int:
        index = bisect.bisect_right(grown_at, offset) - 1
        return offset - (growth[index] if index >= 0 else 0)

    listed = [(number, "; ".join(sorted(what))) for number, what in sorted(fixes.items())]
    return "".join(out), listed, to_original
