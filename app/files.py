"""Reading what `coursegraph ingest` is given: JSON documents, JSON arrays (streamed),
JSON Lines, gzip, folders, stdin — as (where, value) documents or (where, problem)
failures. Pure reading: no store."""

from __future__ import annotations

import gzip
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from app.repair import repair_text

READ_CHUNK = 1 << 20
# Files up to this size are parsed whole, so a defect anywhere skips the whole file.
WHOLE_FILE_LIMIT = 32 << 20
LINES_SUFFIXES = (".jsonl", ".ndjson", ".jsonlines")
INGESTIBLE_SUFFIXES = (".json", *LINES_SUFFIXES)
_DECODER = json.JSONDecoder()


@dataclass(frozen=True, slots=True)
class Document:
    """One envelope, event or array element, and where it started."""

    where: str  # "file:line"
    value: Any


@dataclass(frozen=True, slots=True)
class Problem:
    where: str  # "file:line[:column]"
    reason: str
    raw: Any  # what could not be read, as text


@dataclass(frozen=True, slots=True)
class Repaired:
    where: str
    what: str


Item = Document | Problem | Repaired


def expand_paths(paths: list[str]) -> tuple[list[str], list[str]]:
    """(files to read, usage errors). A folder means every ingestible file in it."""
    files: list[str] = []
    missing: list[str] = []
    for given in paths:
        if given == "-":
            files.append(given)
            continue
        path = Path(given)
        if path.is_dir():
            found = sorted(str(p) for p in path.rglob("*") if p.is_file() and _ingestible(p.name))
            files.extend(found)
        elif path.is_file():
            files.append(given)
        else:
            missing.append(f"{given}: no such file or folder")
    return files, missing


def _ingestible(name: str) -> bool:
    lower = name.lower().removesuffix(".gz")
    return lower.endswith(INGESTIBLE_SUFFIXES)


def file_size(name: str) -> int | None:
    if name == "-":
        return None
    try:
        return Path(name).stat().st_size
    except OSError:
        return None


def open_binary(name: str) -> tuple[IO[bytes], IO[bytes]]:
    """(the file as stored, its decompressed bytes); gzip is found by its magic bytes."""
    raw: IO[bytes] = sys.stdin.buffer if name == "-" else open(name, "rb")  # noqa: SIM115
    head = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
    if name.lower().endswith(".gz") or head == b"\x1f\x8b":
        return raw, gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    return raw, raw


def read_items(name: str, stream: IO[bytes], *, repair: bool) -> Iterator[Item]:
    """Every document of one file, in order, with problems and repairs in place."""
    label = "<stdin>" if name == "-" else name
    text_stream = io.TextIOWrapper(stream, encoding="utf-8", errors="strict", newline="")
    try:
        first_line = text_stream.readline()
    except UnicodeDecodeError as error:
        yield Problem(f"{label}:1", f"not UTF-8 text ({error.reason})", None)
        return
    lines_format = name.lower().removesuffix(".gz").endswith(LINES_SUFFIXES) or _is_complete_json(
        first_line
    )
    try:
        if lines_format:
            yield from _read_lines(label, first_line, text_stream, repair=repair)
        else:
            yield from _read_json(label, first_line, text_stream, name, repair=repair)
    except UnicodeDecodeError as error:
        yield Problem(f"{label}", f"not UTF-8 text ({error.reason})", None)


def _is_complete_json(line: str) -> bool:
    stripped = line.strip()
    if not stripped.startswith("{"):
        return False
    try:
        orjson.loads(stripped)
    except orjson.JSONDecodeError:
        return False
    return True


def _read_lines(label: str, first: str, rest: IO[str], *, repair: bool) -> Iterator[Item]:
    number = 0
    for line in _chain(first, rest):
        number += 1
        if not line.strip():
            continue
        where = f"{label}:{number}"
        try:
            yield Document(where, orjson.loads(line))
            continue
        except orjson.JSONDecodeError:
            pass
        yield from _parse_text(label, number, 1, line.rstrip("\r\n"), repair=repair, single=True)


def _chain(first: str, rest: IO[str]) -> Iterator[str]:
    if first:
        yield first
    yield from rest


def _read_json(label: str, first: str, rest: IO[str], name: str, *, repair: bool) -> Iterator[Item]:
    size = file_size(name)
    if size is not None and size <= WHOLE_FILE_LIMIT and not name.lower().endswith(".gz"):
        text = first + rest.read()
        yield from _parse_text(label, 1, 1, text, repair=repair, single=False)
        return
    yield from _stream_array(label, first, rest, repair=repair)


def _parse_text(
    label: str, line: int, column: int, text: str, *, repair: bool, single: bool
) -> Iterator[Item]:
    """A whole document (or JSONL line): parse strictly; with --repair, fix the two
    copy-paste defects and say where. A top-level array yields its elements."""
    value, error = _loads(text)
    if error is not None and repair:
        fixed, fixes, to_original = repair_text(text)
        if fixes:
            value, error = _loads(fixed)
            if error is not None:
                error = (to_original(error[0]), error[1])
            else:
                for fix_line, what in fixes:
                    yield Repaired(f"{label}:{line + fix_line - 1}", what)
    if error is not None:
        at, reason = error
        err_line, err_col = _line_col(text, at)
        where = f"{label}:{line + err_line - 1}:{err_col if err_line > 1 else column + err_col - 1}"
        yield Problem(where, f"not valid JSON: {reason}", text)
        return
    if isinstance(value, list) and not single:
        for index, element in enumerate(value):
            yield Document(f"{label}:{line} $[{index}]", element)
    else:
        yield Document(f"{label}:{line}", value)


def _loads(text: str) -> tuple[Any, tuple[int, str] | None]:
    try:
        return orjson.loads(text), None
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(text), None
    except json.JSONDecodeError as error:
        return None, (error.pos, error.msg)
    except RecursionError:
        return None, (0, "nested too deeply")


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _stream_array(label: str, first: str, rest: IO[str], *, repair: bool) -> Iterator[Item]:
    """A big JSON array (or document), element by element, never whole in memory."""
    buffer = first
    eof = False
    line = 1  # line of buffer[0]
    column = 1  # column of buffer[0]

    def consume(upto: int) -> None:
        nonlocal buffer, line, column
        newlines = buffer.count("\n", 0, upto)
        if newlines:
            line += newlines
            column = upto - buffer.rfind("\n", 0, upto)
        else:
            column += upto
        buffer = buffer[upto:]

    def fill() -> bool:
        nonlocal buffer, eof
        chunk = rest.read(READ_CHUNK)
        if not chunk:
            eof = True
            return False
        buffer += chunk
        return True

    def skip_space() -> None:
        while True:
            stripped = len(buffer) - len(buffer.lstrip(" \t\r\n"))
            consume(stripped)
            if buffer or eof or not fill():
                return

    skip_space()
    if not buffer.startswith("["):
        # One big document: parse it whole (an envelope is bounded by what Learn sends).
        while fill():
            pass
        yield from _parse_text(label, line, column, buffer, repair=repair, single=False)
        return
    consume(1)
    index = 0
    while True:
        skip_space()
        if buffer.startswith("]"):
            consume(1)
            skip_space()
            if buffer:
                yield Problem(
                    f"{label}:{line}:{column}", "not valid JSON: Extra data", buffer[:1000]
                )
            return
        if not buffer and eof:
            yield Problem(
                f"{label}:{line}:{column}", "not valid JSON: the array is never closed", ""
            )
            return
        try:
            value, end = _DECODER.raw_decode(buffer)
        except json.JSONDecodeError as error:
            if not eof and fill():
                continue  # the element runs past what was read: read more and retry
            where = f"{label}:{line + error.lineno - 1}:{error.colno if error.lineno > 1 else column + error.colno - 1}"
            yield Problem(
                where,
                f"not valid JSON: {error.msg}; the rest of the file was skipped",
                buffer[:1_000_000],
            )
            return
        yield Document(f"{label}:{line} $[{index}]", value)
        index += 1
        consume(end)
        skip_space()
        if buffer.startswith(","):
            consume(1)
        elif not buffer.startswith("]"):
            if not buffer and not eof:
                continue
            yield Problem(
                f"{label}:{line}:{column}",
                "not valid JSON: Expecting ',' delimiter; the rest of the file was skipped",
                buffer[:1000],
            )
            return
