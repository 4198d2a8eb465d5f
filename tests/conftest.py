"""Shared fixtures: real SQLite files, a real PostgreSQL database per test when
COURSEGRAPH_TEST_POSTGRES_URL is set, the app over HTTP, and the shared samples."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy.engine import make_url

from app.main import create_app
from app.settings import REPO_ROOT, Settings
from app.startup import open_ready_store
from store.db import Store
from tests.browser import browser, installed_assets  # noqa: F401 - the browser tests' fixtures

INGEST_TOKEN = "test-ingest-token"
POSTGRES_ENV = "COURSEGRAPH_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgresql"]


def run_cli(
    *args: str, database_url: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`coursegraph ARGS` in a child process, as a user runs it."""
    env = dict(os.environ)
    if database_url is not None:
        env["COURSEGRAPH_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def shared_dir() -> Path:
    return Path(os.environ.get("COURSEGRAPH_SHARED_DIR", REPO_ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    folder = shared_dir() / "caliper-samples" / "blackboard"
    if not folder.is_dir():
        pytest.skip(
            f"the Blackboard samples are not at {folder}: set COURSEGRAPH_SHARED_DIR "
            "to the shared folder that holds caliper-samples/"
        )
    return folder


@pytest.fixture(scope="session")
def contract_dir() -> Path:
    folder = shared_dir() / "contract"
    if not folder.is_dir():
        pytest.skip(f"the contract is not at {folder}: set COURSEGRAPH_SHARED_DIR")
    return folder


async def _admin_execute(base_url: str, statement: str) -> None:
    """One statement on the server's base database (CREATE / DROP DATABASE)."""
    import asyncpg

    url = make_url(base_url)
    connection = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database=url.database or "postgres",
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _create_postgres_database(base_url: str) -> str:
    name = f"coursegraph_test_{uuid.uuid4().hex[:12]}"
    await _admin_execute(base_url, f'CREATE DATABASE "{name}"')
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


async def _drop_postgres_database(base_url: str, test_url: str) -> None:
    name = make_url(test_url).database
    await _admin_execute(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_base_url() -> str:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(
            f"PostgreSQL tests need {POSTGRES_ENV} "
            "(e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test); .ci/run sets it"
        )
    return base


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'coursegraph.db'}"
        return
    base = postgres_base_url()
    url = asyncio.run(_create_postgres_database(base))
    try:
        yield url
    finally:
        asyncio.run(_drop_postgres_database(base, url))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'coursegraph.db'}"


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    opened = await open_ready_store(database_url)
    try:
        yield opened
    finally:
        await opened.close()


# In-process clients (httpx's ASGITransport, Starlette's TestClient) send this Host.
TEST_HOSTS = ("localhost", "127.0.0.1", "[::1]", "testserver")


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "ingest_tokens": (INGEST_TOKEN,),
        "allowed_hosts": TEST_HOSTS,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app, through its lifespan, over in-process HTTP."""
    app = create_app(make_settings(database_url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """The real app under uvicorn on a free loopback port, in a thread."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(database_url: str) -> Iterator[LiveServer]:
    with LiveServer(make_settings(database_url)) as server:
        yield server
