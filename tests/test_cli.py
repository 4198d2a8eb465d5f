"""The console script as a user runs it."""

from __future__ import annotations

from pathlib import Path

from app.settings import REPO_ROOT
from store.schema import head_revision
from tests.conftest import run_cli


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
