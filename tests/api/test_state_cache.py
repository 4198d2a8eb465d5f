"""The state cache: bounded by estimated bytes, and never stale — not when another
process appends (`coursegraph ingest` beside a served app), nor when the database is
replaced under the same URL (a SQLite file moved over the old path; a PostgreSQL
database dropped and made again). Real servers under uvicorn, real files and databases."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy.engine import make_url

from app.api.state_cache import ByteLRU, StateCache, estimate_bytes
from app.settings import Settings
from tests.api.factories import envelope, group_event
from tests.conftest import (
    INGEST_TOKEN,
    LiveServer,
    _admin_execute,
    make_settings,
    postgres_base_url,
    run_cli,
)

COURSE = "BIO-101"
INGEST = {"authorization": f"Bearer {INGEST_TOKEN}"}
GROUPS = (
    "query Groups($n: String!) "
    "{ course(courseNumber: $n) { groups { totalCount nodes { id name } } } }"
)


def group_names(server: LiveServer) -> list[str]:
    answer = httpx.post(
        f"{server.url}/graphql", json={"query": GROUPS, "variables": {"n": COURSE}}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body
    return [node["name"] for node in body["data"]["course"]["groups"]["nodes"]]


def write_events(
    path: Path, names: list[str], start_minute: int = 0, external_id: str | None = None
) -> Path:
    """One CourseGroupEvent a group, one a line, as `coursegraph ingest` reads them; the
    instructor who sends them may carry another externalId."""
    events = [
        group_event(
            "c1",
            COURSE,
            f"g{start_minute + i}",
            name,
            ["m1"],
            f"2026-09-01T10:{start_minute + i:02d}:00.000Z",
        )
        for i, name in enumerate(names)
    ]
    if external_id is not None:
        for event in events:
            for node in (event["actor"], event["membership"]["member"]):
                node["extensions"]["bb:user.externalId"] = external_id
    path.write_bytes(b"\n".join(orjson.dumps(event) for event in events) + b"\n")
    return path


def ingest(path: Path, database_url: str) -> None:
    result = run_cli("ingest", str(path), database_url=database_url)
    assert result.returncode == 0, result.stdout + result.stderr


def instructor_external_id(server: LiveServer) -> str:
    query = '{ person(userId: "_instructor_1") { externalId } }'
    answer = httpx.post(f"{server.url}/graphql", json={"query": query}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]["person"]["externalId"]


def state_cache(server: LiveServer) -> StateCache:
    return server.server.config.app.state.state_cache


# --- the bound -------------------------------------------------------------------------


def test_the_cache_holds_at_most_its_bytes_and_drops_the_least_recently_used() -> None:
    value = [("x" * 100, i) for i in range(50)]
    size = estimate_bytes(("k", 0)) + estimate_bytes(value)
    cache = ByteLRU(max_bytes=size * 4 + size // 2)  # room for four
    for key in range(4):
        cache.put(("k", key), 1, value)
    assert cache.get(("k", 0), 1) is value  # 0 is now the most recent
    cache.put(("k", 4), 1, value)
    assert len(cache) == 4 and cache.bytes <= cache.max_bytes
    assert cache.get(("k", 1), 1) is None  # the least recently used went
    assert cache.get(("k", 0), 1) is value
    assert cache.evictions == 1
    assert (cache.hits, cache.misses) == (2, 1)


def test_large_course_folds_never_evict_the_small_entity_states() -> None:
    cache = StateCache(max_bytes=400_000)
    cache.entities.put(("db", "summary:person", "p1", None), 1, "a person's state")
    for course in range(100):
        cache.courses.put(("db", "course", course), 1, ["x" * 1_000] * 40)
    assert cache.entities.get(("db", "summary:person", "p1", None), 1) == "a person's state"
    assert cache.courses.evictions > 0
    assert cache.bytes <= cache.max_bytes


def test_a_value_is_served_only_at_its_own_stamp() -> None:
    cache = ByteLRU(max_bytes=1_000_000)
    cache.put(("k",), 7, "folded at 7")
    assert cache.get(("k",), 8) is None
    assert cache.get(("k",), 7) == "folded at 7"
    assert cache.latest(("k",)) == (7, "folded at 7")


def test_a_present_value_computed_before_a_newer_check_is_not_kept() -> None:
    cache = ByteLRU(max_bytes=1_000_000)
    namespace = ("db", "summary:person")
    cache.catch_up(namespace, 10, None)
    cache.put_current(namespace, "p1", 10, "as of 10")
    cache.put_current(namespace, "p2", 10, "as of 10")
    # Another operation saw position 12 and the rows since 10 touched p1.
    cache.catch_up(namespace, 12, ["p1"])
    assert cache.get_current(namespace, "p1") is None
    assert cache.get_current(namespace, "p2") == "as of 10"
    cache.put_current(namespace, "p1", 10, "folded from 10: may miss what 11-12 changed")
    assert cache.get_current(namespace, "p1") is None
    cache.put_current(namespace, "p1", 12, "as of 12")
    assert cache.get_current(namespace, "p1") == "as of 12"


def test_a_value_larger_than_the_bound_is_not_kept_and_a_large_one_evicts_the_rest() -> None:
    cache = ByteLRU(max_bytes=10_000)
    cache.put(("small",), 1, "s")
    cache.put(("too big",), 1, ["y" * 10_000])
    assert len(cache) == 1 and cache.get(("small",), 1) == "s"
    cache.put(("large",), 1, ["y" * 9_700])
    assert len(cache) == 1 and cache.get(("large",), 1) is not None
    assert cache.bytes <= cache.max_bytes


def test_the_estimate_of_a_long_list_scales_a_sample_of_its_items() -> None:
    item = ("z" * 200, 1.5)
    many = [item] * 10_000
    assert estimate_bytes(item) == sys.getsizeof(item) + sys.getsizeof(item[0]) + 24
    assert estimate_bytes(many) == sys.getsizeof(many) + 10_000 * estimate_bytes(item)


def test_the_cache_bound_is_a_setting_named_in_its_error() -> None:
    assert Settings(_env_file=None).cache_bytes > 0  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="COURSEGRAPH_CACHE_BYTES must be above 0"):
        Settings(_env_file=None, cache_bytes=0)  # type: ignore[call-arg]


# --- never stale -----------------------------------------------------------------------


def test_events_another_process_appends_are_in_the_next_answer(
    database_url: str, tmp_path: Path
) -> None:
    ingest(write_events(tmp_path / "first.jsonl", ["Lab A"]), database_url)
    with LiveServer(make_settings(database_url)) as server:
        assert group_names(server) == ["Lab A"]
        assert group_names(server) == ["Lab A"]  # now from the cache
        hits = state_cache(server).hits
        assert hits > 0
        ingest(write_events(tmp_path / "more.jsonl", ["Lab B"], start_minute=5), database_url)
        assert group_names(server) == ["Lab A", "Lab B"]


def test_a_person_another_process_changes_is_read_anew(database_url: str, tmp_path: Path) -> None:
    ingest(write_events(tmp_path / "first.jsonl", ["Lab A"]), database_url)
    with LiveServer(make_settings(database_url)) as server:
        assert instructor_external_id(server) == "ext-instructor"
        hits = state_cache(server).hits
        assert instructor_external_id(server) == "ext-instructor"
        assert state_cache(server).hits > hits  # the person's state came from the cache
        renamed = write_events(tmp_path / "more.jsonl", ["Lab B"], 5, external_id="ext-new")
        ingest(renamed, database_url)
        assert instructor_external_id(server) == "ext-new"


def test_a_sqlite_file_moved_over_the_served_one_is_read_at_once(tmp_path: Path) -> None:
    served = tmp_path / "coursegraph.db"
    served_url = f"sqlite+aiosqlite:///{served}"
    ingest(write_events(tmp_path / "old.jsonl", ["Old name"]), served_url)
    # The replacement holds as many events (the same positions): only the file tells.
    replacement = tmp_path / "replacement.db"
    ingest(write_events(tmp_path / "new.jsonl", ["New name"]), f"sqlite+aiosqlite:///{replacement}")
    assert not Path(f"{replacement}-wal").exists() or Path(f"{replacement}-wal").stat().st_size == 0
    with LiveServer(make_settings(served_url)) as server:
        assert group_names(server) == ["Old name"]
        assert group_names(server) == ["Old name"]
        os.replace(replacement, served)
        # The first thing after the move is an append: it goes to the new file.
        sent = group_event("c1", COURSE, "g9", "Sent", ["m1"], "2026-09-01T11:00:00.000Z")
        posted = httpx.post(
            f"{server.url}/caliper", json=envelope([sent]), headers=INGEST, timeout=30
        )
        assert posted.status_code == 200 and posted.json()["appended"] == 1, posted.text
        assert group_names(server) == ["New name", "Sent"]
        assert group_names(server) == ["New name", "Sent"]
    with sqlite3.connect(served) as connection:
        assert connection.execute("SELECT count(*) FROM events").fetchone() == (2,)


def test_a_postgresql_database_dropped_and_made_again_is_read_at_once(tmp_path: Path) -> None:
    base = postgres_base_url()
    name = f"coursegraph_test_replaced_{os.getpid()}"
    url = make_url(base).set(database=name).render_as_string(hide_password=False)

    def remake() -> None:
        asyncio.run(_admin_execute(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        asyncio.run(_admin_execute(base, f'CREATE DATABASE "{name}"'))

    remake()
    try:
        ingest(write_events(tmp_path / "old.jsonl", ["Old name"]), url)
        with LiveServer(make_settings(url)) as server:
            assert group_names(server) == ["Old name"]
            assert group_names(server) == ["Old name"]
            remake()
            # As many events as before (the same positions): only the database's oid tells.
            ingest(write_events(tmp_path / "new.jsonl", ["New name"]), url)
            assert group_names(server) == ["New name"]
            assert group_names(server) == ["New name"]
    finally:
        asyncio.run(_admin_execute(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_metrics_show_the_state_cache(database_url: str, tmp_path: Path) -> None:
    ingest(write_events(tmp_path / "first.jsonl", ["Lab A"]), database_url)
    with LiveServer(make_settings(database_url)) as server:
        group_names(server)
        group_names(server)
        cache = state_cache(server)
        text = httpx.get(f"{server.url}/metrics").text
        samples: dict[str, Any] = {}
        for line in text.splitlines():
            if line.startswith("coursegraph_state_cache_"):
                metric, number = line.rsplit(" ", 1)
                samples[metric] = float(number)
        assert samples["coursegraph_state_cache_hits_total"] == cache.hits > 0
        assert samples["coursegraph_state_cache_misses_total"] == cache.misses > 0
        assert samples["coursegraph_state_cache_bytes"] == cache.bytes > 0
        assert samples["coursegraph_state_cache_entries"] == len(cache) > 0
