"""`coursegraph export` on the seed semester, both backends: every table of every
format read back (pyarrow, csv, json) equals what GraphQL answers for the same store,
in the same order; --course, --since and --until filter as documented; bad input is a
clear error and a non-zero exit, never a traceback."""

from __future__ import annotations

import asyncio
import csv
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from app.api.context import Context
from app.api.schema import SCHEMA
from app.caliper.values import format_time_ms
from app.cli import FORMATS_FOR_HELP
from app.export import FILE_KINDS, FORMATS, TABLES, Table
from app.settings import REPO_ROOT
from seed.generator import SEMESTER_START
from store.db import create_store
from tests.conftest import (
    BACKENDS,
    _create_postgres_database,
    _drop_postgres_database,
    make_settings,
    postgres_base_url,
    run_cli,
)

DAY_MS = 86_400_000
SINCE_MS = SEMESTER_START + 30 * DAY_MS
UNTIL_MS = SEMESTER_START + 61 * DAY_MS + 3_600_000
KINDS = {table.name: dict(table.columns) for table in TABLES}


# --- reading an export back ----------------------------------------------------------------


def _iso(value: datetime) -> str:
    offset = value.utcoffset()
    assert offset is not None and offset.total_seconds() == 0
    return format_time_ms(round(value.timestamp() * 1000))


def _from_parquet(table: Table, path: Path) -> list[dict[str, Any]]:
    rows = pq.read_table(path).to_pylist()
    kinds = KINDS[table.name]
    for row in rows:
        for name, value in row.items():
            if value is None:
                continue
            if kinds[name] == "time":
                row[name] = _iso(value)
            elif kinds[name] == "json":
                row[name] = json.loads(value)
    return rows


def _csv_value(kind: str, text: str) -> Any:
    if text == "":
        return None
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "bool":
        assert text in ("true", "false"), text
        return text == "true"
    if kind in ("list", "json"):
        return json.loads(text)
    return text


def _from_csv(table: Table, path: Path) -> list[dict[str, Any]]:
    kinds = KINDS[table.name]
    with open(path, newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        assert reader.fieldnames == table.column_names
        return [{k: _csv_value(kinds[k], v) for k, v in row.items()} for row in reader]


def _from_jsonl(table: Table, path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as file:
        rows = [json.loads(line) for line in file]
    for row in rows:
        assert list(row) == table.column_names
    return rows


READERS = {"parquet": _from_parquet, "csv": _from_csv, "jsonl": _from_jsonl}
SUFFIXES = {"parquet": "parquet", "csv": "csv", "jsonl": "jsonl"}


def read_export(folder: Path, format: str) -> dict[str, list[dict[str, Any]]]:
    found = sorted(p.name for p in folder.iterdir())
    assert found == sorted(f"{t.name}.{SUFFIXES[format]}" for t in TABLES)
    return {t.name: READERS[format](t, folder / f"{t.name}.{SUFFIXES[format]}") for t in TABLES}


def _floats(row: dict[str, Any], table: str) -> dict[str, Any]:
    """Numbers compared by value as the table types them (a score of 8 is 8.0)."""
    kinds = KINDS[table]
    return {k: float(v) if kinds[k] == "float" and v is not None else v for k, v in row.items()}


# --- what GraphQL answers ---------------------------------------------------------------------

COURSES = """query($after: String) { courses(first: 1000, after: $after) {
  pageInfo { hasNextPage endCursor } nodes { id courseNumber learnId name } } }"""
COURSE = """query($id: ID!, $at: DateTime) { course(id: $id, asOf: $at) {
  id courseNumber learnId name
  groups(includeDeleted: true, first: 1000) { pageInfo { hasNextPage }
    nodes { id learnId name memberIds deleted createdAt updatedAt } }
  contentItems(includeDeleted: true, first: 1000) { pageInfo { hasNextPage }
    nodes { id learnId name description handler renderType isFolder isLesson isGroupContent
      dataVersion scorePossible dueDate aggregationModel deleted createdAt updatedAt } }
  calculatedGrades(first: 1000) { pageInfo { hasNextPage }
    nodes { id itemId user { id userId externalId } score scorePossible isCourseGrade
      synVersion calculatedAt } }
  participants(first: 1000) { pageInfo { hasNextPage }
    nodes { person { id userId externalId } role firstActivityAt lastActivityAt eventCount
      activeDays gradedAttempts courseGrade { score scorePossible } } } } }"""
ATTEMPTS = """query($id: ID!, $at: DateTime, $after: String) { course(id: $id, asOf: $at) {
  attempts(first: 1000, after: $after) { pageInfo { hasNextPage endCursor }
    nodes { id learnId gradableItem { id } assignee { id userId externalId } count startedAt
      history { scoreGiven }
      score { scoreGiven maxScore normalScore penaltyScore extraCreditScore totalScore
        curvedTotalScore comment gradedAt eventType actionName eventPosition } } } } }"""
EVENTS = """query($filter: EventFilter, $after: String) { events(filter: $filter, first: 1000,
  after: $after) { pageInfo { hasNextPage endCursor }
    nodes { position id type action eventTime receivedAt actorId objectId raw } } }"""
COURSE_EVENTS = """query($id: ID!, $after: String) { course(id: $id) {
  events(first: 1000, after: $after) { pageInfo { hasNextPage endCursor } nodes { position } } } }"""
PERSON = """query($id: ID!) { person(id: $id) { id userId externalId } }"""


class Api:
    def __init__(self, url: str) -> None:
        self.settings = make_settings(url)

    async def __aenter__(self) -> Api:
        self.store = create_store(self.settings.database_url)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.store.close()

    async def query(self, document: str, **variables: Any) -> dict[str, Any]:
        context = Context(store=self.store, settings=self.settings)
        result = await SCHEMA.execute(document, variable_values=variables, context_value=context)
        assert not result.errors, result.errors
        return result.data or {}

    async def pages(self, document: str, path: list[str], **variables: Any) -> list[dict]:
        nodes: list[dict[str, Any]] = []
        after = None
        while True:
            data = await self.query(document, after=after, **variables)
            for key in path:
                data = data[key]
            nodes += data["nodes"]
            if not data["pageInfo"]["hasNextPage"]:
                return nodes
            after = data["pageInfo"]["endCursor"]


def _person_row(person: dict[str, Any]) -> dict[str, Any]:
    return {"id": person["id"], "user_id": person["userId"], "external_id": person["externalId"]}


async def graphql_tables(
    url: str, *, course_ids: list[str] | None = None, until_ms: int | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Every table as the export should hold it, built from GraphQL answers alone (the
    people table without last_event_at, which GraphQL does not serve)."""
    at = format_time_ms(until_ms - 1) if until_ms is not None else None
    tables: dict[str, list[dict[str, Any]]] = {t.name: [] for t in TABLES}
    people: dict[str, dict[str, Any]] = {}
    async with Api(url) as api:
        if course_ids is None:
            listed = await api.pages(COURSES, ["courses"])
            course_ids = [c["id"] for c in listed]
        courses = []
        for course_id in course_ids:
            course = (await api.query(COURSE, id=course_id, at=at))["course"]
            if course is not None:
                courses.append(course)
        courses.sort(key=lambda c: (c["courseNumber"] or "", c["id"]))
        for course in courses:
            cid = course["id"]
            tables["courses"].append(
                {
                    "id": cid,
                    "course_number": course["courseNumber"],
                    "learn_id": course["learnId"],
                    "name": course["name"],
                }
            )
            for key in ("groups", "contentItems", "calculatedGrades", "participants"):
                assert not course[key]["pageInfo"]["hasNextPage"]
            for g in course["groups"]["nodes"]:
                tables["groups"].append(
                    {
                        "id": g["id"],
                        "course_id": cid,
                        "learn_id": g["learnId"],
                        "name": g["name"],
                        "member_ids": g["memberIds"],
                        "deleted": g["deleted"],
                        "created_at": g["createdAt"],
                        "updated_at": g["updatedAt"],
                    }
                )
            for c in course["contentItems"]["nodes"]:
                row = {"id": c["id"], "course_id": cid}
                for name in KINDS["content_items"]:
                    if name not in row:
                        row[name] = c[_camel(name)]
                tables["content_items"].append(_floats(row, "content_items"))
            for attempt in await api.pages(ATTEMPTS, ["course", "attempts"], id=cid, at=at):
                score = attempt["score"] or {}
                row = {
                    "id": attempt["id"],
                    "course_id": cid,
                    "learn_id": attempt["learnId"],
                    "gradable_item_id": attempt["gradableItem"]["id"],
                    "assignee_id": (attempt["assignee"] or {}).get("id"),
                    "count": attempt["count"],
                    "started_at": attempt["startedAt"],
                }
                for name in KINDS["attempts"]:
                    if name not in row and name not in ("score_event_position", "grades"):
                        row[name] = score.get(_camel(name))
                row["score_event_position"] = score.get("eventPosition")
                row["grades"] = len(attempt["history"])
                tables["attempts"].append(_floats(row, "attempts"))
                if attempt["assignee"]:
                    people[attempt["assignee"]["id"]] = _person_row(attempt["assignee"])
            for g in course["calculatedGrades"]["nodes"]:
                tables["calculated_grades"].append(
                    _floats(
                        {
                            "id": g["id"],
                            "course_id": cid,
                            "item_id": g["itemId"],
                            "person_id": g["user"]["id"],
                            "score": g["score"],
                            "score_possible": g["scorePossible"],
                            "is_course_grade": g["isCourseGrade"],
                            "syn_version": g["synVersion"],
                            "calculated_at": g["calculatedAt"],
                        },
                        "calculated_grades",
                    )
                )
                people[g["user"]["id"]] = _person_row(g["user"])
            participants = sorted(course["participants"]["nodes"], key=lambda p: p["person"]["id"])
            for p in participants:
                grade = p["courseGrade"] or {}
                tables["participants"].append(
                    _floats(
                        {
                            "course_id": cid,
                            "person_id": p["person"]["id"],
                            "role": p["role"],
                            "first_activity_at": p["firstActivityAt"],
                            "last_activity_at": p["lastActivityAt"],
                            "event_count": p["eventCount"],
                            "active_days": p["activeDays"],
                            "graded_attempts": p["gradedAttempts"],
                            "course_grade_score": grade.get("score"),
                            "course_grade_score_possible": grade.get("scorePossible"),
                        },
                        "participants",
                    )
                )
                people[p["person"]["id"]] = _person_row(p["person"])
        tables["people"] = [people[key] for key in sorted(people)]
    return tables


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _event_row(node: dict[str, Any]) -> dict[str, Any]:
    return {
        "position": node["position"],
        "id": node["id"],
        "type": node["type"],
        "action": node["action"],
        "event_time": node["eventTime"],
        "received_at": node["receivedAt"],
        "actor_id": node["actorId"],
        "object_id": node["objectId"],
        "raw": node["raw"],
    }


async def graphql_events(url: str, filter: dict[str, Any] | None) -> list[dict[str, Any]]:
    async with Api(url) as api:
        return [_event_row(n) for n in await api.pages(EVENTS, ["events"], filter=filter)]


async def graphql_course_positions(url: str, course_ids: list[str]) -> dict[str, set[int]]:
    async with Api(url) as api:
        return {
            cid: {
                n["position"] for n in await api.pages(COURSE_EVENTS, ["course", "events"], id=cid)
            }
            for cid in course_ids
        }


async def graphql_people(url: str, ids: list[str]) -> list[dict[str, Any]]:
    async with Api(url) as api:
        return [_person_row((await api.query(PERSON, id=i))["person"]) for i in ids]


# --- the seeded store and its exports --------------------------------------------------------


class Seeded:
    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
        self.folder = folder

    def export(self, name: str, *args: str) -> Path:
        out = self.folder / name
        done = run_cli("export", "--out", str(out), *args, database_url=self.url)
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        return out


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    folder = tmp_path_factory.mktemp("export")
    base = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{folder / 'semester.db'}"
    else:
        base = postgres_base_url()
        url = asyncio.run(_create_postgres_database(base))
    try:
        done = run_cli("seed", database_url=url)
        assert done.returncode == 0, done.stderr
        yield Seeded(url, folder)
    finally:
        if base is not None:
            asyncio.run(_drop_postgres_database(base, url))


@pytest.fixture(scope="module")
def expected(seeded: Seeded) -> dict[str, list[dict[str, Any]]]:
    return asyncio.run(graphql_tables(seeded.url))


def _without(rows: list[dict[str, Any]], *names: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k not in names} for row in rows]


def _blank_as_none(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What CSV can tell apart: an empty text and no value are both an empty cell."""
    return [{k: None if v == "" else v for k, v in row.items()} for row in rows]


def _check_projections(
    got: dict[str, list[dict[str, Any]]],
    want: dict[str, list[dict[str, Any]]],
    *,
    from_csv: bool = False,
) -> None:
    if from_csv:
        want = {name: _blank_as_none(rows) for name, rows in want.items()}
    assert _without(got["courses"], "created_at", "last_event_at") == want["courses"]
    for name in ("groups", "content_items", "attempts", "calculated_grades", "participants"):
        rows = [_floats(row, name) for row in got[name]]
        assert len(rows) == len(want[name]), name
        assert rows == want[name], name


@pytest.mark.parametrize("format", ["parquet", "csv", "jsonl"])
def test_every_table_equals_the_graphql_answers(
    seeded: Seeded, expected: dict[str, list[dict[str, Any]]], format: str
) -> None:
    got = read_export(seeded.export(f"all-{format}", "--format", format), format)
    _check_projections(got, expected, from_csv=format == "csv")
    assert len(expected["attempts"]) > 1000 and len(expected["participants"]) > 100
    assert any(row["deleted"] for row in got["groups"])
    assert any(row["deleted"] for row in got["content_items"])

    # Every person the course tables name, as person(id:) answers; and whoever else the
    # store knows of, also as person(id:) answers.
    people = _without(got["people"], "last_event_at")
    assert [row["id"] for row in people] == sorted(row["id"] for row in people)
    by_id = {row["id"]: row for row in people}
    named = _blank_as_none(expected["people"]) if format == "csv" else expected["people"]
    for row in named:
        assert by_id[row["id"]] == row
    others = [key for key in by_id if key not in {r["id"] for r in named}]
    answered = asyncio.run(graphql_people(seeded.url, others))
    if format == "csv":
        answered = _blank_as_none(answered)
    assert answered == [by_id[key] for key in others]

    # The log, in position order, equals `events`; each event's course is the course whose
    # `events` list it.
    events = got["events"]
    want_events = asyncio.run(graphql_events(seeded.url, None))
    if format == "csv":
        want_events = _blank_as_none(want_events)
    assert _without(events, "course_id") == want_events
    course_ids = [row["id"] for row in got["courses"]]
    listed = asyncio.run(graphql_course_positions(seeded.url, course_ids))
    for cid in course_ids:
        assert {e["position"] for e in events if e["course_id"] == cid} == listed[cid]
    assert all(e["course_id"] in listed or e["course_id"] is None for e in events)


def test_course_since_and_until_filter(seeded: Seeded) -> None:
    """--course keeps the courses with that number; the log keeps since <= eventTime <
    until; the projections are the state as of just before until, as `asOf` gives it."""
    courses = asyncio.run(graphql_tables(seeded.url))["courses"]
    number = courses[2]["course_number"]
    course_ids = [c["id"] for c in courses if c["course_number"] == number]
    since, until = format_time_ms(SINCE_MS), format_time_ms(UNTIL_MS)
    out = seeded.export(
        "window", "--format", "parquet", "--course", number, "--since", since, "--until", until
    )
    got = read_export(out, "parquet")
    want = asyncio.run(graphql_tables(seeded.url, course_ids=course_ids, until_ms=UNTIL_MS))
    _check_projections(got, want)
    assert _without(got["people"], "last_event_at") == want["people"]
    assert [c["course_number"] for c in got["courses"]] == [number] * len(course_ids)
    assert {row["course_id"] for row in got["attempts"]} == set(course_ids)

    window = {"courseNumber": number, "since": since, "until": until}
    events = got["events"]
    assert _without(events, "course_id") == asyncio.run(graphql_events(seeded.url, window))
    assert events and {e["course_id"] for e in events} == set(course_ids)
    assert all(since <= e["event_time"] < until for e in events)

    # The window is narrower than the whole course: the filters did something.
    everything = asyncio.run(graphql_tables(seeded.url, course_ids=course_ids))
    assert len(want["attempts"]) < len(everything["attempts"])


def test_parquet_types_and_the_readme_duckdb_lines(seeded: Seeded) -> None:
    pytest.importorskip("duckdb")
    out = seeded.export("export", "--format", "parquet")
    schema = pq.read_schema(out / "events.parquet")
    assert str(schema.field("event_time").type) == "timestamp[ms, tz=UTC]"
    assert str(schema.field("position").type) == "int64"
    groups = pq.read_schema(out / "groups.parquet")
    assert str(groups.field("member_ids").type) == "list<element: string>"
    attempts = pq.read_schema(out / "attempts.parquet")
    assert str(attempts.field("score_given").type) == "double"
    assert str(attempts.field("graded_at").type) == "timestamp[ms, tz=UTC]"

    # The README's three DuckDB lines, as written there, beside the folder `export`.
    readme = (REPO_ROOT / "README.md").read_text()
    block = readme.split("## Export", 1)[1].split("```sql\n", 1)[1].split("```", 1)[0]
    assert len(block.strip().splitlines()) == 3
    done = subprocess.run(
        [sys.executable, "-c", "import duckdb, sys; duckdb.sql(sys.stdin.read()).show()"],
        input=block,
        cwd=out.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    for number in ("BIO-101-F26", "CHEM-121-F26", "MATH-151-F26"):
        assert number in done.stdout


# --- bad input --------------------------------------------------------------------------------


def _refused(done: Any, code: int, *words: str) -> None:
    assert done.returncode == code, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in done.stderr, done.stderr


def test_bad_input_is_a_clear_error(sqlite_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out"

    def export(format: str, folder: Path, *more: str) -> Any:
        return run_cli(
            "export", "--format", format, "--out", str(folder), *more, database_url=sqlite_url
        )

    _refused(export("xlsx", out), 2, "invalid choice: 'xlsx'")
    _refused(
        export("csv", out, "--since", "last tuesday"),
        2,
        "--since 'last tuesday': not an ISO-8601",
    )
    _refused(
        export("csv", out, "--since", "2026-10-01", "--until", "2026-09-01"),
        2,
        "--since must be before --until",
    )
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    _refused(export("csv", a_file / "sub"), 2, "cannot create or read it")
    assert not out.exists()

    # An empty store exports empty tables; a second export into the same DIR is refused
    # unless --overwrite, which replaces the earlier export's files and nothing else.
    first = export("csv", out)
    assert first.returncode == 0, first.stderr
    assert (out / "events.csv").read_bytes() == ",".join(KINDS["events"]).encode() + b"\r\n"
    (out / "notes.txt").write_text("mine")
    _refused(export("jsonl", out), 2, "not empty", "--overwrite")
    again = export("jsonl", out, "--overwrite")
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{t.name}.jsonl" for t in TABLES] + ["notes.txt"]
    )
    _refused(
        export("csv", tmp_path / "x", "--course", "NOPE-1"),
        1,
        "--course NOPE-1: no course has this courseNumber",
    )
    helped = run_cli("export", "--help")
    assert helped.returncode == 0 and "--overwrite" in helped.stdout
    # The CLI names the formats without importing the exporter (a fast --help).
    assert FORMATS_FOR_HELP == FORMATS == tuple(FILE_KINDS)
