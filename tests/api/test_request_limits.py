"""GraphQL request limits against the demo semester under uvicorn: the attacks are refused
before they run (bounded in time and memory, /healthz answering meanwhile), the
operations frontends send pass, and the time budget stops a slow request."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.api.context import forget_cached_state
from app.api.limits import Limits, cost_of, refusal
from app.api.schema import SCHEMA
from app.seeding import seed_store
from app.settings import REPO_ROOT, Settings
from app.startup import open_ready_store
from graphql import get_introspection_query, parse
from tests.conftest import LiveServer, make_settings, shared_dir

COURSE = "BIO-101-F26"
OWN_OPERATIONS = sorted((REPO_ROOT / "graphql" / "operations").glob("*.graphql"))


@pytest.fixture(scope="module")
def semester_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('semester') / 'coursegraph.db'}"

    async def seed() -> None:
        store = await open_ready_store(url)
        try:
            await seed_store(store)
        finally:
            await store.close()

    asyncio.run(seed())
    return url


@pytest.fixture(scope="module")
def semester_server(semester_url: str) -> Iterator[LiveServer]:
    with LiveServer(make_settings(semester_url)) as server:
        yield server


def rss_bytes() -> int:
    """This process's resident set: the server runs in it, in a thread."""
    text = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", text).group(1)) * 1024  # type: ignore[union-attr]


def _nest(levels: int, first: int) -> str:
    inner = "id"
    for _ in range(levels):
        inner = f"attempts(first: {first}) {{ nodes {{ course {{ {inner} }} }} }}"
    return f'{{ course(courseNumber: "{COURSE}") {{ {inner} }} }}'


THREE_DEEP = (
    '{course(courseNumber:"BIO-101-F26"){attempts(first:1000){nodes{course{attempts(first:1000)'
    "{nodes{course{attempts(first:1000){nodes{id}}}}}}}}}}"
)
RAW_UNDER_ATTEMPTS = (
    f'{{ course(courseNumber: "{COURSE}") {{ attempts(first: 50) {{ nodes {{ course {{ '
    "events { nodes { raw } } } } } } }"
)


def _aliases(count: int) -> str:
    return (
        "{ "
        + " ".join(
            f'a{i}: events(filter: {{actorId: "nobody-{i}"}}, first: 1) {{ totalCount }}'
            for i in range(count)
        )
        + " }"
    )


UNINDEXED_ALIASES = _aliases(1000)
SIX_HUNDRED_ALIASES = "{ " + " ".join(f"a{i}: __typename" for i in range(600)) + " }"
REPEATED_FIELDS = "{ " + "__typename " * 1000 + "}"
THIRTY_LEVELS = _nest(15, 1)  # 30 levels of fields, each page of one item
AS_OF_500 = (
    "{ "
    + " ".join(
        f'c{i}: course(courseNumber: "{COURSE}", asOf: "2026-09-01T00:00:{i % 60:02d}.{i:03d}Z") '
        "{ id }"
        for i in range(500)
    )
    + " }"
)
AS_OF_11 = (
    "{ "
    + " ".join(
        f'c{i}: course(courseNumber: "{COURSE}", asOf: "2026-09-{i + 1:02d}T00:00:00Z") {{ id }}'
        for i in range(11)
    )
    + " }"
)
TWO_MEGABYTES = "{ __typename }" + " " * 2_000_000
MANY_TOKENS = "{ " + "a " * 6_000 + "}"
FRAGMENT_BOMB = (
    "query { ...F0 } "
    + " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(20))
    + " fragment F20 on Query { __typename }"
)

ATTACKS = [
    ("three levels of first: 1000 (187 bytes)", THREE_DEEP, "COURSEGRAPH_MAX_QUERY_COST"),
    ("two levels of first: 1000", _nest(2, 1000), "COURSEGRAPH_MAX_QUERY_COST"),
    ("events { raw } under 50 attempts", RAW_UNDER_ATTEMPTS, "COURSEGRAPH_MAX_QUERY_COST"),
    ("1,000 aliases of an unindexed filter", UNINDEXED_ALIASES, "COURSEGRAPH_MAX_QUERY_CHARS"),
    ("40 aliases of an unindexed filter", _aliases(40), "COURSEGRAPH_MAX_QUERY_ALIASES"),
    ("600 aliases", SIX_HUNDRED_ALIASES, "COURSEGRAPH_MAX_QUERY_ALIASES"),
    ("1,000 repeated fields", REPEATED_FIELDS, "COURSEGRAPH_MAX_QUERY_ALIASES"),
    ("30 levels", THIRTY_LEVELS, "COURSEGRAPH_MAX_QUERY_DEPTH"),
    ("500 distinct asOf", AS_OF_500, "COURSEGRAPH_MAX_QUERY_TOKENS"),
    ("11 distinct asOf", AS_OF_11, "COURSEGRAPH_MAX_AS_OF_VALUES"),
    ("a 2 MB query text", TWO_MEGABYTES, "COURSEGRAPH_MAX_QUERY_CHARS"),
    ("6,000 tokens", MANY_TOKENS, "COURSEGRAPH_MAX_QUERY_TOKENS"),
    ("fragments spreading fragments", FRAGMENT_BOMB, "COURSEGRAPH_MAX_QUERY_COST"),
]


def test_three_deep_attack_is_the_issues_187_bytes() -> None:
    assert len(THREE_DEEP.encode()) <= 190


def test_attacks_are_refused_before_running(semester_server: LiveServer) -> None:
    asyncio.run(_attack(semester_server))


async def _attack(server: LiveServer) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        await http.get("/healthz")
        before = rss_bytes()
        for name, query, limit in ATTACKS:
            started = time.monotonic()
            attack = asyncio.create_task(http.post("/graphql", json={"query": query}))
            health_started = time.monotonic()
            health = await http.get("/healthz")
            health_seconds = time.monotonic() - health_started
            answer = await attack
            seconds = time.monotonic() - started
            assert health.status_code == 200, name
            assert health_seconds < 1.0, (name, health_seconds)
            assert seconds < 2.0, (name, seconds)
            body = answer.json()
            assert "data" not in body, (name, body)
            (error,) = body["errors"]
            assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX", (name, error)
            assert error["extensions"]["limit"] == limit, (name, error)
            value = getattr(settings, limit.removeprefix("COURSEGRAPH_").lower())
            assert error["extensions"]["limitValue"] == value
            assert limit in error["message"] and str(value) in error["message"], name
            assert len(answer.content) < 1_000, name
        grown = rss_bytes() - before
        assert grown < 60 * 2**20, f"the server grew by {grown / 2**20:.0f} MB"


def _variables_for(document: str, course_id: str) -> dict[str, Any]:
    """Realistic values for the operations' variables (the demo semester's)."""
    values = {
        "id": course_id,
        "courseNumber": COURSE,
        "at": "2026-10-01T00:00:00Z",
        "userId": "_1202_1",
        "since": "2026-09-01T00:00:00Z",
    }
    names = re.findall(r"\$(\w+)\s*:", document)
    return {name: values[name] for name in names if name in values}


def _operations() -> list[Path]:
    contract = shared_dir() / "contract" / "operations"
    return OWN_OPERATIONS + (sorted(contract.glob("*.graphql")) if contract.is_dir() else [])


@pytest.mark.parametrize("path", _operations(), ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_operation_passes_the_limits(semester_server: LiveServer, path: Path) -> None:
    document = path.read_text()
    found = httpx.post(
        f"{semester_server.url}/graphql",
        json={"query": f'{{ course(courseNumber: "{COURSE}") {{ id }} }}'},
        timeout=30,
    )
    variables = _variables_for(document, found.json()["data"]["course"]["id"])
    limits = Limits.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert refusal(parse(document), SCHEMA._schema, variables, limits) is None
    answer = httpx.post(
        f"{semester_server.url}/graphql",
        json={"query": document, "variables": variables},
        timeout=30,
    )
    assert answer.status_code == 200
    body = answer.json()
    assert "errors" not in body, body["errors"]
    assert body["data"]


def test_graphiql_introspection_passes_the_limits() -> None:
    limits = Limits.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    assert refusal(parse(query), SCHEMA._schema, {}, limits) is None


def test_cost_multiplies_pages_and_weighs_raw_events() -> None:
    schema = SCHEMA._schema
    one = cost_of(parse('{ course(courseNumber: "X") { attempts { nodes { id } } } }'), schema, {})
    nested = cost_of(parse(_nest(2, 100)), schema, {})
    assert one == 1 + 1 + 100
    assert nested > 100 * 100
    page = "query($n: Int) { events(first: $n) { nodes { position } } }"
    assert cost_of(parse(page), schema, {"n": 10}) == 1 + 10
    assert cost_of(parse(page), schema, {}) == 1 + 100  # the default page
    raw = cost_of(parse("{ events(first: 10) { nodes { raw } } }"), schema, {})
    assert raw == 1 + 10 + 10 * 20


def test_time_budget_stops_a_slow_request(semester_url: str) -> None:
    settings = make_settings(
        semester_url, max_query_cost=10**9, max_query_aliases=10**6, request_budget_seconds=0.5
    )
    slow = (
        "{ courses(first: 1000) { nodes { courseNumber events(first: 1000) { nodes { raw } } "
        "attempts(first: 1000) { nodes { history { scoreGiven } } } } } }"
    )
    with LiveServer(settings) as server:
        store = server.server.config.app.state.store
        forget_cached_state()
        started = time.monotonic()
        answer = httpx.post(
            f"{server.url}/graphql",
            json={"query": slow},
            headers={"accept": "application/graphql-response+json"},
            timeout=30,
        )
        seconds = time.monotonic() - started
        assert seconds < 2.0, seconds
        assert answer.status_code == 400
        (error,) = answer.json()["errors"]
        assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
        assert error["extensions"]["limit"] == "COURSEGRAPH_REQUEST_BUDGET_SECONDS"
        assert "0.5 s" in error["message"]
        assert wait_for_idle_pool(store) == 0
        after = httpx.post(f"{server.url}/graphql", json={"query": "{ courses { nodes { id } } }"})
        assert len(after.json()["data"]["courses"]["nodes"]) == 6


@pytest.mark.parametrize(
    "name", ["max_query_cost", "request_budget_seconds", "max_body_bytes", "ingest_batch_bytes"]
)
def test_limits_must_be_above_zero(name: str) -> None:
    with pytest.raises(ValueError, match=f"COURSEGRAPH_{name.upper()} must be above 0"):
        Settings(_env_file=None, **{name: 0})  # type: ignore[call-arg]


def many_unindexed_counts(aliases: int = 3000) -> str:
    """A query of thousands of small statements: slow on any store, even an empty one."""
    counts = " ".join(
        f'a{i}: events(filter: {{actorId: "x{i}"}}, first: 1) {{ totalCount }}'
        for i in range(aliases)
    )
    return "{ " + counts + " }"


def budget_settings(database_url: str, budget_seconds: float) -> Settings:
    """Settings under which many_unindexed_counts() passes every limit but the budget."""
    return make_settings(
        database_url,
        max_query_aliases=10**6,
        max_query_tokens=10**6,
        max_query_chars=10**7,
        max_query_cost=10**9,
        request_budget_seconds=budget_seconds,
    )


def wait_for_idle_pool(store: Any) -> int:
    """Connections still checked out of the reader's pool after up to 5 s."""
    deadline = time.monotonic() + 5
    while store.reader.pool.checkedout() and time.monotonic() < deadline:
        time.sleep(0.05)
    return store.reader.pool.checkedout()


def test_time_budget_returns_connections_on_both_backends(database_url: str) -> None:
    """Thousands of small statements in flight when the budget ends: each is cancelled and
    every connection goes back to the pool."""
    settings = budget_settings(database_url, 0.3)
    with LiveServer(settings) as server:
        store = server.server.config.app.state.store
        answer = httpx.post(
            f"{server.url}/graphql", json={"query": many_unindexed_counts()}, timeout=60
        )
        (error,) = answer.json()["errors"]
        assert error["extensions"]["limit"] == "COURSEGRAPH_REQUEST_BUDGET_SECONDS"
        assert wait_for_idle_pool(store) == 0
        after = httpx.post(f"{server.url}/graphql", json={"query": "{ events { totalCount } }"})
        assert after.json() == {"data": {"events": {"totalCount": 0}}}
