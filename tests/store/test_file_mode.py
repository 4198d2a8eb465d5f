"""The SQLite database holds students' grades: its files are created readable by their
owner only, whatever the umask, and an existing file's mode is left as it is."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.factories import envelope, grade_event
from tests.conftest import INGEST_TOKEN, LiveServer, make_settings


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # the common default: new files world-readable
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _store_an_event(path: Path) -> dict[str, int]:
    """The modes of the database's files while the server has it open (-wal and -shm
    exist only then), after storing an event through /caliper."""
    with LiveServer(make_settings(f"sqlite+aiosqlite:///{path}")) as server:
        event = grade_event(
            "mode", "MODE-101", "_i1_1", "_a1_1", "s1", 1.0, "2026-04-01T10:00:00.000Z"
        )
        answer = httpx.post(
            f"{server.url}/caliper",
            json=envelope([event]),
            headers={"authorization": INGEST_TOKEN},
        )
        assert answer.json()["appended"] == 1
        return {suffix: _mode(Path(f"{path}{suffix}")) for suffix in ("", "-wal", "-shm")}


def test_a_new_database_is_created_0600(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "data" / "coursegraph.db"  # its folder is created too
    assert _store_an_event(path) == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
    assert _mode(path) == 0o600


def test_an_existing_file_keeps_its_mode(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "coursegraph.db"
    path.touch()
    os.chmod(path, 0o640)  # e.g. readable by a backup group, on purpose
    # Neither loosened nor tightened; SQLite gives -wal and -shm the file's own mode.
    assert _store_an_event(path) == {"": 0o640, "-wal": 0o640, "-shm": 0o640}
