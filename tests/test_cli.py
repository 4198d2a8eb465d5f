"""The console script as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.settings import REPO_ROOT


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_schema_prints_the_exported_sdl() -> None:
    done = _run("schema")
    assert done.returncode == 0
    assert done.stdout == (REPO_ROOT / "graphql" / "schema.graphql").read_text()
    assert "type Query {" in done.stdout and "scalar DateTime" in done.stdout


def test_usage_errors_exit_2() -> None:
    assert _run("frobnicate").returncode == 2
    assert _run("ingest").returncode == 2
    assert _run("serve", "--port", "not-a-number").returncode == 2


def test_db_upgrade_on_an_empty_database_then_again(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    first = _run("db", "upgrade", COURSEGRAPH_DATABASE_URL=url)
    assert first.returncode == 0 and "from empty to 0002" in first.stderr
    again = _run("db", "upgrade", COURSEGRAPH_DATABASE_URL=url)
    assert again.returncode == 0 and "up to date (revision 0002)" in again.stderr
