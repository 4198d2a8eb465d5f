"""The console script as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.cli import is_loopback
from app.settings import REPO_ROOT
from store.schema import head_revision
from tests.conftest import free_port, run_cli


def test_schema_prints_the_exported_sdl() -> None:
    done = run_cli("schema")
    assert done.returncode == 0
    assert done.stdout == (REPO_ROOT / "graphql" / "schema.graphql").read_text()
    assert "type Query {" in done.stdout and "scalar DateTime" in done.stdout


def test_usage_errors_exit_2() -> None:
    assert run_cli("frobnicate").returncode == 2
    assert run_cli("ingest").returncode == 2
    assert run_cli("serve", "--port", "not-a-number").returncode == 2


def test_db_upgrade_on_an_empty_database_then_again(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    first = run_cli("db", "upgrade", database_url=url)
    head = head_revision()
    assert first.returncode == 0 and f"from empty to {head}" in first.stderr
    again = run_cli("db", "upgrade", database_url=url)
    assert again.returncode == 0 and f"up to date (revision {head})" in again.stderr


# --- serve's start-up checks -------------------------------------------------------------


def _without_access_settings() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("COURSEGRAPH_")}
    env["COURSEGRAPH_SHARED_DIR"] = os.environ.get("COURSEGRAPH_SHARED_DIR", "")
    return env


def _serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", *args],
        env={
            **_without_access_settings(),
            "COURSEGRAPH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,  # no .env file of the checkout
    )


@pytest.mark.parametrize("value", [",", " ", "a,,b"])
def test_serve_refuses_an_empty_token_in_one_line(tmp_path: Path, value: str) -> None:
    done = _serve(tmp_path, COURSEGRAPH_API_TOKENS=value)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "COURSEGRAPH_API_TOKENS" in line and "empty token" in line
    assert "pydantic" not in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "serve.db").exists()  # refused before anything was opened


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "203.0.113.7", "coursegraph.example.edu"])
def test_serve_refuses_a_public_address_without_api_tokens(tmp_path: Path, host: str) -> None:
    done = _serve(tmp_path, "--host", host)
    assert done.returncode == 2
    assert "COURSEGRAPH_API_TOKENS" in done.stderr
    assert "--allow-anonymous" in done.stderr and "COURSEGRAPH_ALLOW_ANONYMOUS" in done.stderr
    assert "Traceback" not in done.stderr


def test_loopback_addresses() -> None:
    for host in ("127.0.0.1", "127.0.1.1", "localhost", "::1", "[::1]"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "", "10.0.0.1", "localhost.example", "example.org"):
        assert not is_loopback(host), host


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("--allow-anonymous",), {}),
        ((), {"COURSEGRAPH_ALLOW_ANONYMOUS": "true"}),
        ((), {"COURSEGRAPH_API_TOKENS": "a-long-api-token"}),
    ],
)
def test_serve_on_a_public_address_when_told_or_with_tokens(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str]
) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--host", "0.0.0.0", "--port", str(port), *args],
        env={
            **_without_access_settings(),
            "COURSEGRAPH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
            **env,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        health = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert health is not None and health.status_code == 200
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    warned = "WARNING" in stderr and "without COURSEGRAPH_API_TOKENS" in stderr
    assert warned == ("COURSEGRAPH_API_TOKENS" not in env)
