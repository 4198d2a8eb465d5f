"""Live subscriptions on a real uvicorn: standard clients (Python gql, the graphql-ws npm
client under node), the one feed per worker and its matching, afterPosition's seam,
limits, and appends made by another process or app instance."""

from __future__ import annotations

import asyncio
import copy
import json
import shutil
import time
from typing import Any

import httpx
import pytest
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport
from sqlalchemy import event

from app.settings import REPO_ROOT
from tests.api.factories import SITE, grade_event, group_event
from tests.api.live_client import (
    graphql,
    open_socket,
    post_events,
    receive,
    subscribe,
    ws_url,
)
from tests.conftest import LiveServer, make_settings

GRADES = 'subscription { eventAppended(filter: {type: "GradeEvent"}) { position type objectId } }'
NODE_SCRIPT = REPO_ROOT / "tests" / "node" / "subscribe.mjs"


def _grades(course: str, number: str, count: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        grade_event(
            course,
            number,
            "_i1_1",
            f"_a{start + i}_1",
            f"s{start + i}",
            1.0,
            f"2026-04-01T10:{(start + i) % 60:02d}:00.000Z",
        )
        for i in range(count)
    ]


async def _collect(socket: Any, wanted: int, timeout: float = 10) -> list[dict[str, Any]]:
    """`wanted` next-payloads of any operation, then whatever else arrives within 0.3 s."""
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(found) < wanted and time.monotonic() < deadline:
        message = await receive(socket, timeout=max(0.01, deadline - time.monotonic()))
        found.append(message)
    while True:
        try:
            found.append(await receive(socket, timeout=0.3))
        except TimeoutError:
            return found


# --- standard clients -----------------------------------------------------------------


def test_python_gql_client_receives_events(live_server: LiveServer) -> None:
    """gql's WebSocket transport refuses binary frames: this is the handshake it needs."""

    async def scenario() -> list[dict[str, Any]]:
        transport = WebsocketsTransport(
            url=ws_url(live_server),
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        received: list[dict[str, Any]] = []
        async with Client(transport=transport) as session:

            async def read() -> None:
                async for result in session.subscribe(gql(GRADES)):
                    received.append(result["eventAppended"])
                    if len(received) == 3:
                        return

            reader = asyncio.create_task(read())
            await asyncio.sleep(0.5)
            await post_events(live_server, _grades("gql", "GQL-1", 3))
            await asyncio.wait_for(reader, timeout=10)
        return received

    received = asyncio.run(scenario())
    assert [event["position"] for event in received] == [1, 2, 3]
    assert {event["type"] for event in received} == {"GradeEvent"}
    assert received[2]["objectId"] == f"{SITE}/gradableItems/_i1_1/attempts/_a2_1"


def test_graphql_ws_npm_client_under_node(live_server: LiveServer) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (.ci/run installs it)")
    if not (REPO_ROOT / "node_modules" / "graphql-ws").is_dir():
        pytest.skip("the graphql-ws npm client is not in node_modules/: run `make assets`")

    async def scenario() -> list[dict[str, Any]]:
        process = await asyncio.create_subprocess_exec(
            node,
            str(NODE_SCRIPT),
            ws_url(live_server),
            GRADES,
            "2",
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        lines: list[dict[str, Any]] = []
        try:
            first = json.loads(await asyncio.wait_for(process.stdout.readline(), timeout=20))
            assert first == {"connected": True}
            await asyncio.sleep(0.5)  # the subscribe message follows the ack
            await post_events(live_server, _grades("node", "NODE-1", 2))
            while len(lines) < 2:
                line = await asyncio.wait_for(process.stdout.readline(), timeout=10)
                assert line, "the node client ended early"
                lines.append(json.loads(line))
            assert await asyncio.wait_for(process.wait(), timeout=10) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        return lines

    lines = asyncio.run(scenario())
    assert [line["data"]["eventAppended"]["position"] for line in lines] == [1, 2]
    assert all("errors" not in line for line in lines)


# --- what a subscription delivers -----------------------------------------------------


def _without_course_number(event: dict[str, Any]) -> dict[str, Any]:
    """The same event, its course named only by IRI (Learn sends such events too)."""
    bare = copy.deepcopy(event)
    bare["group"].pop("courseNumber", None)
    bare["membership"]["organization"].pop("courseNumber", None)
    bare["membership"]["extensions"].pop("bb:course.externalId", None)
    bare["id"] = event["id"].replace("urn:uuid:", "urn:uuid:f")
    return bare


LIVE_FILTERS: dict[str, dict[str, Any]] = {
    "everything": {},
    "courseId": {"courseId": f"{SITE}/courses/alpha"},
    "courseNumber": {"courseNumber": "ALPHA-1"},
    "laterCourseNumber": {"courseNumber": "GAMMA-1"},  # no event names it at subscribe time
    "type": {"type": "GradeEvent"},
    "typeIri": {"type": "http://caliper.blackboard.com/caliper/v1/CourseGroupEvent"},
    "action": {"action": "Modified"},
    "actorId": {"actorId": f"{SITE}/users/instructor"},
    "objectId": {"objectId": f"{SITE}/gradableItems/_i1_1/attempts/_a1_1"},
    "since": {"since": "2026-04-01T10:03:00Z"},
    "until": {"until": "2026-04-01T10:02:00Z"},
    "afterPosition": {"afterPosition": 6},
    "combined": {"courseNumber": "ALPHA-1", "type": "GradeEvent", "since": "2026-04-01T10:01:00Z"},
}


def _mixed_events() -> list[list[dict[str, Any]]]:
    """Three requests over three courses; gamma's number first appears in the second."""
    alpha = _grades("alpha", "ALPHA-1", 4)
    beta = _grades("beta", "BETA-1", 3, start=10)
    groups = [
        group_event("alpha", "ALPHA-1", "g1", "Lab A", ["m1"], "2026-04-01T10:01:30.000Z"),
        group_event(
            "beta", "BETA-1", "g2", "Lab B", ["m2"], "2026-04-01T10:04:00.000Z", action="Modified"
        ),
    ]
    gamma = _grades("gamma", "GAMMA-1", 4, start=20)
    return [
        [*alpha[:2], beta[0], groups[0]],
        [gamma[0], *alpha[2:], beta[1]],
        [_without_course_number(gamma[1]), groups[1], beta[2], gamma[2]],
    ]


def test_live_delivery_equals_events_filter_for_every_field(live_server: LiveServer) -> None:
    """Each subscription gets exactly what events(filter:) lists afterwards, filter by
    filter; a course number nobody had used when it subscribed matches once it appears."""

    async def scenario() -> tuple[dict[str, list[int]], dict[str, list[int]]]:
        socket = await open_socket(live_server)
        async with socket:
            for name, live_filter in LIVE_FILTERS.items():
                await subscribe(
                    socket,
                    name,
                    "subscription ($f: EventFilter) { eventAppended(filter: $f) { position } }",
                    {"f": live_filter},
                )
            await asyncio.sleep(0.5)
            for request in _mixed_events():
                await post_events(live_server, request)
            listed: dict[str, list[int]] = {}
            for name, live_filter in LIVE_FILTERS.items():
                answer = await graphql(
                    live_server,
                    "query ($f: EventFilter) { events(filter: $f, first: 1000) { nodes { position } } }",
                    {"f": live_filter},
                )
                listed[name] = [node["position"] for node in answer["data"]["events"]["nodes"]]
            messages = await _collect(socket, sum(len(p) for p in listed.values()))
        delivered: dict[str, list[int]] = {name: [] for name in LIVE_FILTERS}
        for message in messages:
            assert message["type"] == "next", message
            delivered[message["id"]].append(message["payload"]["data"]["eventAppended"]["position"])
        return delivered, listed

    delivered, listed = asyncio.run(scenario())
    assert listed["everything"] == list(range(1, 13))
    assert all(listed[name] for name in LIVE_FILTERS), listed  # every filter selects something
    assert all(
        listed[name] != listed["everything"] for name in LIVE_FILTERS if name != "everything"
    )
    assert listed["laterCourseNumber"] == [5, 9, 12]  # the number-less one included
    assert delivered == listed


def test_after_position_replays_then_joins_live_without_gap_or_repeat(
    live_server: LiveServer,
) -> None:
    """Appends keep coming while the subscription replays from the log: the positions it
    delivers are exactly 21.. the newest, once each, in order."""

    async def scenario() -> list[int]:
        await post_events(live_server, _grades("seam", "SEAM-1", 40))
        socket = await open_socket(live_server)
        async with socket:
            writer = asyncio.create_task(_keep_appending(live_server, rounds=8))
            await subscribe(
                socket, "1", "subscription { eventAppended(afterPosition: 20) { position } }"
            )
            await writer
            messages = await _collect(socket, 20 + 8 * 5)
        return [m["payload"]["data"]["eventAppended"]["position"] for m in messages]

    positions = asyncio.run(scenario())
    assert positions == list(range(21, 81))


async def _keep_appending(server: LiveServer, rounds: int) -> None:
    for round_number in range(rounds):
        await post_events(server, _grades("seam", "SEAM-1", 5, start=100 + 5 * round_number))
        await asyncio.sleep(0.02)


# --- limits ---------------------------------------------------------------------------


def test_subscriptions_per_connection_and_per_worker_are_limited(sqlite_url: str) -> None:
    settings = make_settings(
        sqlite_url, live_subscriptions_per_connection=2, live_subscriptions_per_worker=3
    )

    async def scenario(server: LiveServer) -> tuple[dict[str, Any], dict[str, Any]]:
        first = await open_socket(server)
        second = await open_socket(server)
        async with first, second:
            for operation_id in ("a", "b", "c"):
                await subscribe(first, operation_id, GRADES)
            over_connection = await receive(first)
            await subscribe(second, "d", GRADES)
            await subscribe(second, "e", GRADES)
            over_worker = await receive(second)
        return over_connection, over_worker

    with LiveServer(settings) as server:
        over_connection, over_worker = asyncio.run(scenario(server))
    error = _only_error(over_connection, "c")
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["limit"] == "COURSEGRAPH_LIVE_SUBSCRIPTIONS_PER_CONNECTION"
    assert "COURSEGRAPH_LIVE_SUBSCRIPTIONS_PER_CONNECTION=2" in error["message"]
    error = _only_error(over_worker, "e")
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "COURSEGRAPH_LIVE_SUBSCRIPTIONS_PER_WORKER=3" in error["message"]


def _only_error(message: dict[str, Any], operation_id: str) -> dict[str, Any]:
    """The one error of a refused subscription: an execution result with no data."""
    assert message["id"] == operation_id and message["type"] == "next", message
    assert message["payload"]["data"] is None
    [error] = message["payload"]["errors"]
    return error


def test_a_completed_subscription_frees_its_place(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, live_subscriptions_per_connection=1)

    def held(server: LiveServer) -> int:
        return server.server.config.app.state.feed.subscriptions

    async def until_held(server: LiveServer, count: int) -> None:
        deadline = time.monotonic() + 10
        while held(server) != count:
            assert time.monotonic() < deadline, f"{held(server)} subscriptions, not {count}"
            await asyncio.sleep(0.02)

    async def scenario(server: LiveServer) -> dict[str, Any]:
        socket = await open_socket(server)
        async with socket:
            await subscribe(socket, "a", GRADES)
            await until_held(server, 1)
            await socket.send(json.dumps({"id": "a", "type": "complete"}))
            await until_held(server, 0)
            await subscribe(socket, "b", GRADES)
            await until_held(server, 1)
            await post_events(server, _grades("free", "FREE-1", 1))
            message = await receive(socket)
        await until_held(server, 0)  # closing the socket ends its subscriptions
        return message

    with LiveServer(settings) as server:
        message = asyncio.run(scenario(server))
    assert message["id"] == "b" and message["type"] == "next", message
    assert message["payload"]["data"]["eventAppended"]["position"] == 1


def test_subscription_over_plain_http_names_the_websocket_endpoint(
    live_server: LiveServer,
) -> None:
    posted = asyncio.run(graphql(live_server, GRADES))
    got = httpx.get(f"{live_server.url}/graphql", params={"query": GRADES}).json()
    for answer in (posted, got):
        assert answer.get("data") is None, answer
        [error] = answer["errors"]
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert f"ws://127.0.0.1:{live_server.port}/graphql" in error["message"]
        assert "graphql-transport-ws" in error["message"]


# --- other writers --------------------------------------------------------------------


def test_appends_through_another_app_instance_reach_subscribers(database_url: str) -> None:
    """Two app instances on one database, as two workers or machines are: on PostgreSQL
    LISTEN/NOTIFY carries the news, on SQLite the feed's poll of the newest position."""
    settings = make_settings(database_url, live_poll_seconds=0.2)
    bound = 1.0 if database_url.startswith("postgresql") else 2.0

    async def scenario(reader: LiveServer, writer: LiveServer) -> tuple[list[int], float]:
        socket = await open_socket(reader)
        async with socket:
            await subscribe(socket, "1", GRADES)
            await asyncio.sleep(0.5)
            started = time.monotonic()
            await post_events(writer, _grades("far", "FAR-1", 3))
            messages = [await receive(socket, timeout=bound) for _ in range(3)]
            delay = time.monotonic() - started
        return [m["payload"]["data"]["eventAppended"]["position"] for m in messages], delay

    with LiveServer(settings) as reader, LiveServer(settings) as writer:
        positions, delay = asyncio.run(scenario(reader, writer))
    assert positions == [1, 2, 3]
    assert delay < bound


def test_listen_connection_comes_back_after_it_drops(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    # A poll this slow never fires during the test: only NOTIFY can bring the event.
    settings = make_settings(database_url, live_poll_seconds=600)

    async def end_backend(pid: int) -> None:
        import asyncpg

        from store.listen import asyncpg_dsn

        admin = await asyncpg.connect(asyncpg_dsn(database_url))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()

    async def scenario(reader: LiveServer, writer: LiveServer) -> list[int]:
        listener = reader.server.config.app.state.feed.listener
        first_pid = listener.backend_pid
        assert first_pid is not None
        await end_backend(first_pid)
        deadline = time.monotonic() + 10
        while listener.backend_pid in (None, first_pid):
            assert time.monotonic() < deadline, "the listener did not reconnect"
            await asyncio.sleep(0.05)
        socket = await open_socket(reader)
        async with socket:
            await subscribe(socket, "1", GRADES)
            await asyncio.sleep(0.3)
            await post_events(writer, _grades("back", "BACK-1", 2))
            messages = [await receive(socket, timeout=2) for _ in range(2)]
        return [m["payload"]["data"]["eventAppended"]["position"] for m in messages]

    with LiveServer(settings) as reader, LiveServer(settings) as writer:
        assert asyncio.run(scenario(reader, writer)) == [1, 2]


def test_idle_subscriptions_cost_no_statements(database_url: str) -> None:
    """200 idle subscriptions: the statements the worker sends its database over a second
    are those of the feed's poll alone (none on PostgreSQL while LISTEN is up)."""
    settings = make_settings(database_url, live_poll_seconds=0.25)
    executed: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        executed.append(statement)

    async def over_a_second() -> list[str]:
        before = len(executed)
        await asyncio.sleep(1.0)
        return executed[before:]

    async def scenario(server: LiveServer) -> tuple[list[str], list[str], int]:
        await asyncio.sleep(1.0)  # past start-up (on PostgreSQL: LISTEN connected, caught up)
        alone = await over_a_second()
        sockets = [await open_socket(server) for _ in range(4)]
        for index, socket in enumerate(sockets):
            for n in range(50):
                await subscribe(socket, f"{index}-{n}", GRADES)
        feed = server.server.config.app.state.feed
        deadline = time.monotonic() + 20
        while feed.subscriptions < 200 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        subscribed = feed.subscriptions
        busy = await over_a_second()
        for socket in sockets:
            await socket.close()
        return alone, busy, subscribed

    with LiveServer(settings) as server:
        store = server.server.config.app.state.store
        for engine in {store.reader, store.writer}:
            event.listen(engine.sync_engine, "before_cursor_execute", count)
        alone, busy, subscribed = asyncio.run(scenario(server))
    assert subscribed == 200
    if database_url.startswith("postgresql"):
        assert alone == busy == [], (alone, busy)
    else:  # one look at the newest position per poll, with or without subscribers
        polls = [[s for s in found if "max(events.position)" in s] for found in (alone, busy)]
        assert all(1 <= len(found) <= 5 for found in polls), polls
        assert {s for s in alone + busy if s not in polls[0] + polls[1]} <= {"BEGIN"}, busy
