"""/healthz proves the database takes a read and a write: a full disk, a read-only file
system or a read-only PostgreSQL database answer 503 with a reason and Retry-After."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import LiveServer, _admin_execute, make_settings, postgres_base_url

# What must never reach a client: exception class names and driver text.
LEAKS = re.compile(r"Error|Exception|sqlite3|asyncpg|sqlalchemy|Traceback|SELECT|UPDATE")


def _health(server: LiveServer) -> httpx.Response:
    return httpx.get(f"{server.url}/healthz", timeout=30)


def _assert_unavailable(answer: httpx.Response, reason: str) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert int(answer.headers["retry-after"]) > 0
    assert reason in answer.json()["detail"], answer.json()
    assert not LEAKS.search(answer.text), answer.text


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB file system of its own (tmpfs; needs root)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    with filler.open("wb") as file:
        try:
            while True:
                file.write(b"\0" * 1_048_576)
                file.flush()
        except OSError:
            pass
    return filler


def test_sqlite_full_disk(small_disk: Path) -> None:
    url = f"sqlite+aiosqlite:///{small_disk / 'coursegraph.db'}"
    settings = make_settings(url, health_min_free_bytes=1_048_576)
    with LiveServer(settings) as server:
        assert _health(server).json() == {"status": "ok"}

        filler = _fill(small_disk)
        _assert_unavailable(_health(server), "disk is full")
        filler.unlink()
        assert _health(server).status_code == 200


def test_sqlite_write_lock_held_past_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "coursegraph.db"
    settings = make_settings(f"sqlite+aiosqlite:///{path}", health_timeout=1.0)
    with LiveServer(settings) as server:
        assert _health(server).status_code == 200
        # Another process's writer holds the database's write lock.
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            started = time.monotonic()
            _assert_unavailable(_health(server), "COURSEGRAPH_HEALTH_TIMEOUT=1 s")
            assert time.monotonic() - started < 5
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert _health(server).status_code == 200


def test_postgresql_read_only_database(tmp_path: Path) -> None:
    base = postgres_base_url()
    from tests.conftest import _create_postgres_database, _drop_postgres_database

    url = asyncio.run(_create_postgres_database(base))
    name = make_url(url).database
    try:
        with LiveServer(make_settings(url)) as server:
            assert _health(server).json() == {"status": "ok"}
            # New sessions start read-only; end the pool's current ones.
            asyncio.run(
                _admin_execute(
                    base, f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'
                )
            )
            asyncio.run(
                _admin_execute(
                    base,
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{name}' AND pid <> pg_backend_pid()",
                )
            )
            _assert_unavailable(_health(server), "cannot be written")
            # A dropped database: a reason, no driver text.
            asyncio.run(_drop_postgres_database(base, url))
            _assert_unavailable(_health(server), "cannot be")
    finally:
        asyncio.run(_drop_postgres_database(base, url))


def test_health_is_ok_on_a_working_database(database_url: str) -> None:
    with LiveServer(make_settings(database_url)) as server:
        answer = _health(server)
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}
