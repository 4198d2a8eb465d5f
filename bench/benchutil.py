"""What both benchmarks share: result tables, percentiles, timed child processes with
their peak RSS, throwaway PostgreSQL databases, and serving an app on a free port."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
OUT_DIR = BENCH_DIR / "out"
VENV_BIN = Path(sys.executable).parent


def coursegraph_exe() -> str:
    found = VENV_BIN / "coursegraph"
    return str(found) if found.exists() else shutil.which("coursegraph") or "coursegraph"


# --- results --------------------------------------------------------------------------


@dataclass
class Row:
    what: str
    value: str
    target: str = ""
    ok: bool | None = None  # None: no target

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else ("PASS" if self.ok else "MISS")


def print_table(title: str, rows: Sequence[Row]) -> None:
    widths = [
        max(len(r.what) for r in rows),
        max(len(r.value) for r in rows),
        max(len(r.target) for r in rows),
    ]
    print(f"\n{title}")
    print("-" * (sum(widths) + 14))
    for r in rows:
        print(
            f"{r.what:<{widths[0]}}  {r.value:>{widths[1]}}  {r.target:<{widths[2]}}  {r.verdict}"
        )
    print("-" * (sum(widths) + 14))


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def p50(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def fmt_rate(per_second: float) -> str:
    return f"{per_second:,.0f}/s"


def fmt_mb(kilobytes: float) -> str:
    return f"{kilobytes / 1024:.0f} MB"


def machine_line() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{os.cpu_count()} cores, load {load:.2f}, python {sys.version.split()[0]}"


# --- child processes --------------------------------------------------------------------


@dataclass
class ChildRun:
    seconds: float
    max_rss_kb: int
    returncode: int
    stdout: str
    stderr: str
    # What the child caused to be written to storage (/proc/<pid>/io write_bytes), read
    # before it is reaped; None where /proc does not say.
    write_bytes: int | None = None
    cpu_seconds: float = 0.0  # user + system: steadier than wall time on a busy machine


def _io_write_bytes(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/io") as io:
            for line in io:
                if line.startswith("write_bytes:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def run_child(
    argv: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> ChildRun:
    """Run a command to the end: wall time, the peak RSS of that child alone (wait4 gives
    its own rusage, unlike RUSAGE_CHILDREN's running maximum) and the bytes it wrote
    (its /proc io, read while it is a zombie: waitid with WNOWAIT leaves it unreaped)."""
    out_path = OUT_DIR / f".child-{uuid.uuid4().hex}.out"
    err_path = out_path.with_suffix(".err")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        child = subprocess.Popen(list(argv), stdout=out, stderr=err, env=env, cwd=cwd)
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
        write_bytes = _io_write_bytes(child.pid)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
    stdout = out_path.read_text(errors="replace")
    stderr = err_path.read_text(errors="replace")
    out_path.unlink()
    err_path.unlink()
    cpu = usage.ru_utime + usage.ru_stime
    return ChildRun(seconds, usage.ru_maxrss, child.returncode, stdout, stderr, write_bytes, cpu)


def env_with(**values: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(values)
    return env


# --- databases --------------------------------------------------------------------------


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _pg_params(url: str) -> dict[str, object]:
    parsed = make_url(url)
    return {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": parsed.username or "postgres",
        "password": parsed.password,
    }


def pg_url_for(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


async def pg_create(url: str, name: str | None = None) -> str:
    """A new, empty database beside the one the URL names; returns its URL."""
    import asyncpg

    name = name or f"coursegraph_bench_{uuid.uuid4().hex[:10]}"
    connection = await asyncpg.connect(database="postgres", **_pg_params(url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return pg_url_for(url, name)


async def pg_exists(url: str, name: str) -> bool:
    import asyncpg

    connection = await asyncpg.connect(database="postgres", **_pg_params(url))
    try:
        return bool(await connection.fetchval("SELECT 1 FROM pg_database WHERE datname=$1", name))
    finally:
        await connection.close()


async def pg_drop(url: str) -> None:
    import asyncpg

    name = make_url(url).database
    connection = await asyncpg.connect(database="postgres", **_pg_params(url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def pg_connect(url: str):
    import asyncpg

    return await asyncpg.connect(database=make_url(url).database, **_pg_params(url))


# --- serving ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


@contextlib.contextmanager
def serving(argv: Sequence[str], health_url: str, env: dict[str, str]) -> Iterator[int]:
    """Start a server process, wait until health_url answers 200, stop it afterwards."""
    log = open(OUT_DIR / f".server-{uuid.uuid4().hex}.log", "wb")  # noqa: SIM115
    child = subprocess.Popen(list(argv), env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        try:
            wait_http(health_url)
        except RuntimeError:
            child.terminate()
            log.close()
            print(Path(log.name).read_text()[-3000:], file=sys.stderr)
            raise
        yield child.pid
    finally:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        log.close()
        Path(log.name).unlink(missing_ok=True)
