"""`coursegraph export`: the log and one table per projection as files an analyst opens
in pandas, DuckDB or a spreadsheet (Parquet, CSV or JSON Lines).

Everything is streamed: the log page by page in position order, the projections one
course at a time, through the same loaders (app.api.context) the GraphQL API folds them
with, so a table row and the API's answer for the same entity are the same state."""

from __future__ import annotations

import contextlib
import csv
import os
import sys
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strawberry.dataloader import DataLoader

from app.api.context import Context, Key, created_at_ms
from app.api.participant import ParticipantState, participant_states
from app.caliper.canonical import dumps
from app.caliper.model import ATTEMPT, COURSE, PERSON
from app.caliper.values import format_time_ms, parse_time_ms
from app.projections.attempts import AttemptState
from app.projections.calculated_grades import CalculatedGradeState
from app.projections.content_items import ContentItemState
from app.projections.courses import CourseState
from app.projections.groups import GroupState
from app.projections.people import PersonState
from app.settings import Settings
from app.startup import open_ready_store
from store import read
from store.db import Store
from store.read import EventQuery
from store.records import StoredEvent

FORMATS = ("parquet", "csv", "jsonl")
SUFFIX = {"parquet": ".parquet", "csv": ".csv", "jsonl": ".jsonl"}
# Events read per statement, and rows a file buffers before it writes them (a Parquet
# row group): enough to keep the files efficient, few enough to keep memory flat.
EVENT_PAGE = 500
FLUSH_ROWS = 2_000
# Courses, people and attempts folded per batch (each batch is a few statements).
SUMMARY_BATCH = 200
ATTEMPT_BATCH = 500


class ExportProblem(Exception):
    """Something the user can fix: the message says what; no traceback."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# --- tables ------------------------------------------------------------------------------

# Column kinds: int, float, bool, str, time (UTC instant, milliseconds), list (of
# strings), json (any JSON value).


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]

    @property
    def column_names(self) -> list[str]:
        return [name for name, _kind in self.columns]


EVENTS = Table(
    "events",
    (
        ("position", "int"),
        ("id", "str"),
        ("type", "str"),
        ("action", "str"),
        ("event_time", "time"),
        ("received_at", "time"),
        ("actor_id", "str"),
        ("object_id", "str"),
        ("course_id", "str"),
        ("raw", "json"),
    ),
)
COURSES = Table(
    "courses",
    (
        ("id", "str"),
        ("course_number", "str"),
        ("learn_id", "str"),
        ("name", "str"),
        ("created_at", "time"),
        ("last_event_at", "time"),
    ),
)
PEOPLE = Table(
    "people",
    (("id", "str"), ("user_id", "str"), ("external_id", "str"), ("last_event_at", "time")),
)
GROUPS = Table(
    "groups",
    (
        ("id", "str"),
        ("course_id", "str"),
        ("learn_id", "str"),
        ("name", "str"),
        ("member_ids", "list"),
        ("deleted", "bool"),
        ("created_at", "time"),
        ("updated_at", "time"),
    ),
)
CONTENT_ITEMS = Table(
    "content_items",
    (
        ("id", "str"),
        ("course_id", "str"),
        ("learn_id", "str"),
        ("name", "str"),
        ("description", "str"),
        ("handler", "str"),
        ("render_type", "str"),
        ("is_folder", "bool"),
        ("is_lesson", "bool"),
        ("is_group_content", "bool"),
        ("data_version", "int"),
        ("score_possible", "float"),
        ("due_date", "time"),
        ("aggregation_model", "str"),
        ("deleted", "bool"),
        ("created_at", "time"),
        ("updated_at", "time"),
    ),
)
ATTEMPTS = Table(
    "attempts",
    (
        ("id", "str"),
        ("course_id", "str"),
        ("learn_id", "str"),
        ("gradable_item_id", "str"),
        ("assignee_id", "str"),
        ("count", "int"),
        ("started_at", "time"),
        ("score_given", "float"),
        ("max_score", "float"),
        ("normal_score", "float"),
        ("penalty_score", "float"),
        ("extra_credit_score", "float"),
        ("total_score", "float"),
        ("curved_total_score", "float"),
        ("comment", "str"),
        ("graded_at", "time"),
        ("event_type", "str"),
        ("action_name", "str"),
        ("score_event_position", "int"),
        ("grades", "int"),
    ),
)
CALCULATED_GRADES = Table(
    "calculated_grades",
    (
        ("id", "str"),
        ("course_id", "str"),
        ("item_id", "str"),
        ("person_id", "str"),
        ("score", "float"),
        ("score_possible", "float"),
        ("is_course_grade", "bool"),
        ("syn_version", "int"),
        ("calculated_at", "time"),
    ),
)
PARTICIPANTS = Table(
    "participants",
    (
        ("course_id", "str"),
        ("person_id", "str"),
        ("role", "str"),
        ("first_activity_at", "time"),
        ("last_activity_at", "time"),
        ("event_count", "int"),
        ("active_days", "int"),
        ("graded_attempts", "int"),
        ("course_grade_score", "float"),
        ("course_grade_score_possible", "float"),
    ),
)
TABLES = (
    EVENTS,
    COURSES,
    PEOPLE,
    GROUPS,
    CONTENT_ITEMS,
    ATTEMPTS,
    CALCULATED_GRADES,
    PARTICIPANTS,
)


def event_row(e: StoredEvent) -> tuple[Any, ...]:
    return (
        e.position,
        e.event_id,
        e.type,
        e.action,
        e.event_time_ms,
        e.received_at_ms,
        e.actor_id,
        e.object_id,
        e.course_id,
        e.raw,
    )


def course_row(s: CourseState) -> tuple[Any, ...]:
    return (s.id, s.course_number, s.learn_id, s.name, s.created_at_ms, s.last_event_ms)


def person_row(s: PersonState) -> tuple[Any, ...]:
    return (s.id, s.user_id, s.external_id, s.last_event_ms)


def group_row(s: GroupState) -> tuple[Any, ...]:
    return (
        s.id,
        s.course_id,
        s.learn_id,
        s.name,
        list(s.member_ids),
        s.deleted,
        s.created_at_ms,
        s.updated_at_ms,
    )


def content_item_row(s: ContentItemState) -> tuple[Any, ...]:
    return (
        s.id,
        s.course_id,
        s.learn_id,
        s.name,
        s.description,
        s.handler,
        s.render_type,
        s.is_folder,
        s.is_lesson,
        s.is_group_content,
        s.data_version,
        s.score_possible,
        s.due_date_ms,
        s.aggregation_model,
        s.deleted,
        s.created_at_ms,
        s.updated_at_ms,
    )


def attempt_row(s: AttemptState) -> tuple[Any, ...]:
    score = s.score
    scored: tuple[Any, ...] = (
        (
            score.score_given,
            score.max_score,
            score.normal_score,
            score.penalty_score,
            score.extra_credit_score,
            score.total_score,
            score.curved_total_score,
            score.comment,
            score.graded_at_ms,
            score.event_type,
            score.action_name,
            score.event_position,
        )
        if score is not None
        else (None,) * 12
    )
    head = (s.id, s.course_id, s.learn_id, s.gradable_item_id, s.assignee_id)
    return (*head, s.count, s.started_at_ms, *scored, len(s.history))


def calculated_grade_row(s: CalculatedGradeState) -> tuple[Any, ...]:
    return (
        s.id,
        s.course_id,
        s.item_id,
        s.user_id,
        s.score,
        s.score_possible,
        bool(s.is_course_grade),
        s.syn_version,
        s.calculated_at_ms,
    )


def participant_row(course_id: str, s: ParticipantState) -> tuple[Any, ...]:
    grade = s.course_grade
    return (
        course_id,
        s.person_id,
        s.role,
        s.first_activity_ms,
        s.last_activity_ms,
        s.event_count,
        s.active_days,
        s.graded_attempts,
        grade.score if grade else None,
        grade.score_possible if grade else None,
    )


# --- files -------------------------------------------------------------------------------


def _json_text(value: Any) -> str:
    return dumps(value).decode()


class TableFile:
    """One table's file, written through a hidden partial file renamed into place when
    complete, so a file under its own name is always a whole table. Rows are buffered
    and written FLUSH_ROWS at a time."""

    def __init__(self, table: Table, path: Path) -> None:
        self.table = table
        self.path = path
        self.partial = path.with_name(f".{path.name}.partial")
        self.rows = 0
        self._buffer: list[tuple[Any, ...]] = []
        self._open = True

    def write(self, rows: Iterable[tuple[Any, ...]]) -> None:
        for row in rows:
            self._buffer.append(self._prepared(row))
            if len(self._buffer) >= FLUSH_ROWS:
                self.flush()

    def _prepared(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        """The row as it waits in the buffer (JSON values as text: far smaller)."""
        return row

    def flush(self) -> None:
        if self._buffer:
            self._write_rows(self._buffer)
            self.rows += len(self._buffer)
            self._buffer = []

    def finish(self) -> None:
        self.flush()
        self._open = False
        self._close()
        os.replace(self.partial, self.path)

    def abandon(self) -> None:
        """Remove what this file wrote, complete or not (an export that failed half-way
        must not pass for a whole one)."""
        try:
            if self._open:
                self._open = False
                self._close()
        finally:
            self.partial.unlink(missing_ok=True)
            self.path.unlink(missing_ok=True)

    def _write_rows(self, rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError


def _text_json_columns(table: Table, row: tuple[Any, ...]) -> tuple[Any, ...]:
    if not any(kind == "json" for _name, kind in table.columns):
        return row
    return tuple(
        _json_text(value) if kind == "json" and value is not None else value
        for value, (_name, kind) in zip(row, table.columns, strict=True)
    )


class ParquetFile(TableFile):
    """Typed columns: int64, float64, bool, UTC timestamps (ms), lists of strings; JSON as
    text. One row group per flush."""

    def __init__(self, table: Table, path: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        super().__init__(table, path)
        types = {
            "int": pa.int64(),
            "float": pa.float64(),
            "bool": pa.bool_(),
            "str": pa.string(),
            "time": pa.timestamp("ms", tz="UTC"),
            "list": pa.list_(pa.string()),
            "json": pa.string(),
        }
        self._schema = pa.schema([pa.field(name, types[kind]) for name, kind in table.columns])
        self._writer = pq.ParquetWriter(self.partial, self._schema, compression="zstd")

    def _prepared(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        return _text_json_columns(self.table, row)

    def _write_rows(self, rows: list[tuple[Any, ...]]) -> None:
        import pyarrow as pa

        columns = [
            pa.array(list(values), type=self._schema.field(index).type)
            for index, values in enumerate(zip(*rows, strict=True))
        ]
        self._writer.write_table(pa.Table.from_arrays(columns, schema=self._schema))

    def _close(self) -> None:
        self._writer.close()


def _csv_cell(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == "time":
        return format_time_ms(value)
    if kind == "bool":
        return "true" if value else "false"
    if kind in ("list", "json"):
        return _json_text(value)
    return value


class CsvFile(TableFile):
    """A header, then one line a row: times in ISO-8601 UTC, booleans true/false, lists
    and JSON as JSON text, an empty cell for no value."""

    def __init__(self, table: Table, path: Path) -> None:
        super().__init__(table, path)
        self._file = open(self.partial, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._csv = csv.writer(self._file)
        self._csv.writerow(table.column_names)

    def _prepared(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(
            _csv_cell(value, kind)
            for value, (_name, kind) in zip(row, self.table.columns, strict=True)
        )

    def _write_rows(self, rows: list[tuple[Any, ...]]) -> None:
        self._csv.writerows(rows)

    def _close(self) -> None:
        self._file.close()


class JsonLinesFile(TableFile):
    """One JSON object a line: times in ISO-8601 UTC, lists as arrays, JSON values (the
    event as received) as they are."""

    def __init__(self, table: Table, path: Path) -> None:
        super().__init__(table, path)
        self._file = open(self.partial, "wb")  # noqa: SIM115
        self._names = table.column_names

    def _prepared(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        line = {
            name: format_time_ms(value) if kind == "time" and value is not None else value
            for value, (name, kind) in zip(row, self.table.columns, strict=True)
        }
        return (dumps(line),)

    def _write_rows(self, rows: list[tuple[Any, ...]]) -> None:
        self._file.write(b"".join(line + b"\n" for (line,) in rows))

    def _close(self) -> None:
        self._file.close()


FILE_KINDS: dict[str, Callable[[Table, Path], TableFile]] = {
    "parquet": ParquetFile,
    "csv": CsvFile,
    "jsonl": JsonLinesFile,
}


def table_path(out: Path, table: Table, format: str) -> Path:
    return out / f"{table.name}{SUFFIX[format]}"


def prepare_out_dir(out: Path, *, overwrite: bool) -> None:
    """Create DIR; refuse one that holds anything unless `overwrite` (then the files of
    an earlier export, in any format, are replaced and nothing else is touched)."""
    if out.exists() and not out.is_dir():
        raise ExportProblem(f"--out {out}: exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
        held = [entry.name for entry in out.iterdir()]
    except OSError as error:
        raise ExportProblem(f"--out {out}: cannot create or read it ({error.strerror})") from None
    if held and not overwrite:
        raise ExportProblem(
            f"--out {out}: not empty ({len(held)} entries); choose an empty or new directory, "
            "or pass --overwrite to replace an earlier export there"
        )
    probe = out / ".coursegraph-export-probe"
    try:
        probe.write_bytes(b"")
        probe.unlink()
        if overwrite:
            for table in TABLES:
                for format in FORMATS:
                    table_path(out, table, format).unlink(missing_ok=True)
    except OSError as error:
        raise ExportProblem(f"--out {out}: cannot write there ({error.strerror})") from None


# --- what to export ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportScope:
    """--course, --since, --until. The log keeps events with since <= eventTime < until;
    the projections are each entity's state as of just before `until` (GraphQL's asOf)."""

    course_number: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None

    @property
    def as_of_ms(self) -> int | None:
        return None if self.until_ms is None else self.until_ms - 1


def parse_instant(option: str, value: str) -> int:
    found = parse_time_ms(value)
    if found is None:
        raise ExportProblem(
            f"{option} {value!r}: not an ISO-8601 date or date-time "
            "(e.g. 2026-09-01 or 2026-09-01T08:00:00Z; no offset means UTC)"
        )
    return found


@dataclass
class ExportSummary:
    rows: dict[str, int] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)
    unreadable: int = 0


def _courses(context: Context) -> DataLoader[Key, CourseState | None]:
    return context.courses()


def _people(context: Context) -> DataLoader[Key, PersonState | None]:
    return context.people()


def _attempts(context: Context) -> DataLoader[Key, AttemptState | None]:
    return context.attempts()


class Exporter:
    def __init__(self, store: Store, settings: Settings, scope: ExportScope) -> None:
        self.store = store
        self.settings = settings
        self.scope = scope
        # Entities whose stored events cannot be folded: left out, as the API leaves them.
        self.unreadable = 0

    def context(self) -> Context:
        """A fresh context per batch, with a state cache of its own: its loaders and cache
        keep what they loaded, so one for the whole export would hold every fold until
        the end (and the API's shared cache is of no use to a one-off pass)."""
        return Context(store=self.store, settings=self.settings)

    async def course_ids(self) -> list[str] | None:
        """The course IRIs --course selects (every course that carried the number, as
        `events(filter: {courseNumber})` has it); None: every course."""
        if self.scope.course_number is None:
            return None
        found = await read.keys_with_alt_key(self.store, COURSE, self.scope.course_number)
        if not found:
            raise ExportProblem(
                f"--course {self.scope.course_number}: no course has this courseNumber",
                exit_code=1,
            )
        return sorted(found)

    async def write_events(self, file: TableFile, course_ids: Sequence[str] | None) -> None:
        """The log in position order, up to the newest position when the export began
        (events appended meanwhile wait for the next export)."""
        newest = await read.last_position(self.store)
        query = EventQuery(
            course_ids=tuple(course_ids) if course_ids is not None else None,
            since_ms=self.scope.since_ms,
            until_ms=self.scope.until_ms,
        )
        after: int | None = None
        while True:
            page = await read.page_events(
                self.store, query, after_cursor_position=after, limit=EVENT_PAGE
            )
            within = [event for event in page if event.position <= newest]
            file.write(event_row(event) for event in within)
            if len(within) < EVENT_PAGE:
                return
            after = within[-1].position

    async def states(
        self, loader_of: Callable[[Context], DataLoader[Key, Any]], keys: Sequence[str], batch: int
    ) -> AsyncIterator[list[Any]]:
        """The states of these entities, `batch` keys at a time, each batch through a fresh
        context: a loader holds every event it read for a batch until the batch is folded
        (a course's 20 newest events, a person's 5, an attempt's grades), so a batch of
        every course or person at once would hold a sizeable share of the log."""
        as_of = self.scope.as_of_ms
        for start in range(0, len(keys), batch):
            context = self.context()
            chunk = keys[start : start + batch]
            states = await loader_of(context).load_many([(key, as_of) for key in chunk])
            self.unreadable += len(context.unreadable)
            yield [s for s in states if s is not None]

    async def courses(self, course_ids: Sequence[str] | None) -> list[CourseState]:
        keys = course_ids if course_ids is not None else await read.all_keys(self.store, COURSE)
        found = [s async for batch in self.states(_courses, keys, SUMMARY_BATCH) for s in batch]
        # Query.courses' order: courseNumber, then id.
        found.sort(key=lambda s: (s.course_number or "", s.id))
        return found

    async def course_attempts(self, course_id: str) -> list[AttemptState]:
        """The course's attempts as Course.attempts lists them (createdAt, then id), folded
        ATTEMPT_BATCH at a time: a course with 10,000 graded attempts would otherwise hold
        all their events at once."""
        keys = await read.course_entity_keys(self.store, course_id, ATTEMPT, self.scope.as_of_ms)
        found = [
            s
            async for batch in self.states(_attempts, keys, ATTEMPT_BATCH)
            for s in batch
            if s.course_id == course_id
        ]
        found.sort(key=lambda s: (created_at_ms(s), s.id))
        return found

    async def write_course_tables(
        self, courses: list[CourseState], files: dict[str, TableFile], people: set[str] | None
    ) -> None:
        """Each course's groups, content items, attempts, calculated grades and
        participants, one course at a time; collects the people they name into `people`
        when given."""
        as_of = self.scope.as_of_ms
        for course in courses:
            context = self.context()
            key = (course.id, as_of)
            groups = await context.course_groups().load(key)
            content_items = await context.course_content_items().load(key)
            attempts = await self.course_attempts(course.id)
            grades = await context.course_calculated_grades().load(key)
            participants = await participant_states(context, course.id, as_of, attempts)
            participants = sorted(participants, key=lambda s: s.person_id)
            files[GROUPS.name].write(group_row(s) for s in groups)
            files[CONTENT_ITEMS.name].write(content_item_row(s) for s in content_items)
            files[ATTEMPTS.name].write(attempt_row(s) for s in attempts)
            files[CALCULATED_GRADES.name].write(calculated_grade_row(s) for s in grades)
            files[PARTICIPANTS.name].write(participant_row(course.id, s) for s in participants)
            self.unreadable += len(context.unreadable)
            if people is not None:
                people.update(s.person_id for s in participants)
                people.update(s.assignee_id for s in attempts if s.assignee_id)
                people.update(s.user_id for s in grades if s.user_id)

    async def write_people(self, file: TableFile, keys: Iterable[str]) -> None:
        async for batch in self.states(_people, sorted(keys), SUMMARY_BATCH):
            file.write(person_row(s) for s in batch)

    async def run(self, out: Path, format: str) -> ExportSummary:
        course_ids = await self.course_ids()
        files: dict[str, TableFile] = {}
        summary = ExportSummary()
        try:
            for table in TABLES:
                files[table.name] = FILE_KINDS[format](table, table_path(out, table, format))
            await self.write_events(files[EVENTS.name], course_ids)
            courses = await self.courses(course_ids)
            files[COURSES.name].write(course_row(s) for s in courses)
            named: set[str] | None = set() if course_ids is not None else None
            await self.write_course_tables(courses, files, named)
            people = named if named is not None else await read.all_keys(self.store, PERSON)
            await self.write_people(files[PEOPLE.name], people)
            for file in files.values():
                file.finish()
        except BaseException:
            for file in files.values():
                # Cleaning up after a failure must not hide the failure itself.
                with contextlib.suppress(Exception):
                    file.abandon()
            raise
        summary.unreadable = self.unreadable
        for name, file in files.items():
            summary.rows[name] = file.rows
            summary.paths[name] = file.path
        return summary


async def run_export(
    settings: Settings,
    *,
    format: str,
    out: Path,
    scope: ExportScope,
    overwrite: bool,
) -> int:
    """What the command does; prints one line per table written, returns the exit code."""
    try:
        if (
            scope.since_ms is not None
            and scope.until_ms is not None
            and scope.since_ms >= scope.until_ms
        ):
            raise ExportProblem("--since must be before --until: the window holds no instant")
        prepare_out_dir(out, overwrite=overwrite)
        store = await open_ready_store(settings.database_url)
        try:
            summary = await Exporter(store, settings, scope).run(out, format)
        finally:
            await store.close()
    except ExportProblem as problem:
        print(f"coursegraph export: {problem}", file=sys.stderr)
        return problem.exit_code
    except OSError as error:
        print(
            f"coursegraph export: cannot write the export to {out}: "
            f"{error.strerror or error} (the files written so far were removed)",
            file=sys.stderr,
        )
        return 1
    for name in summary.rows:
        print(f"{summary.paths[name]}\t{summary.rows[name]} rows")
    if summary.unreadable:
        print(
            f"coursegraph export: {summary.unreadable} entities could not be folded from "
            "their stored events and were left out, as the API leaves them out (see the log)",
            file=sys.stderr,
        )
    return 0
