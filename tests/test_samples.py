"""Blackboard's documentation samples through the real `coursegraph ingest` (issue #2).

Every file in caliper-samples/blackboard/ and its variants/ is ingested: the strict-JSON
ones are stored; the others are reported at the line and column Python's json gives
(the README's table); with --repair the files whose only defects are U+00A0
indentation or raw line breaks inside strings are stored, and the command names every
line it repaired; the rest still fail at their further defect. Stored events are
compared with the events as sent, and the extracted columns of the five core event
types are checked one by one. The runs are batched (one command per case, not per
file) to keep the suite fast."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from app.verify import stored_index_rows
from store.db import create_store
from store.tables import RejectedItemRow
from tests.conftest import (
    _create_postgres_database,
    _drop_postgres_database,
    postgres_base_url,
)
from tests.test_ingest import Run, run_ingest, stored_events, stored_rows

PROPERTY = "Expecting property name enclosed in double quotes"
VALUE = "Expecting value"
COMMA = "Expecting ',' delimiter"
EXTRA = "Extra data"
CONTROL = "Invalid control character at"

# The README's table: file → (first json.loads error on the raw bytes, the further
# defect once U+00A0 and raw line breaks are repaired). None: no error.
Error = tuple[int, int, str]
SAMPLES: dict[str, tuple[Error | None, Error | None]] = {
    "AssessmentEvent-1.json": ((2, 5, PROPERTY), (111, 1, VALUE)),
    "AssessmentEvent-2.json": ((1, 5, VALUE), (107, 12, EXTRA)),
    "AssessmentEvent-3.json": (None, None),
    "AssessmentItemEvent-1.json": ((1, 5, VALUE), (40, 26, COMMA)),
    "AssessmentItemEvent-2.json": ((1, 5, VALUE), (149, 12, EXTRA)),
    "AssessmentItemEvent-3.json": (None, None),
    "AssignableEvent-1.json": ((2, 5, PROPERTY), (106, 1, VALUE)),
    "AssignableEvent-2.json": ((3, 5, PROPERTY), (102, 11, EXTRA)),
    "AssignableEvent-3.json": ((2, 5, PROPERTY), (126, 1, VALUE)),
    "AssignableEvent-4.json": ((2, 5, PROPERTY), (122, 11, EXTRA)),
    # The README names the trailing comma's line (11); json stops at the `}` after it.
    "AssignableEvent-5.json": ((2, 5, PROPERTY), (12, 9, PROPERTY)),
    "AssignableEvent-6.json": (None, None),
    "BlogEvent-1.json": ((2, 5, PROPERTY), None),
    "BlogEvent-2.json": (None, None),
    "CalculatedGradeSnapshotEvent-1.json": ((2, 5, PROPERTY), None),
    "CalculatedGradeSnapshotEvent-2.json": (None, None),
    "ContentEvent-1.json": ((2, 5, PROPERTY), (131, 20, COMMA)),
    "ContentEvent-2.json": ((18, 80, CONTROL), None),
    "CourseGroupEvent-1.json": ((1, 5, VALUE), None),
    "CourseGroupEvent-2.json": (None, None),
    "ForumEvent-1.json": ((2, 5, PROPERTY), None),
    "ForumEvent-2.json": (None, None),
    "GradeEvent-1.json": (None, None),
    "LTIEvent-1.json": ((2, 5, PROPERTY), None),
    "LTIEvent-2.json": ((2, 5, PROPERTY), None),
    "LTIEvent-3.json": (None, None),
    "OutcomeEvent-1.json": ((2, 5, PROPERTY), None),
    "SessionEvent-1.json": ((2, 5, PROPERTY), None),
    "SessionEvent-2.json": ((2, 5, PROPERTY), None),
    "SessionEvent-3.json": ((2, 5, PROPERTY), None),
    "SessionEvent-4.json": (None, None),
    "SessionEvent-5.json": (None, None),
    "ViewEvent-1.json": ((2, 5, PROPERTY), None),
    "ViewEvent-2.json": (None, None),
    "WikiEvent-1.json": ((2, 5, PROPERTY), None),
    "WikiEvent-2.json": (None, None),
}
# The variants differ in whitespace only, so they share their file's defects, one line
# earlier where the README says the block lost its leading blank line.
VARIANTS = {
    "AssessmentEvent-1.alt1.json": 0,
    "AssessmentEvent-2.alt1.json": 0,
    "AssessmentEvent-2.alt2.json": 0,
    "AssessmentEvent-3.alt1.json": 0,
    "AssessmentItemEvent-1.alt1.json": 0,
    "AssessmentItemEvent-2.alt1.json": 0,
    "AssessmentItemEvent-3.alt1.json": 0,
    "AssignableEvent-1.alt1.json": 0,
    "AssignableEvent-2.alt1.json": -1,
    "AssignableEvent-2.alt2.json": -1,
    "AssignableEvent-3.alt1.json": 0,
    "AssignableEvent-4.alt1.json": 0,
    "AssignableEvent-5.alt1.json": 0,
    "AssignableEvent-6.alt1.json": 0,
    "BlogEvent-1.alt1.json": 0,
    "BlogEvent-2.alt1.json": 0,
    "CalculatedGradeSnapshotEvent-1.alt1.json": 0,
    "CalculatedGradeSnapshotEvent-2.alt1.json": 0,
    "ContentEvent-1.alt1.json": 0,
    "CourseGroupEvent-1.alt1.json": 0,
    "CourseGroupEvent-2.alt1.json": 0,
    "ForumEvent-1.alt1.json": 0,
    "ForumEvent-2.alt1.json": 0,
    "GradeEvent-1.alt1.json": 0,
    "LTIEvent-1.alt1.json": 0,
    "LTIEvent-2.alt1.json": 0,
    "OutcomeEvent-1.alt1.json": 0,
    "SessionEvent-1.alt1.json": 0,
    "SessionEvent-2.alt1.json": 0,
    "SessionEvent-3.alt1.json": 0,
    "SessionEvent-4.alt1.json": 0,
    "SessionEvent-5.alt1.json": 0,
    "ViewEvent-1.alt1.json": 0,
    "ViewEvent-2.alt1.json": 0,
    "WikiEvent-1.alt1.json": 0,
    "WikiEvent-2.alt1.json": 0,
}
# ContentEvent-2: every `bb:user.externalId` holds two raw line feeds, on these lines.
CONTENT_EVENT_2_BREAKS = (18, 56, 65, 95, 119, 157, 166, 196)
# The id 54b54b42-… is the event id in 8 samples, twice in AssessmentItemEvent-3.
SHARED_ID = "54b54b42-dd02-42f8-88ed-07bd719bfb7c"


def _shift(error: Error | None, lines: int) -> Error | None:
    return None if error is None else (error[0] + lines, error[1], error[2])


def expected_errors() -> dict[str, tuple[Error | None, Error | None]]:
    """Relative path (as under the samples folder) → (first error, further defect)."""
    table = dict(SAMPLES)
    for variant, lines in VARIANTS.items():
        first, further = SAMPLES[variant.split(".")[0] + ".json"]
        table[f"variants/{variant}"] = (_shift(first, lines), _shift(further, lines))
    return table


ERRORS = expected_errors()
STRICT = sorted(name for name, (first, _) in ERRORS.items() if first is None)
REPAIRABLE = sorted(name for name, (first, further) in ERRORS.items() if first and not further)
BROKEN = sorted(name for name, (first, further) in ERRORS.items() if further)


def test_the_table_covers_every_sample_file(samples_dir: Path) -> None:
    found = {str(path.relative_to(samples_dir)) for path in samples_dir.rglob("*.json")}
    assert found == set(ERRORS)
    assert len(ERRORS) == 72
    assert (len(STRICT), len(REPAIRABLE), len(BROKEN)) == (25, 25, 22)
    top_level_repairable = [name for name in REPAIRABLE if "/" not in name]
    assert len(top_level_repairable) == 13  # 12 v1.0 files and ContentEvent-2
    assert "ContentEvent-2.json" in top_level_repairable


# --- the events as sent -------------------------------------------------------------------


def sent_text(path: Path) -> str:
    """The file with the two copy-paste defects undone, independently of app.repair:
    U+00A0 is never inside a string in these samples, and raw line breaks are
    what json.loads(strict=False) accepts."""
    return path.read_bytes().decode("utf-8").replace("\u00a0", " ")


def events_in(path: Path) -> list[dict[str, Any]]:
    value = json.loads(sent_text(path), strict=False)
    if isinstance(value, dict) and "data" in value:
        return value["data"]
    return value if isinstance(value, list) else [value]


def exactly(left: Any, right: Any) -> bool:
    """Equal JSON values with the same number types and the same key order."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(exactly(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(exactly, left, right))
    return bool(left == right)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


# --- the runs --------------------------------------------------------------------------------


@dataclass
class SampleRun:
    run: Run
    database_url: str

    def events(self) -> list[dict[str, Any]]:
        return stored_events(self.database_url)


def problem_line(samples_dir: Path, name: str, error: Error) -> str:
    line, column, reason = error
    return f"{samples_dir / name}:{line}:{column}: not valid JSON: {reason}"


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("samples")


def sqlite_at(folder: Path, name: str) -> str:
    return f"sqlite+aiosqlite:///{folder / name}.db"


@pytest.fixture(scope="module")
def strict_run(samples_dir: Path, work: Path) -> SampleRun:
    url = sqlite_at(work, "strict")
    return SampleRun(run_ingest(url, *(samples_dir / name for name in STRICT)), url)


@pytest.fixture(scope="module")
def folder_run(samples_dir: Path, work: Path) -> SampleRun:
    url = sqlite_at(work, "folder")
    return SampleRun(run_ingest(url, samples_dir), url)


@pytest.fixture(scope="module")
def repair_run(samples_dir: Path, work: Path) -> SampleRun:
    url = sqlite_at(work, "repair")
    return SampleRun(run_ingest(url, "--repair", samples_dir), url)


@pytest.fixture(scope="module")
def repairable_run(samples_dir: Path, work: Path) -> SampleRun:
    url = sqlite_at(work, "repairable")
    return SampleRun(run_ingest(url, "--repair", *(samples_dir / n for n in REPAIRABLE)), url)


# --- strict JSON --------------------------------------------------------------------------------


def test_the_strict_json_samples_are_stored(strict_run: SampleRun, samples_dir: Path) -> None:
    run = strict_run.run
    assert run.code == 0, run.stderr
    assert run.stderr == ""
    # 15 distinct events; the 12 valid variants hold the same 14 again.
    assert run.summary == {
        "read": 29,
        "appended": 15,
        "duplicates": 14,
        "conflicts": 7,  # the 8 events that reuse SHARED_ID, after the first
        "rejected": 0,
    }
    assert_stored_as_sent(strict_run.events(), samples_dir, STRICT)


def assert_stored_as_sent(rows: list[dict[str, Any]], samples_dir: Path, names: list[str]) -> None:
    """Every event of every file is stored exactly as sent, once; nothing else is."""
    stored = [json.loads(row["raw"]) for row in rows]
    by_content = {canonical(value): value for value in stored}
    assert len(by_content) == len(stored), "an event was stored twice"
    expected = {}
    for name in names:
        for sent in events_in(samples_dir / name):
            key = canonical(sent)
            assert key in by_content, f"{name}: event {sent.get('id', sent.get('@id'))} missing"
            assert by_content[key] == sent
            assert exactly(by_content[key], sent), f"{name}: stored with other types or order"
            expected[key] = sent
    assert set(by_content) == set(expected)
    assert [row["position"] for row in rows] == list(range(1, len(rows) + 1))


def test_the_shared_event_id_is_kept_with_each_content(strict_run: SampleRun) -> None:
    rows = [row for row in strict_run.events() if row["event_id"] == SHARED_ID]
    assert len(rows) == 8
    assert len({canonical(json.loads(row["raw"])) for row in rows}) == 8


# --- without --repair ---------------------------------------------------------------------------


def test_each_sample_that_is_not_json_is_reported_where_json_says(
    folder_run: SampleRun, samples_dir: Path
) -> None:
    run = folder_run.run
    assert run.code == 1
    expected = [
        problem_line(samples_dir, name, first)
        for name, (first, _) in sorted(ERRORS.items())
        if first is not None
    ]
    assert len(expected) == 47
    assert sorted(run.problems) == sorted(expected)
    assert run.repairs == []
    assert run.summary == {
        "read": 29 + 47,
        "appended": 15,
        "duplicates": 14,
        "conflicts": 7,
        "rejected": 47,
    }
    assert_stored_as_sent(folder_run.events(), samples_dir, STRICT)


def test_each_rejected_file_is_kept_as_a_rejected_item(
    folder_run: SampleRun, samples_dir: Path
) -> None:
    rows = stored_rows(folder_run.database_url, RejectedItemRow.__table__)
    by_path = {row["path"]: row for row in rows}
    for name, (first, _) in ERRORS.items():
        if first is None:
            continue
        line, column, reason = first
        row = by_path[f"{samples_dir / name}:{line}:{column}"]
        assert row["reason"] == f"not valid JSON: {reason}"
        assert json.loads(row["raw"]) == (samples_dir / name).read_bytes().decode("utf-8")
    assert len(rows) == 47


# --- with --repair ---------------------------------------------------------------------------------


def repaired_lines(path: Path) -> set[int]:
    """The lines --repair must name: those holding U+00A0, and for ContentEvent-2 each
    line a raw line feed ends inside a string (two per broken value)."""
    if path.name == "ContentEvent-2.json":
        return {line + extra for line in CONTENT_EVENT_2_BREAKS for extra in (0, 1)}
    text = path.read_bytes().decode("utf-8")
    return {number for number, line in enumerate(text.split("\n"), 1) if "\u00a0" in line}


REPAIR_LINE = re.compile(r"^repaired (?P<file>.+):(?P<line>\d+): (?P<what>.+)$")


def repairs_by_file(run: Run) -> dict[str, dict[int, str]]:
    found: dict[str, dict[int, str]] = {}
    for line in run.repairs:
        match = REPAIR_LINE.match(line)
        assert match, line
        lines = found.setdefault(match["file"], {})
        assert int(match["line"]) not in lines, f"line reported twice: {line}"
        lines[int(match["line"])] = match["what"]
    return found


def test_repair_stores_the_whitespace_only_defects_and_names_each_line(
    repairable_run: SampleRun, samples_dir: Path
) -> None:
    run = repairable_run.run
    assert run.code == 0, run.problems
    assert run.problems == []
    # 13 files with 15 events, and their 12 variants with 13 of them again.
    assert run.summary == {
        "read": 28,
        "appended": 15,
        "duplicates": 13,
        "conflicts": 0,  # ContentEvent-2 is the only one with SHARED_ID here
        "rejected": 0,
    }
    repairs = repairs_by_file(run)
    assert set(repairs) == {str(samples_dir / name) for name in REPAIRABLE}
    for name in REPAIRABLE:
        path = samples_dir / name
        lines = repairs[str(path)]
        assert set(lines) == repaired_lines(path), name
        what = set(lines.values())
        if name == "ContentEvent-2.json":
            assert what == {"escaped a raw control character inside a string"}
        else:
            assert what == {"replaced U+00A0 (no-break space) with a space"}
    assert_stored_as_sent(repairable_run.events(), samples_dir, REPAIRABLE)


def test_repair_keeps_the_raw_line_breaks_as_values(repairable_run: SampleRun) -> None:
    """ContentEvent-2's externalIds are stored holding their two line feeds."""
    rows = [row for row in repairable_run.events() if row["type"] == "ContentEvent"]
    assert len(rows) == 2
    for row in rows:
        membership = json.loads(row["raw"])["membership"]
        assert membership["extensions"]["bb:user.externalId"] == f"{SHARED_ID}\n\n"


def test_repair_still_reports_the_further_defects(repair_run: SampleRun, samples_dir: Path) -> None:
    run = repair_run.run
    assert run.code == 1
    expected = [problem_line(samples_dir, name, ERRORS[name][1]) for name in BROKEN]  # type: ignore[arg-type]
    assert sorted(run.problems) == sorted(expected)
    assert {str(samples_dir / name) for name in REPAIRABLE} <= set(repairs_by_file(run))
    assert run.summary == {
        "read": 29 + 28 + 22,
        "appended": 30,
        "duplicates": 27,
        "conflicts": 8,
        "rejected": 22,
    }
    assert_stored_as_sent(repair_run.events(), samples_dir, STRICT + REPAIRABLE)


# --- the columns of the five core event types -----------------------------------------------------

SITE_A = (
    "https://caliper-mapping.cloudbb.blackboard.com/v1/sites/df1b6234-73e8-45a4-b953-4066760dfbda"
)
SITE_B = (
    "https://caliper-mapping.cloudbb.blackboard.com/v1/sites/54b54b42-dd02-42f8-88ed-07bd719bfb7c"
)
SITE_C = (
    "https://caliper-mapping.cloudbb.blackboard.com/v1/sites/b56c1e20-78eb-4a50-941e-9658d93464ae"
)


@dataclass(frozen=True)
class Columns:
    file: str
    index: int  # the event's place in its file
    type: str
    action: str
    event_time: str
    course: str
    object: str
    actor: str
    event_id: str | None
    style: str
    sensor: str | None
    entity: tuple[str, str]  # the entity the projection folds this event into


CORE = [
    Columns(
        "CourseGroupEvent-1.json", 0, "CourseGroupEvent", "Created", "2017-01-31T04:06:45.458Z",
        f"{SITE_A}/courses/3fbbc28ce97a430ca0f51b5ecd2db557",
        f"{SITE_A}/courses/3fbbc28ce97a430ca0f51b5ecd2db557/groups/_122_1",
        f"{SITE_A}/users/701cbe9a4acd4c31a91af84f25b2f19f",
        None, "1.0", None,
        ("group", f"{SITE_A}/courses/3fbbc28ce97a430ca0f51b5ecd2db557/groups/_122_1"),
    ),
    Columns(
        "CourseGroupEvent-2.json", 0, "CourseGroupEvent", "Created", "2021-01-05T09:37:09.585Z",
        f"{SITE_B}/courses/a3fe89604fc6437ea381979569cd6d81",
        f"{SITE_B}/courses/a3fe89604fc6437ea381979569cd6d81/groups/_12345_1",
        f"{SITE_B}/users/a1165a247b9044dc9730620872d11788",
        SHARED_ID, "1.1", SHARED_ID,
        ("group", f"{SITE_B}/courses/a3fe89604fc6437ea381979569cd6d81/groups/_12345_1"),
    ),
    Columns(
        "ContentEvent-2.json", 0, "ContentEvent", "Modified", "2021-01-05T14:50:29.906Z",
        f"{SITE_B}/courses/3ced8bf8f6174c339908f7dab224f0fa",
        f"{SITE_B}/content/_12345_1",
        f"{SITE_B}/users/566f88cb92b64e1086590458deeeb0da",
        SHARED_ID, "1.1", SHARED_ID,
        ("content", f"{SITE_B}/content/_12345_1"),
    ),
    Columns(
        "ContentEvent-2.json", 1, "ContentEvent", "Modified", "2021-01-05T14:50:30.114Z",
        f"{SITE_B}/courses/3ced8bf8f6174c339908f7dab224f0fa",
        f"{SITE_B}/content/_12345_1",
        f"{SITE_B}/users/566f88cb92b64e1086590458deeeb0da",
        "90cc7d43-60df-49a4-8782-f4719988d5fb", "1.1", SHARED_ID,
        ("content", f"{SITE_B}/content/_12345_1"),
    ),
    Columns(
        "GradeEvent-1.json", 0, "GradeEvent", "Graded", "2021-01-04T12:59:47.248Z",
        f"{SITE_B}/courses/6d0140f42843472da7e3ecd150908fa3",
        f"{SITE_B}/gradableItems/_12345_1/attempts/_12345_1",
        f"{SITE_B}/applications/learn",
        SHARED_ID, "1.1", SHARED_ID,
        ("attempt", f"{SITE_B}/gradableItems/_12345_1/attempts/_12345_1"),
    ),
    Columns(
        "OutcomeEvent-1.json", 0, "OutcomeEvent", "Graded", "2015-12-10T21:06:28.707Z",
        f"{SITE_A}/courses/5bd2e1842197458196bed7ae58835c81",
        f"{SITE_A}/gradableItems/_893_1/attempts/_9_1",
        f"{SITE_A}/users/c56ca36b2c004550b7df20606d3ce48b",
        None, "1.0", "df1b6234-73e8-45a4-b953-4066760dfbda",
        ("attempt", f"{SITE_A}/gradableItems/_893_1/attempts/_9_1"),
    ),
    Columns(
        "OutcomeEvent-1.json", 1, "OutcomeEvent", "Graded", "2015-12-10T21:16:14.535Z",
        f"{SITE_A}/courses/5bd2e1842197458196bed7ae58835c81",
        f"{SITE_A}/gradableItems/_894_1/attempts/_10_1",
        f"{SITE_A}/users/c56ca36b2c004550b7df20606d3ce48b",
        None, "1.0", "df1b6234-73e8-45a4-b953-4066760dfbda",
        ("gradable_item", f"{SITE_A}/gradableItems/_894_1"),
    ),
    Columns(
        "CalculatedGradeSnapshotEvent-1.json", 0, "CalculatedGradeSnapshotEvent",
        "GradeCalculated", "2016-01-12T09:00:00.358Z",
        f"{SITE_C}/courses/47739d59c68444a98856210a8f36f6f1",
        f"{SITE_C}/gradableItems/_1360_1/calculatedGrade/156525",
        f"{SITE_C}/applications/learn",
        None, "1.0", "df1b6234-73e8-45a4-b953-4066760dfbda",
        (
            "calculated_grade",
            f"{SITE_C}/courses/47739d59c68444a98856210a8f36f6f1|_1360_1|"
            f"{SITE_C}/users/1ea8c4bd28424309a0ef5c04298af019",
        ),
    ),
    Columns(
        "CalculatedGradeSnapshotEvent-2.json", 0, "CalculatedGradeSnapshotEvent", "Graded",
        "2021-01-05T08:20:33.572Z",
        f"{SITE_B}/courses/ab336626104044daab61e9a9d72ac8e2",
        f"{SITE_B}/gradableItems/_12345_1/calculatedGrade/329189703",
        f"{SITE_B}/applications/learn",
        SHARED_ID, "1.1", SHARED_ID,
        (
            "calculated_grade",
            f"{SITE_B}/courses/ab336626104044daab61e9a9d72ac8e2|_12345_1|"
            f"{SITE_B}/users/b1ea2fccd95144a29e5e906034e4ddee",
        ),
    ),
]  # fmt: skip


def epoch_ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000 + 0.5)


@pytest.fixture(scope="module")
def entity_index(repair_run: SampleRun) -> dict[int, set[tuple[str, str]]]:
    """position → the (kind, key) entities the index says that event touches."""

    async def read() -> dict[int, set[tuple[str, str]]]:
        store = create_store(repair_run.database_url)
        try:
            async with store.reader.connect() as connection:
                stored = await stored_index_rows(connection, 0, 2**62)
            return {
                position: {(row["kind"], row["entity_key"]) for row in rows}
                for position, rows in stored.items()
            }
        finally:
            await store.close()

    return asyncio.run(read())


@pytest.fixture(scope="module")
def core_rows(repair_run: SampleRun, samples_dir: Path) -> Iterator[dict[str, dict[str, Any]]]:
    """file#index → its stored row, found by content."""
    rows = {canonical(json.loads(row["raw"])): row for row in repair_run.events()}
    found = {}
    for columns in CORE:
        sent = events_in(samples_dir / columns.file)[columns.index]
        found[f"{columns.file}#{columns.index}"] = rows[canonical(sent)]
    yield found


@pytest.mark.parametrize("columns", CORE, ids=lambda c: f"{c.file}#{c.index}")
def test_the_columns_of_each_core_event(
    columns: Columns,
    core_rows: dict[str, dict[str, Any]],
    entity_index: dict[int, set[tuple[str, str]]],
) -> None:
    row = core_rows[f"{columns.file}#{columns.index}"]
    assert row["type"] == columns.type
    assert row["action"] == columns.action
    assert row["event_time"] == epoch_ms(columns.event_time)
    assert row["course_id"] == columns.course
    assert row["object_id"] == columns.object
    assert row["actor_id"] == columns.actor
    assert row["event_id"] == columns.event_id
    assert row["style"] == columns.style
    assert row["sensor"] == columns.sensor
    touched = entity_index[row["position"]]
    assert columns.entity in touched
    assert [key for kind, key in touched if kind == "course"] == [columns.course]


def test_each_event_keeps_the_sensor_of_its_envelope(
    core_rows: dict[str, dict[str, Any]],
) -> None:
    """One ingest batch spans many files and envelopes; a bare event has no sensor."""
    assert {key: row["sensor"] for key, row in core_rows.items()} == {
        f"{columns.file}#{columns.index}": columns.sensor for columns in CORE
    }


# --- PostgreSQL ---------------------------------------------------------------------------------------


def test_one_repair_pass_on_postgresql(samples_dir: Path) -> None:
    base = postgres_base_url()
    url = asyncio.run(_create_postgres_database(base))
    try:
        run = run_ingest(url, "--repair", samples_dir)
        assert run.code == 1
        assert sorted(run.problems) == sorted(
            problem_line(samples_dir, name, ERRORS[name][1])  # type: ignore[arg-type]
            for name in BROKEN
        )
        assert run.summary == {
            "read": 79,
            "appended": 30,
            "duplicates": 27,
            "conflicts": 8,
            "rejected": 22,
        }
        rows = stored_events(url)
        assert_stored_as_sent(rows, samples_dir, STRICT + REPAIRABLE)
        by_content = {canonical(json.loads(row["raw"])): row for row in rows}
        for columns in CORE:
            row = by_content[canonical(events_in(samples_dir / columns.file)[columns.index])]
            assert (row["type"], row["action"]) == (columns.type, columns.action)
            assert row["event_time"] == epoch_ms(columns.event_time)
            assert (row["course_id"], row["object_id"], row["actor_id"]) == (
                columns.course,
                columns.object,
                columns.actor,
            )
    finally:
        asyncio.run(_drop_postgres_database(base, url))
