"""Compact layout: strings stored once (terms), raw JSON compressed with zstd and the
shipped dictionary 1, 16-byte content hashes, integer entity index, course numbers.

The entity index and course_numbers are derived with the Caliper reader, which a
migration never imports: this revision leaves them empty, and `coursegraph db upgrade`
rebuilds them right after it in the same transaction (app.verify.rebuild_derived, the
code verify compares with), before anything can serve.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

CHUNK = 2_000
# The dictionary this revision compresses with, pinned by id (shipped, never changed).
CODEC = 1
DICTIONARY = Path(__file__).resolve().parents[2] / "dictionaries" / f"{CODEC}.zdict"
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
BYTE_ORDER_TEXT = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
# Frozen as this revision writes them (store.tables.KIND_CODES, COURSE_INDEXED_PREDICATE).
COURSE_INDEXED_PREDICATE = "kind IN (2, 3, 5, 6)"

SQLITE_GUARDS = (
    "CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events "
    "BEGIN SELECT RAISE(ABORT, 'the event log is append-only: UPDATE refused'); END",
    "CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events "
    "BEGIN SELECT RAISE(ABORT, 'the event log is append-only: DELETE refused'); END",
)
POSTGRES_GUARDS = (
    "CREATE TRIGGER events_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE ON events "
    "FOR EACH STATEMENT EXECUTE FUNCTION coursegraph_refuse_change()",
)

OLD_EVENTS = sa.table(
    "events",
    *(
        sa.column(name)
        for name in (
            "position", "event_id", "content_hash", "type", "action", "event_time",
            "received_at", "sensor", "style", "actor_id", "object_id", "course_id", "raw",
        )
    ),
)  # fmt: skip
TERM_COLUMNS = ("type", "action", "sensor", "style", "actor_id", "object_id", "course_id")


def upgrade() -> None:
    connection = op.get_bind()
    compressor = zstd.ZstdCompressor(level=3, zstd_dict=zstd.ZstdDict(DICTIONARY.read_bytes()))
    terms = _create_terms()
    new_events = _create_events("events_v4")
    _copy_events(connection, compressor, terms, new_events)
    op.drop_table("events")
    op.rename_table("events_v4", "events")
    if connection.dialect.name == "postgresql":
        # The names PostgreSQL gives a table called `events` from the start.
        for old_name, new_name in (
            ("events_v4_pkey", "events_pkey"),
            ("events_v4_content_hash_key", "events_content_hash_key"),
        ):
            op.execute(f"ALTER TABLE events RENAME CONSTRAINT {old_name} TO {new_name}")
    _index_events()
    sqlite = connection.dialect.name == "sqlite"
    for statement in SQLITE_GUARDS if sqlite else POSTGRES_GUARDS:
        op.execute(statement)
    for name, extra in (
        ("entity_descriptions", ("entity_id", "entity_type", "source")),
        ("rejected_items", ("reason", "path")),
    ):
        _recompress(connection, compressor, name, extra)
    op.create_index("ix_entity_descriptions_entity_id", "entity_descriptions", ["entity_id"])
    op.drop_table("event_entities")
    _create_entity_index()
    _create_course_numbers()


def downgrade() -> None:
    raise NotImplementedError("the event log is never rewritten back by a migration")


def _create_terms() -> sa.Table:
    return op.create_table(
        "terms",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("text", sa.Text, nullable=False, unique=True),
    )


def _create_events(name: str) -> sa.Table:
    return op.create_table(
        name,
        sa.Column("position", ROW_ID, primary_key=True, autoincrement=False),
        sa.Column("event_key", sa.BigInteger, nullable=True),
        sa.Column("content_hash", sa.LargeBinary, nullable=False, unique=True),
        sa.Column("type", sa.Integer, nullable=False),
        sa.Column("action", sa.Integer, nullable=False),
        sa.Column("event_time", sa.BigInteger, nullable=False),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.Column("sensor", sa.Integer, nullable=True),
        sa.Column("style", sa.Integer, nullable=False),
        sa.Column("actor_id", sa.Integer, nullable=True),
        sa.Column("object_id", sa.Integer, nullable=True),
        sa.Column("course_id", sa.Integer, nullable=True),
        sa.Column("codec", sa.SmallInteger, nullable=False),
        sa.Column("raw", sa.LargeBinary, nullable=False),
    )


def _index_events() -> None:
    # Built after the copy: one sort per index instead of one update per row.
    for name, columns in (
        ("ix_events_course_position", ["course_id", "position"]),
        ("ix_events_course_time", ["course_id", "event_time", "actor_id"]),
        ("ix_events_type_position", ["type", "position"]),
        ("ix_events_action_position", ["action", "position"]),
        ("ix_events_action_time", ["action", "event_time"]),
        ("ix_events_actor_position", ["actor_id", "position"]),
        ("ix_events_actor_time", ["actor_id", "event_time"]),
        ("ix_events_object", ["object_id", "action", "event_time", "actor_id"]),
        ("ix_events_event_time", ["event_time"]),
        ("ix_events_event_key", ["event_key"]),
    ):
        op.create_index(name, "events", columns)


class _Terms:
    """Strings to ids, numbered from 1 in first-seen order, inserted as they appear."""

    def __init__(self, connection: sa.Connection, table: sa.Table) -> None:
        self.connection = connection
        self.table = table
        self.ids: dict[str, int] = {}
        self.pending: list[dict[str, Any]] = []

    def id(self, value: str | None) -> int | None:
        if value is None:
            return None
        found = self.ids.get(value)
        if found is None:
            found = self.ids[value] = len(self.ids) + 1
            self.pending.append({"id": found, "text": value})
        return found

    def flush(self) -> None:
        if self.pending:
            self.connection.execute(sa.insert(self.table), self.pending)
            self.pending = []


def _event_key(event_id: str | None) -> int | None:
    if event_id is None:
        return None
    digest = hashlib.blake2b(event_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _compress(compressor: Any, raw: str) -> bytes:
    return compressor.compress(raw.encode("utf-8"), zstd.ZstdCompressor.FLUSH_FRAME)


def _copy_events(
    connection: sa.Connection, compressor: Any, terms_table: sa.Table, new_events: sa.Table
) -> None:
    terms = _Terms(connection, terms_table)
    after = 0
    while (
        rows := connection.execute(
            sa.select(OLD_EVENTS)
            .where(OLD_EVENTS.c.position > after)
            .order_by("position")
            .limit(CHUNK)
        )
        .mappings()
        .all()
    ):
        converted = []
        for row in rows:
            item = {name: terms.id(row[name]) for name in TERM_COLUMNS}
            item.update(
                position=row["position"],
                event_key=_event_key(row["event_id"]),
                content_hash=bytes.fromhex(row["content_hash"]),
                event_time=row["event_time"],
                received_at=row["received_at"],
                codec=CODEC,
                raw=_compress(compressor, row["raw"]),
            )
            converted.append(item)
        terms.flush()
        connection.execute(sa.insert(new_events), converted)
        after = rows[-1]["position"]


def _recompress(
    connection: sa.Connection, compressor: Any, name: str, extra: tuple[str, ...]
) -> None:
    """entity_descriptions / rejected_items: the same rows, hashes as bytes, raw zstd."""
    old = sa.table(
        name, *(sa.column(c) for c in ("row_id", "content_hash", "received_at", "raw", *extra))
    )
    rows = connection.execute(sa.select(old).order_by(old.c.row_id)).mappings().all()
    op.drop_table(name)
    new = op.create_table(
        name,
        sa.Column("row_id", sa.Integer, primary_key=True),
        sa.Column("content_hash", sa.LargeBinary, nullable=False, unique=True),
        *(
            sa.Column(column, sa.Text, nullable=False)
            for column in (("entity_id", "entity_type") if "entity_id" in extra else ())
        ),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        *(
            sa.Column(column, sa.Text, nullable=False)
            for column in extra
            if column not in ("entity_id", "entity_type")
        ),
        sa.Column("codec", sa.SmallInteger, nullable=False),
        sa.Column("raw", sa.LargeBinary, nullable=False),
    )
    for start in range(0, len(rows), CHUNK):
        connection.execute(
            sa.insert(new),
            [
                {
                    **{column: row[column] for column in ("row_id", "received_at", *extra)},
                    "content_hash": bytes.fromhex(row["content_hash"]),
                    "codec": CODEC,
                    "raw": _compress(compressor, row["raw"]),
                }
                for row in rows[start : start + CHUNK]
            ],
        )
    if rows and connection.dialect.name == "postgresql":
        # Rows were copied with their ids: the serial goes on after the largest.
        sequence = f"pg_get_serial_sequence('{name}', 'row_id')"
        connection.execute(sa.text(f"SELECT setval({sequence}, max(row_id)) FROM {name}"))


def _create_entity_index() -> None:
    op.create_table(
        "event_entities",
        sa.Column("kind", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("entity_key", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("event_time", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("course_id", sa.Integer, nullable=True),
        sa.Column("alt_key", sa.Integer, nullable=True),
        sa.Column("carries", sa.SmallInteger, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_event_entities_course",
        "event_entities",
        ["course_id", "kind", "event_time", "position"],
        sqlite_where=sa.text(COURSE_INDEXED_PREDICATE),
        postgresql_where=sa.text(COURSE_INDEXED_PREDICATE),
    )
    op.create_index(
        "ix_event_entities_alt_key",
        "event_entities",
        ["kind", "alt_key", "entity_key"],
        sqlite_where=sa.text("alt_key IS NOT NULL"),
        postgresql_where=sa.text("alt_key IS NOT NULL"),
    )
    op.create_index("ix_event_entities_position", "event_entities", ["position"])


def _create_course_numbers() -> None:
    op.create_table(
        "course_numbers",
        sa.Column("course_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("course_iri", BYTE_ORDER_TEXT, nullable=False),
        sa.Column("course_number", BYTE_ORDER_TEXT, nullable=False),
        sa.Column("number_time", sa.BigInteger, nullable=True),
        sa.Column("number_position", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_course_numbers_order", "course_numbers", ["course_number", "course_iri"])
