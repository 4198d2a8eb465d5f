"""Summarise a py-spy raw (collapsed-stack) profile: where the samples went.

    python bench/pyspy_summary.py bench/out/ingest.pyspy.txt [--top 25]

Prints the functions of app/ and store/ by inclusive share (time spent in them and
what they call) and every function by self share (time on top of the stack)."""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
OWN = ("app/", "store/", "seed/", "bench/")


REPO = str(Path(__file__).resolve().parent.parent) + "/"


def _short(path: str) -> str:
    for marker in ("site-packages/", REPO, "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return path


def _frame_name(frame: str) -> tuple[str, str]:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip(), ""
    return match["func"], _short(match["file"])


def _waiting_lines() -> set[tuple[str, str]]:
    """(function, line) leaves that are a thread waiting, not working: py-spy's idle
    detection misses them when the process is busy. aiosqlite's worker thread waits on
    its queue (`tx.get()`); the event loop waits in select."""
    waits = {("EpollSelector.select", "*"), ("select", "*")}
    try:
        import aiosqlite.core

        source = Path(aiosqlite.core.__file__).read_text().splitlines()
        for number, text in enumerate(source, 1):
            if "tx.get()" in text:
                waits.add(("_connection_worker_thread", str(number)))
    except (ImportError, OSError):
        pass
    return waits


def _is_waiting(leaf: str, waits: set[tuple[str, str]]) -> bool:
    match = _FRAME.match(leaf.strip())
    if not match:
        return False
    return (match["func"], "*") in waits or (match["func"], match["line"] or "") in waits


def summarise(path: Path, top: int = 25) -> str:
    inclusive: Counter[tuple[str, str]] = Counter()
    own: Counter[tuple[str, str]] = Counter()
    total = waiting = 0
    waits = _waiting_lines()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        if _is_waiting(stack.rsplit(";", 1)[-1], waits):
            waiting += count
            continue
        frames = [_frame_name(f) for f in stack.split(";")]
        frames = [f for f in frames if f[1]]  # drop the process/thread labels
        if not frames:
            continue
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    lines = [
        f"{total} samples of work ({waiting} more were threads waiting: left out). "
        "`_connection_worker_thread (aiosqlite/core.py)` is SQLite itself at work."
    ]
    lines.append(f"\nInclusive, functions in {', '.join(OWN)} (share of all samples):")
    shown = 0
    for (func, file), count in inclusive.most_common():
        if not file.startswith(OWN):
            continue
        lines.append(f"  {100 * count / total:5.1f}%  {func}  ({file})")
        shown += 1
        if shown >= top:
            break
    lines.append("\nSelf (top of stack), any function:")
    for (func, file), count in own.most_common(top):
        lines.append(f"  {100 * count / total:5.1f}%  {func}  ({file})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print(summarise(args.profile, args.top))


if __name__ == "__main__":
    main()
