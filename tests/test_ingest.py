"""`coursegraph ingest` as a user runs it (issue #2): the real console script in a
subprocess, on a temporary SQLite file (and PostgreSQL where `database_url` asks),
with every shape the contract names; and app.files.read_items in process for the
streamed big JSON array."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

import app.files
from app.files import Document, Problem, Repaired, open_binary, read_items
from store.db import create_store
from store.tables import EventRow, RejectedItemRow
from tests.store.rows import readable_rows

COURSEGRAPH = Path(sys.executable).with_name("coursegraph")
SITE = "https://learn.example.edu/v1/sites/s1"
CONTEXT = "http://purl.imsglobal.org/ctx/caliper/v1p1"
SUMMARY = re.compile(
    r"^read (?P<read>\d+), appended (?P<appended>\d+), duplicates (?P<duplicates>\d+), "
    r"conflicts (?P<conflicts>\d+), rejected (?P<rejected>\d+)\b"
)


# --- running the command ---------------------------------------------------------------


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def summary(self) -> dict[str, int]:
        lines = self.stdout.splitlines()
        assert len(lines) == 1, f"expected one summary line on stdout, got {self.stdout!r}"
        found = SUMMARY.match(lines[0])
        assert found, f"not a summary line: {lines[0]!r}"
        return {key: int(value) for key, value in found.groupdict().items()}

    @property
    def problems(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if not line.startswith("repaired ")]

    @property
    def repairs(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("repaired ")]


def run_ingest(
    database_url: str, *args: str | Path, stdin: bytes | None = None, cwd: Path | None = None
) -> Run:
    """`coursegraph ingest ARGS` with only COURSEGRAPH_DATABASE_URL set."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("COURSEGRAPH_")}
    env["COURSEGRAPH_DATABASE_URL"] = database_url
    done = subprocess.run(
        [str(COURSEGRAPH), "ingest", *map(str, args)],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )
    return Run(done.returncode, done.stdout.decode(), done.stderr.decode())


def stored_rows(database_url: str, table: Any = EventRow.__table__) -> list[dict[str, Any]]:
    """Every row of a table, in position (or row) order, read straight from the database."""

    async def read() -> list[dict[str, Any]]:
        store = create_store(database_url)
        try:
            async with store.reader.connect() as connection:
                return await readable_rows(connection, table)
        finally:
            await store.close()

    return asyncio.run(read())


def stored_events(database_url: str) -> list[dict[str, Any]]:
    return stored_rows(database_url)


def stored_ids(database_url: str) -> list[str | None]:
    return [row["event_id"] for row in stored_events(database_url)]


# --- events to ingest -------------------------------------------------------------------


def event(name: str, **fields: Any) -> dict[str, Any]:
    """A small 1.1 ContentEvent whose id is urn:uuid:<name>."""
    base: dict[str, Any] = {
        "@context": CONTEXT,
        "id": f"urn:uuid:{name}",
        "type": "http://caliper.blackboard.com/caliper/v1/ContentEvent",
        "actor": {"id": f"{SITE}/users/u1", "type": "Person"},
        "action": "Modified",
        "object": {"id": f"{SITE}/content/{name}", "type": "Content", "name": name},
        "eventTime": "2021-01-05T14:50:29.906Z",
        "membership": {"organization": f"{SITE}/courses/c1"},
    }
    base.update(fields)
    return base


def envelope(*events: Any, **fields: Any) -> dict[str, Any]:
    return {
        "sensor": "urn:test-sensor",
        "sendTime": "2021-01-05T14:50:30.000Z",
        "dataVersion": CONTEXT,
        "data": list(events),
        **fields,
    }


def pretty(value: Any) -> bytes:
    return json.dumps(value, indent=2).encode()


def jsonl(*values: Any) -> bytes:
    return b"".join(orjson.dumps(value) + b"\n" for value in values)


def ids(prefix: str, count: int) -> list[str]:
    return [f"urn:uuid:{prefix}-{i}" for i in range(count)]


def shape_files(folder: Path) -> dict[str, list[str]]:
    """One file per shape the contract names, plain and gzip-compressed; → the event ids
    each holds."""
    shapes: dict[str, bytes] = {
        "envelope.json": pretty(envelope(event("env-0"), event("env-1"))),
        "bare-event.json": pretty(event("bare-0")),
        "envelopes.json": pretty(
            [envelope(event("envs-0")), envelope(event("envs-1"), event("envs-2"))]
        ),
        "events.json": pretty([event("evs-0"), event("evs-1")]),
        "lines.jsonl": jsonl(envelope(event("jl-0")), event("jl-1"), [event("jl-2")]),
    }
    expected: dict[str, list[str]] = {
        "envelope.json": ids("env", 2),
        "bare-event.json": ids("bare", 1),
        "envelopes.json": ids("envs", 3),
        "events.json": ids("evs", 2),
        "lines.jsonl": ids("jl", 3),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in shapes.items():
        (folder / name).write_bytes(data)
        # The same shapes compressed, with other ids so that nothing is a duplicate.
        compressed = gz_name(name)
        (folder / compressed).write_bytes(gzip.compress(data.replace(b":uuid:", b":uuid:gz-")))
        expected[compressed] = [i.replace(":uuid:", ":uuid:gz-") for i in expected[name]]
    return expected


def gz_name(name: str) -> str:
    """envelope.json → envelope-gz.json.gz"""
    stem, suffix = name.split(".", 1)
    return f"{stem}-gz.{suffix}.gz"


# --- shapes -----------------------------------------------------------------------------


def test_every_shape_in_a_folder_is_stored_once(database_url: str, tmp_path: Path) -> None:
    expected = shape_files(tmp_path / "in")
    (tmp_path / "in" / "notes.txt").write_text("not an ingestible file")
    (tmp_path / "in" / "sub").mkdir()
    (tmp_path / "in" / "sub" / "empty.jsonl").write_bytes(b"")
    run = run_ingest(database_url, tmp_path / "in")
    assert run.code == 0, run.stderr
    assert run.problems == []
    total = sum(len(found) for found in expected.values())
    assert total == 22
    assert run.summary == {
        "read": total,
        "appended": total,
        "duplicates": 0,
        "conflicts": 0,
        "rejected": 0,
    }
    stored = stored_events(database_url)
    assert sorted(row["event_id"] for row in stored) == sorted(
        i for found in expected.values() for i in found
    )
    assert [row["position"] for row in stored] == list(range(1, total + 1))
    # Files are read in name order, each in its own order.
    by_file = sorted(expected)
    assert [row["event_id"] for row in stored] == [i for name in by_file for i in expected[name]]
    sent = {row["event_id"]: json.loads(row["raw"]) for row in stored}
    assert sent["urn:uuid:env-1"] == event("env-1")
    assert sent["urn:uuid:gz-evs-0"] == event("evs-0", id="urn:uuid:gz-evs-0")

    # A second run over the same files, named one by one, appends nothing.
    again = run_ingest(database_url, *sorted((tmp_path / "in").glob("*.json*")))
    assert again.code == 0, again.stderr
    assert again.summary == {
        "read": total,
        "appended": 0,
        "duplicates": total,
        "conflicts": 0,
        "rejected": 0,
    }
    assert len(stored_events(database_url)) == total


def test_standard_input(sqlite_url: str, tmp_path: Path) -> None:
    body = pretty([envelope(event("in-0")), event("in-1")])
    run = run_ingest(sqlite_url, "-", stdin=body)
    assert run.code == 0, run.stderr
    assert run.summary["appended"] == 2
    compressed = gzip.compress(jsonl(event("in-2"), envelope(event("in-3"), event("in-0"))))
    run = run_ingest(sqlite_url, "-", stdin=compressed)
    assert run.code == 0, run.stderr
    assert run.summary == {
        "read": 3,
        "appended": 2,
        "duplicates": 1,
        "conflicts": 0,
        "rejected": 0,
    }
    assert stored_ids(sqlite_url) == ids("in", 4)


# --- problems -------------------------------------------------------------------------


def test_a_malformed_json_lines_line_is_reported_and_the_rest_stored(
    sqlite_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "feed.jsonl"
    good = [orjson.dumps(event(f"l-{i}")) for i in range(5)]
    bad = b'{"id": "urn:uuid:broken", "type": "ContentEvent" "action": "Modified"}'
    path.write_bytes(b"\n".join([good[0], good[1], b"", bad, good[2], good[3], good[4]]) + b"\n")
    run = run_ingest(sqlite_url, path)
    assert run.code == 1
    assert run.problems == [f"{path}:4:50: not valid JSON: Expecting ',' delimiter"]
    assert run.summary == {
        "read": 6,
        "appended": 5,
        "duplicates": 0,
        "conflicts": 0,
        "rejected": 1,
    }
    assert stored_ids(sqlite_url) == [f"urn:uuid:l-{i}" for i in range(5)]
    rejected = stored_rows(sqlite_url, RejectedItemRow.__table__)
    assert [(row["path"], row["reason"]) for row in rejected] == [
        (f"{path}:4:50", "not valid JSON: Expecting ',' delimiter")
    ]
    assert json.loads(rejected[0]["raw"]) == bad.decode()


def test_bad_standard_input_lines_are_named_stdin_and_the_rest_stored(sqlite_url: str) -> None:
    """Gzip-compressed JSON Lines on standard input: a line that is not UTF-8 and one
    that is not JSON are reported; the lines around them are stored."""
    feed = jsonl(event("u-0")) + b'{"id": "\xff"}\n' + jsonl(event("u-1")) + b'{"id": }\n'
    run = run_ingest(sqlite_url, "-", stdin=gzip.compress(feed + jsonl(event("u-2"))))
    assert run.code == 1
    assert len(run.problems) == 2
    assert run.problems[0].startswith("<stdin>:2:9: not UTF-8 text")
    assert run.problems[1] == "<stdin>:4:8: not valid JSON: Expecting value"
    assert stored_ids(sqlite_url) == ["urn:uuid:u-0", "urn:uuid:u-1", "urn:uuid:u-2"]
    assert run.summary["rejected"] == 2


def test_a_json_file_that_does_not_parse_is_skipped_whole(sqlite_url: str, tmp_path: Path) -> None:
    broken = tmp_path / "a-broken.json"
    text = pretty([event("b-0"), event("b-1")]).decode()
    broken.write_text(text.replace('"action": "Modified"', '"action": Modified', 1))
    good = tmp_path / "b-good.json"
    good.write_bytes(pretty(envelope(event("g-0"))))
    run = run_ingest(sqlite_url, broken, good)
    assert run.code == 1
    line = next(n for n, t in enumerate(text.splitlines(), 1) if '"action"' in t)
    assert run.problems == [f"{broken}:{line}:15: not valid JSON: Expecting value"]
    assert stored_ids(sqlite_url) == ["urn:uuid:g-0"]
    assert run.summary["rejected"] == 1


def test_bad_items_in_a_file_are_rejected_and_named_by_line_and_path(
    sqlite_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.json"
    body = [
        envelope(event("m-0"), event("m-1", action=None), 5),
        event("m-2", eventTime="soon"),
        {"sensor": "x"},
        envelope(event("m-3"), dataVersion="http://example.edu/caliper/v9"),
    ]
    path.write_bytes(pretty(body))
    lines = pretty(body).decode().splitlines()
    starts = [n for n, t in enumerate(lines, 1) if t in ("  {", "  [")]
    assert len(starts) == 4
    run = run_ingest(sqlite_url, path)
    assert run.code == 1
    assert run.problems == [
        f"{path}:{starts[0]}: $[0].data[1]: event has no `action`",
        f"{path}:{starts[0]}: $[0].data[2]: expected an event object, found a number",
        f"{path}:{starts[1]}: $[1]: `eventTime` 'soon' is not an ISO-8601 time",
        f"{path}:{starts[2]}: $[2]: not a Caliper envelope (no `data` array) nor an event",
        f"{path}:{starts[3]}: $[3].dataVersion: unsupported dataVersion "
        "'http://example.edu/caliper/v9'",
    ]
    assert stored_ids(sqlite_url) == ["urn:uuid:m-0"]
    assert run.summary["rejected"] == 5
    rejected = stored_rows(sqlite_url, RejectedItemRow.__table__)
    assert [row["path"] for row in rejected] == [
        f"{path}:{starts[0]} $[0].data[1]",
        f"{path}:{starts[0]} $[0].data[2]",
        f"{path}:{starts[1]} $[1]",
        f"{path}:{starts[2]} $[2]",
        f"{path}:{starts[3]} $[3].dataVersion",
    ]
    assert json.loads(rejected[0]["raw"]) == event("m-1", action=None)


def test_repair_fixes_a_json_lines_line_and_says_so(sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    spaced = orjson.dumps(event("r-1")).replace(b'{"', b'{\xc2\xa0"', 1)
    path.write_bytes(jsonl(event("r-0")) + spaced + b"\n")
    plain = run_ingest(sqlite_url, path)
    assert plain.code == 1
    assert plain.problems == [
        f"{path}:2:2: not valid JSON: Expecting property name enclosed in double quotes"
    ]
    repaired = run_ingest(sqlite_url, "--repair", path)
    assert repaired.code == 0, repaired.stderr
    assert repaired.repairs == [f"repaired {path}:2: replaced U+00A0 (no-break space) with a space"]
    assert repaired.summary["appended"] == 1
    assert stored_ids(sqlite_url) == ["urn:uuid:r-0", "urn:uuid:r-1"]


# --- reruns, summary, usage ----------------------------------------------------------------


def test_the_summary_counts_duplicates_conflicts_and_rejected(
    sqlite_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "feed.jsonl"
    changed = event("c-0", eventTime="2021-01-06T00:00:00.000Z")
    path.write_bytes(
        jsonl(
            envelope(event("c-0"), event("c-1"), {"id": f"{SITE}/users/u1", "type": "Person"}),
            event("c-0"),  # the same event again: a duplicate
            changed,  # the same id, other content: stored, and a conflict
            event("c-2", actor=None),  # rejected
        )
    )
    run = run_ingest(sqlite_url, path)
    assert run.code == 1
    assert run.summary == {
        "read": 6,
        "appended": 3,
        "duplicates": 1,
        "conflicts": 1,
        "rejected": 1,
    }
    assert run.stdout.strip().endswith("entities 1")
    assert run.problems == [f"{path}:4: $: event has no `actor`"]
    assert stored_ids(sqlite_url) == ["urn:uuid:c-0", "urn:uuid:c-1", "urn:uuid:c-0"]
    assert json.loads(stored_events(sqlite_url)[2]["raw"]) == changed


@pytest.mark.parametrize(
    "args",
    [
        ["{missing}"],
        ["{good}", "{missing}"],
        ["--no-such-option", "{good}"],
        [],
    ],
)
def test_usage_errors_exit_2_and_store_nothing(
    sqlite_url: str, tmp_path: Path, args: list[str]
) -> None:
    good = tmp_path / "good.json"
    good.write_bytes(pretty(event("x")))
    missing = tmp_path / "nowhere.json"
    given = [arg.format(good=good, missing=missing) for arg in args]
    run = run_ingest(sqlite_url, *given)
    assert run.code == 2
    assert run.stdout == ""
    if "{missing}" in args:
        assert f"{missing}: no such file or folder" in run.stderr
    else:
        assert "usage: coursegraph" in run.stderr
    database = Path(sqlite_url.split("///", 1)[1])
    assert not database.exists() or stored_events(sqlite_url) == []


# --- a big JSON array, streamed ---------------------------------------------------------------


def padded_event(index: int, padding: int) -> dict[str, Any]:
    return event(f"big-{index}", extensions={"padding": "x" * padding, "n": index})


def write_array(path: Path, values: list[Any]) -> list[int]:
    """A pretty-printed JSON array; → the line each element starts on."""
    starts = []
    line = 2
    with open(path, "wb") as out:
        out.write(b"[\n")
        for index, value in enumerate(values):
            text = json.dumps(value, indent=2).encode()
            starts.append(line)
            out.write(text)
            out.write(b",\n" if index < len(values) - 1 else b"\n")
            line += text.count(b"\n") + 1
        out.write(b"]\n")
    return starts


def items_of(path: Path, *, repair: bool = False) -> list[Any]:
    raw, stream = open_binary(str(path))
    try:
        return list(read_items(str(path), stream, repair=repair))
    finally:
        stream.close()
        raw.close()


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Files over 4 KB are streamed, read 1 KB at a time, so elements straddle chunks."""
    monkeypatch.setattr(app.files, "WHOLE_FILE_LIMIT", 4096)
    monkeypatch.setattr(app.files, "READ_CHUNK", 1024)
    yield


@pytest.mark.usefixtures("small_limits")
def test_a_streamed_array_yields_every_element_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    values = [padded_event(i, padding=(i * 37) % 3000) for i in range(60)]
    values.insert(7, 12345678901234567890123)  # a number cut by a chunk boundary reads whole
    starts = write_array(path, values)
    assert path.stat().st_size > 20 * 4096
    items = items_of(path)
    assert all(isinstance(item, Document) for item in items)
    assert [item.value for item in items] == values
    assert [item.where for item in items] == [f"{path}:{line}" for line in starts]
    assert [item.path for item in items] == [f"$[{i}]" for i in range(len(values))]


@pytest.mark.usefixtures("small_limits")
def test_a_streamed_gzip_array_yields_every_element(tmp_path: Path) -> None:
    plain = tmp_path / "big.json"
    values = [padded_event(i, padding=500) for i in range(30)]
    starts = write_array(plain, values)
    path = tmp_path / "big.json.gz"
    path.write_bytes(gzip.compress(plain.read_bytes()))
    assert path.stat().st_size < 4096  # the compressed size is not what decides
    items = items_of(path)
    assert [item.value for item in items if isinstance(item, Document)] == values
    assert [item.where for item in items] == [f"{path}:{line}" for line in starts]


@pytest.mark.usefixtures("small_limits")
def test_a_defect_in_a_streamed_array_keeps_what_came_before(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    values = [padded_event(i, padding=300) for i in range(20)]
    starts = write_array(path, values)
    text = path.read_text()
    lines = text.splitlines(keepends=True)
    # Element 12 loses the comma after its first member.
    id_line = starts[12] + 1
    assert lines[id_line - 1].startswith('  "@context": "')
    lines[id_line - 1] = lines[id_line - 1].replace('",', '"', 1)
    path.write_text("".join(lines))
    items = items_of(path)
    documents = [item for item in items if isinstance(item, Document)]
    problems = [item for item in items if isinstance(item, Problem)]
    assert [document.value for document in documents] == values[:12]
    assert len(problems) == 1
    column = len(lines[id_line].split('"')[0]) + 1
    assert problems[0].where == f"{path}:{id_line + 1}:{column}"
    assert problems[0].reason.startswith("not valid JSON: Expecting ',' delimiter")


@pytest.mark.usefixtures("small_limits")
@pytest.mark.parametrize(
    ("tail", "reason", "line"),
    [
        (b"", "not valid JSON: Expecting ',' delimiter", 1),
        (b"]\n{}", "not valid JSON: Extra data", 2),
        (b",]", "not valid JSON: Expecting value", 1),
        (b",\n\n  ", "not valid JSON: Expecting value", 3),
    ],
)
def test_a_streamed_array_that_ends_badly_is_reported(
    tmp_path: Path, tail: bytes, reason: str, line: int
) -> None:
    path = tmp_path / "big.json"
    values = [padded_event(i, padding=600) for i in range(10)]
    path.write_bytes(b"[" + b",".join(orjson.dumps(v) for v in values) + tail)
    items = items_of(path)
    assert [item.value for item in items if isinstance(item, Document)] == values
    problems = [item for item in items if isinstance(item, Problem)]
    assert len(problems) == 1
    assert problems[0].reason.startswith(reason)
    assert problems[0].where.startswith(f"{path}:{line}:")


@pytest.mark.usefixtures("small_limits")
def test_bytes_that_are_not_utf8_in_a_streamed_array_are_named(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    values = [padded_event(i, padding=700) for i in range(12)]
    starts = write_array(path, values)
    lines = path.read_bytes().split(b"\n")
    bad_line = starts[9] + 2  # element 9's "id" line
    assert lines[bad_line - 1].startswith(b'  "id": "urn:uuid:big-9"')
    lines[bad_line - 1] = lines[bad_line - 1].replace(b"big-9", b"big\xff9")
    path.write_bytes(b"\n".join(lines))
    items = items_of(path)
    documents = [item for item in items if isinstance(item, Document)]
    problems = [item for item in items if isinstance(item, Problem)]
    assert [document.value for document in documents] == values[: len(documents)]
    assert len(documents) >= 7  # those in chunks read before the bad one
    assert len(problems) == 1
    assert problems[0].where == f"{path}:{bad_line}:22"
    assert problems[0].reason.startswith("not UTF-8 text (invalid start byte)")


def test_a_long_first_json_lines_line_is_read_whole(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(app.files, "READ_CHUNK", 64)
    path = tmp_path / "feed.jsonl"
    path.write_bytes(jsonl([event("a"), event("b")], event("c")))
    items = items_of(path)
    assert [(item.where, item.value) for item in items] == [
        (f"{path}:1", [event("a"), event("b")]),
        (f"{path}:2", event("c")),
    ]


def test_numbers_cut_by_a_chunk_boundary_are_read_whole(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(app.files, "WHOLE_FILE_LIMIT", 8)
    monkeypatch.setattr(app.files, "READ_CHUNK", 3)
    values: list[Any] = [1234567, -98765.4321, 12345678901234567890123, "abcdefgh", True, None]
    values += [{"k": [1, 2, {"deep": "é€😀"}]}, 0.5e-3, []]
    path = tmp_path / "numbers.json"
    path.write_bytes(b"[ " + b" ,\n ".join(json.dumps(v).encode() for v in values) + b" ]")
    items = items_of(path)
    assert [item.value for item in items] == values
    assert [item.where for item in items] == [f"{path}:{1 + i}" for i in range(len(values))]
    assert isinstance(items[2].value, int)


def test_a_small_array_names_each_element_by_its_line(tmp_path: Path) -> None:
    path = tmp_path / "small.json"
    values = [event(f"s-{i}") for i in range(4)]
    starts = write_array(path, values)
    items = items_of(path)
    assert [item.where for item in items] == [f"{path}:{line}" for line in starts]
    assert [item.value for item in items] == values


def test_repaired_array_elements_keep_their_original_lines(tmp_path: Path) -> None:
    path = tmp_path / "small.json"
    values = [event("r-0", extensions={"note": "a\nb"}), event("r-1")]
    starts = write_array(path, values)
    # Raw line breaks inside a string, as the documentation samples have.
    text = path.read_text().replace("a\\nb", "a\nb")
    path.write_text(text)
    items = items_of(path, repair=True)
    repairs = [item for item in items if isinstance(item, Repaired)]
    documents = [item for item in items if isinstance(item, Document)]
    note_line = next(n for n, t in enumerate(text.splitlines(), 1) if '"note": "a' in t)
    assert [item.where for item in repairs] == [f"{path}:{note_line}"]
    assert [document.value for document in documents] == values
    assert [document.where for document in documents] == [
        f"{path}:{starts[0]}",
        f"{path}:{starts[1] + 1}",
    ]


def test_a_big_array_through_the_command(sqlite_url: str, tmp_path: Path) -> None:
    """Over the real WHOLE_FILE_LIMIT: few, fat elements keep the run short."""
    path = tmp_path / "big.json"
    count = 48
    padding = app.files.WHOLE_FILE_LIMIT // 40
    values = [padded_event(i, padding=padding) for i in range(count)]
    with open(path, "wb") as out:
        out.write(b"[")
        for index, value in enumerate(values):
            out.write(b"\n" + orjson.dumps(value) + (b"," if index < count - 1 else b"\n]"))
    assert path.stat().st_size > app.files.WHOLE_FILE_LIMIT
    run = run_ingest(sqlite_url, path)
    assert run.code == 0, run.stderr
    assert run.summary["appended"] == count
    rows = stored_events(sqlite_url)
    assert [row["event_id"] for row in rows] == [f"urn:uuid:big-{i}" for i in range(count)]
    assert json.loads(rows[-1]["raw"]) == values[-1]


def test_read_items_of_a_bytes_stream_reads_json_lines_without_a_suffix() -> None:
    data = jsonl(event("a"), event("b"))
    items = list(read_items("feed.json", io.BytesIO(data), repair=False))
    assert [item.where for item in items] == ["feed.json:1", "feed.json:2"]


# --- transactions -------------------------------------------------------------------------


def test_each_transaction_holds_about_the_batch_bytes(database_url: str, tmp_path: Path) -> None:
    """Transactions are bounded by the stored JSON they hold (COURSEGRAPH_INGEST_BATCH_BYTES):
    six events of one size and a short line that is not JSON, two events' worth a batch:
    a batch ends once it holds two events' bytes → three commits."""
    from sqlalchemy import event as sqlalchemy_event

    from app.caliper.canonical import dumps
    from app.ingest import ingest_files
    from app.startup import open_ready_store

    events = [event(f"tx-{i}") for i in range(6)]
    source = tmp_path / "six.jsonl"
    source.write_bytes(jsonl(*events[:3]) + b"{not json\n" + jsonl(*events[3:]))
    two_events = len(dumps(events[0])) + len(dumps(events[1]))

    async def ingest() -> tuple[int, int, int]:
        store = await open_ready_store(database_url)
        commits = 0

        def counted(_connection: Any) -> None:
            nonlocal commits
            commits += 1

        sqlalchemy_event.listen(store.writer.sync_engine, "commit", counted)
        try:
            summary = await ingest_files(store, [str(source)], batch_bytes=two_events)
        finally:
            await store.close()
        return commits, summary.result.appended, summary.rejected

    # [tx-0 tx-1] [tx-2, the bad line, tx-3] [tx-4 tx-5]
    assert asyncio.run(ingest()) == (3, 6, 1)
    assert stored_ids(database_url) == ids("tx", 6)
