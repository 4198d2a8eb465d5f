"""`make demo` from a fresh clone: a new venv, the install, GraphiQL's assets where npm
is, the seed, and a server answering GraphQL about the demo semester.

This is the README's first promise, checked the way a newcomer meets it: a `git clone` of
the committed HEAD (uncommitted work is not part of it) in a temporary folder, with none of
this shell's COURSEGRAPH_* settings but the shared folder's, on a free port.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from app.settings import REPO_ROOT
from tests.conftest import free_port
from tests.processes import stop_process_group

pytestmark = pytest.mark.slow

# A venv and a pip install from nothing take a minute or two; npm ci some seconds.
BUDGET_SECONDS = 600.0
ARTIFACTS = REPO_ROOT / "test-artifacts"
COURSES = "{ courses(first: 5) { totalCount nodes { courseNumber name } } }"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"`make demo` from a fresh clone needs {name}, which is not installed")
    return found


def _clone(into: Path) -> Path:
    git = _tool("git")
    if not (REPO_ROOT / ".git").exists():
        pytest.skip(f"{REPO_ROOT} is not a git checkout: there is no HEAD to clone")
    clone = into / "coursegraph"
    subprocess.run(
        [git, "clone", "--quiet", str(REPO_ROOT), str(clone)],
        check=True,
        timeout=120,
        capture_output=True,
    )
    return clone


def _demo_environment() -> dict[str, str]:
    """This shell's environment without what would point the clone elsewhere: its settings
    (a database URL, API tokens), a Python path into this checkout, an outer make's flags."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("COURSEGRAPH_") or name == "COURSEGRAPH_SHARED_DIR"
    }
    for name in ("PYTHONPATH", "VIRTUAL_ENV", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PORT"):
        environment.pop(name, None)
    return environment


def check_demo(folder: Path, log_path: Path) -> None:
    """Runs `make demo` in folder and checks what it serves; the output goes to log_path."""
    make = _tool("make")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [make, "demo", f"PORT={port}"],
            cwd=folder,
            env=_demo_environment(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stopping it reaches the server too
        )

    def output() -> str:
        return log_path.read_text(errors="replace")[-4000:]

    # No proxy from the environment between us and the loopback server.
    with httpx.Client(base_url=base, trust_env=False, timeout=10) as http:
        try:
            started = time.monotonic()
            while True:
                if process.poll() is not None:
                    pytest.fail(f"`make demo` exited {process.returncode}:\n{output()}")
                if time.monotonic() - started > BUDGET_SECONDS:
                    pytest.fail(
                        f"`make demo` did not serve within {BUDGET_SECONDS:.0f} s:\n{output()}"
                    )
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass  # still installing or seeding: nothing listens yet
                time.sleep(1)

            answer = http.post("/graphql", json={"query": COURSES})
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert "errors" not in body, body
            courses = body["data"]["courses"]
            assert courses["totalCount"] > 0, f"the demo store has no courses:\n{output()}"
            assert all(course["courseNumber"] for course in courses["nodes"]), courses

            page = http.get("/graphql", headers={"Accept": "text/html"})
            assert page.status_code == 200
            assert "GraphiQL" in page.text
            assert f"http://127.0.0.1:{port}/graphql" in output()  # the address it printed
        finally:
            stop_process_group(process, grace_seconds=20)


def test_make_demo_from_a_fresh_clone(tmp_path: Path) -> None:
    clone = _clone(tmp_path)
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / "make-demo.log"  # kept for CI: what make printed, pass or fail

    check_demo(clone, log_path)
