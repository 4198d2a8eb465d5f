"""Reading what `coursegraph ingest` is given: JSON documents, JSON arrays (streamed),
JSON Lines, gzip, folders, stdin — as (where, value) documents or (where, problem)
failures. Pure reading: no store."""

from __future__ import annotations

import codecs
import gzip
import json
import re
import sys
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from app.caliper.canonical import JsonProblem, loads, raw_decode
from app.repair import repair_text

READ_CHUNK = 1 << 20
# Files up to this size are parsed whole, so a defect anywhere skips the whole file.
# Bigger ones (and a big JSON array is the usual case) are read element by element;
# so are compressed files and standard input beyond their first READ_CHUNK bytes.
WHOLE_FILE_LIMIT = 32 << 20
# A streamed element that is not complete after this many characters is reported.
LARGEST_ELEMENT = 64 << 20
LINES_SUFFIXES = (".jsonl", ".ndjson", ".jsonlines")
INGESTIBLE_SUFFIXES = (".json", *LINES_SUFFIXES)
_BOM = b"\xef\xbb\xbf"
_SPACE = re.compile(r"[ \t\r\n]*")
_PROBLEM_TEXT = 1_000_000  # how much of an unreadable rest is kept beside the problem


@dataclass(frozen=True, slots=True)
class Document:
    """One envelope, event or array element, where it starts, and its JSON path."""

    where: str  # "file:line"
    value: Any
    path: str = "$"  # "$", or "$[3]" for an element of a top-level array


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
    lines_by_name = name.lower().removesuffix(".gz").endswith(LINES_SUFFIXES)
    # The first line, whole when it may be a JSON Lines record (a big JSON array on one
    # line is not read whole here).
    first = stream.readline(READ_CHUNK).removeprefix(_BOM)
    if not first.endswith(b"\n") and (lines_by_name or first.lstrip().startswith(b"{")):
        first += stream.readline(-1 if lines_by_name else WHOLE_FILE_LIMIT)
    if lines_by_name or _is_complete_json(first):
        yield from _read_lines(label, first, stream, repair=repair)
    else:
        size = None if isinstance(stream, gzip.GzipFile) else file_size(name)
        yield from _read_json(label, first, stream, size, repair=repair)


def _is_complete_json(line: bytes) -> bool:
    stripped = line.strip()
    if not stripped.startswith(b"{"):
        return False
    try:
        orjson.loads(stripped)
    except orjson.JSONDecodeError:
        return False
    return True


# --- JSON Lines ----------------------------------------------------------------------


def _read_lines(label: str, first: bytes, rest: Iterable[bytes], *, repair: bool) -> Iterator[Item]:
    """Each line on its own: a bad line (even one that is not UTF-8) is reported and
    skipped, and the lines after it are read."""
    number = 0
    for line in _chain(first, rest):
        number += 1
        if not line.strip():
            continue
        try:
            yield Document(f"{label}:{number}", loads(line))
            continue
        except JsonProblem:
            pass
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as error:
            yield _not_utf8(label, number, line, error)
            continue
        yield from _parse_text(label, number, 1, text.rstrip("\r\n"), repair=repair, single=True)


def _chain(first: bytes, rest: Iterable[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest


# --- JSON ------------------------------------------------------------------------------


def _read_json(
    label: str, first: bytes, rest: IO[bytes], size: int | None, *, repair: bool
) -> Iterator[Item]:
    if size is None:  # standard input, gzip: whole when the first chunk holds all of it
        first += rest.read(max(READ_CHUNK - len(first), 0) + 1)
        small = len(first) <= READ_CHUNK
    else:
        small = size <= WHOLE_FILE_LIMIT
    if small:
        data = first + rest.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            yield _not_utf8(label, 1, data, error)
            return
        yield from _parse_text(label, 1, 1, text, repair=repair, single=False)
        return
    yield from _stream_array(label, first, _TextWindow(rest), repair=repair)


def _not_utf8(label: str, first_line: int, data: bytes, error: UnicodeDecodeError) -> Problem:
    before = data[: error.start].decode("utf-8")
    line = first_line + before.count("\n")
    column = len(before) - before.rfind("\n")
    rest = data[error.start : error.start + _PROBLEM_TEXT]
    return Problem(
        f"{label}:{line}:{column}",
        f"not UTF-8 text ({error.reason})",
        rest.decode("utf-8", "replace"),
    )


def _parse_text(
    label: str, line: int, column: int, text: str, *, repair: bool, single: bool
) -> Iterator[Item]:
    """A whole document (or JSON Lines line) that starts at line:column: parse it
    strictly; with --repair, fix the two copy-paste defects and say where. A top-level
    array yields its elements, each with its own line."""
    if not single:
        walked = _walk_array(text)
        if walked is not None:
            yield from _elements(label, line, text, walked, None)
            return
    to_original: Callable[[int], int] | None = None
    parsed = text
    try:
        value = loads(text)
        error = None
    except JsonProblem as problem:
        error = problem
    if error is not None and repair:
        fixed, fixes, mapping = repair_text(text)
        if fixes:
            try:
                value = loads(fixed)
            except JsonProblem as problem:
                error, to_original = problem, mapping
            else:
                error, parsed, to_original = None, fixed, mapping
                for fix_line, what in fixes:
                    yield Repaired(f"{label}:{line + fix_line - 1}", what)
    if error is not None:
        where = f"{label}:{line}"
        if error.pos is not None:
            at = to_original(error.pos) if to_original else error.pos
            err_line, err_col = _line_col(text, at)
            if err_line == 1:
                err_col += column - 1
            where = f"{label}:{line + err_line - 1}:{err_col}"
        yield Problem(where, f"not valid JSON: {error.reason}", text)
        return
    walked = _walk_array(parsed) if isinstance(value, list) and not single else None
    if walked is not None:  # a repaired array
        yield from _elements(label, line, text, walked, to_original)
    else:
        yield Document(f"{label}:{line}", value)


def _walk_array(text: str) -> list[tuple[int, Any]] | None:
    """(offset, value) of each element when `text` is exactly one valid JSON array, else
    None (loads then says what is wrong). One pass that also finds each element's line."""
    pos = _SPACE.match(text).end()
    if not text.startswith("[", pos):
        return None
    elements: list[tuple[int, Any]] = []
    pos = _SPACE.match(text, pos + 1).end()
    if not text.startswith("]", pos):
        while True:
            try:
                value, end = raw_decode(text, pos)
            except (json.JSONDecodeError, JsonProblem):
                return None
            elements.append((pos, value))
            pos = _SPACE.match(text, end).end()
            if not text.startswith(",", pos):
                break
            pos = _SPACE.match(text, pos + 1).end()
        if not text.startswith("]", pos):
            return None
    if _SPACE.match(text, pos + 1).end() != len(text):
        return None
    return elements


def _elements(
    label: str,
    line: int,
    text: str,
    walked: list[tuple[int, Any]],
    to_original: Callable[[int], int] | None,
) -> Iterator[Document]:
    lines = _LineCounter(text, line)
    for index, (offset, value) in enumerate(walked):
        at = to_original(offset) if to_original else offset
        yield Document(f"{label}:{lines.line_of(at)}", value, f"$[{index}]")


class _LineCounter:
    """Line numbers of increasing offsets into one text, counted incrementally."""

    def __init__(self, text: str, first_line: int) -> None:
        self.text = text
        self.offset = 0
        self.line = first_line

    def line_of(self, offset: int) -> int:
        if offset > self.offset:
            self.line += self.text.count("\n", self.offset, offset)
            self.offset = offset
        return self.line


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


# --- a big JSON array, element by element ------------------------------------------------


class _TextWindow:
    """The part of a big file being read, decoded: `text[pos:]` is still to read.
    Read text is dropped on refill, so memory holds about one chunk and one element."""

    def __init__(self, rest: IO[bytes]) -> None:
        self.rest = rest
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.text = ""
        self.pos = 0
        self.eof = False
        self.line = 1  # line of text[pos]
        self.line_start = 0  # index in text of that line's first character (may be < 0)

    def feed(self, data: bytes, *, final: bool = False) -> bool:
        """Decode and add; False when that added nothing. Raises _NotUtf8 after adding
        the text before the first byte that is not UTF-8 (so where() can name it)."""
        try:
            more = self.decoder.decode(data, final=final)
        except UnicodeDecodeError as error:
            self.eof = True
            self._add(error.object[: error.start].decode("utf-8"))
            raise _NotUtf8(error.reason) from None
        self._add(more)
        return bool(more)

    def _add(self, more: str) -> None:
        if more:  # positions in text stay valid when nothing is added
            self.text = self.text[self.pos :] + more
            self.line_start -= self.pos
            self.pos = 0

    def fill(self, at_least: int | None = None) -> bool:
        """Read more (READ_CHUNK bytes, or `at_least`); False at the end of the file."""
        if self.eof:
            return False
        chunk = self.rest.read(at_least or READ_CHUNK)
        if chunk:
            self.feed(chunk)
            return True
        self.eof = True
        return self.feed(b"", final=True)  # what a cut-off character left

    def advance(self, to: int) -> None:
        newlines = self.text.count("\n", self.pos, to)
        if newlines:
            self.line += newlines
            self.line_start = self.text.rfind("\n", self.pos, to) + 1
        self.pos = to

    def skip_space(self) -> None:
        while True:
            self.advance(_SPACE.match(self.text, self.pos).end())
            if self.pos < len(self.text) or not self.fill():
                return

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def line_col(self, index: int) -> tuple[int, int]:
        newlines = self.text.count("\n", self.pos, index)
        if not newlines:
            return self.line, index - self.line_start + 1
        return self.line + newlines, index - self.text.rfind("\n", self.pos, index)

    def where(self, label: str, index: int | None = None) -> str:
        line, column = self.line_col(self.pos if index is None else index)
        return f"{label}:{line}:{column}"

    def rest_text(self) -> str:
        return self.text[self.pos : self.pos + _PROBLEM_TEXT]

    def read_all(self) -> str:
        while self.fill(max(READ_CHUNK, len(self.text))):
            pass
        return self.text[self.pos :]


class _NotUtf8(ValueError):
    pass


def _stream_array(label: str, first: bytes, window: _TextWindow, *, repair: bool) -> Iterator[Item]:
    """A big JSON array, element by element, never whole in memory. Elements before a
    defect are kept (they were read); the defect and the rest of the file are reported."""
    try:
        window.feed(first)
        window.skip_space()
        if window.peek() != "[":
            # One big document: parse it whole (an envelope is bounded by what Learn sends).
            line, column = window.line, window.pos - window.line_start + 1
            text = window.read_all()
            yield from _parse_text(label, line, column, text, repair=repair, single=False)
            return
        window.advance(window.pos + 1)
        window.skip_space()
        if window.peek() != "]" and not (yield from _stream_elements(label, window)):
            return  # a problem was reported
        window.advance(window.pos + 1)  # past "]"
        window.skip_space()
        if window.pos < len(window.text):
            yield Problem(window.where(label), "not valid JSON: Extra data", window.rest_text())
    except _NotUtf8 as error:
        yield Problem(
            window.where(label, len(window.text)),
            f"not UTF-8 text ({error}); the rest of the file was skipped",
            None,
        )


def _stream_elements(label: str, window: _TextWindow) -> Generator[Item, None, bool]:
    """Elements up to the closing `]` (left unread; True), or up to a reported problem
    (False)."""
    skipped = "; the rest of the file was skipped"
    index = 0
    while True:
        window.skip_space()
        start_line = window.line
        try:
            value, end = _decode_element(window)
        except json.JSONDecodeError as error:
            reason = f"not valid JSON: {error.msg}{skipped}"
            yield Problem(window.where(label, error.pos), reason, window.rest_text())
            return False
        except JsonProblem as problem:
            reason = f"not valid JSON: {problem.reason}{skipped}"
            yield Problem(f"{label}:{start_line}", reason, window.rest_text())
            return False
        yield Document(f"{label}:{start_line}", value, f"$[{index}]")
        index += 1
        window.advance(end)
        window.skip_space()
        following = window.peek()
        if following == "]":
            return True
        if following != ",":
            reason = f"not valid JSON: Expecting ',' delimiter{skipped}"
            yield Problem(window.where(label), reason, window.rest_text())
            return False
        window.advance(window.pos + 1)


def _decode_element(window: _TextWindow) -> tuple[Any, int]:
    """The element at window.pos, reading more while it may run past what was read."""
    while True:
        try:
            value, end = raw_decode(window.text, window.pos)
        except json.JSONDecodeError as error:
            if _may_be_cut(error, window) and window.fill(max(READ_CHUNK, len(window.text))):
                continue
            raise
        if end == len(window.text) and window.fill():
            continue  # a number at the end of what was read may go on
        return value, end


def _may_be_cut(error: json.JSONDecodeError, window: _TextWindow) -> bool:
    """Whether the error may only mean that the text stops mid-element. The decoder
    fails at the end of the text then, or at the start of an unterminated string."""
    if window.eof or len(window.text) - window.pos > LARGEST_ELEMENT:
        return False
    return error.msg.startswith("Unterminated string") or error.pos >= len(window.text) - 16
