"""/metrics after known traffic over real HTTP and WebSocket: exact counts, parsed with
prometheus_client's own parser, on both backends."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import httpx
import pytest
import websockets
from prometheus_client.parser import text_string_to_metric_families

from app.metrics import Metrics, reason_category
from tests.api.factories import envelope, group_event
from tests.conftest import INGEST_TOKEN, LiveServer, make_settings

API_TOKEN = "metrics-test-api-token"
INGEST = {"authorization": f"Bearer {INGEST_TOKEN}"}
API = {"authorization": f"Bearer {API_TOKEN}"}
OVERVIEW = (
    "query CourseOverview($courseNumber: String!) { course(courseNumber: $courseNumber) { id } }"
)


def scrape(server: LiveServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(f"{server.url}/metrics", headers=API)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def event(n: int) -> dict[str, Any]:
    return group_event("c1", "BIO-101", f"g{n}", f"Group {n}", ["m1"], "2026-09-01T10:00:00.000Z")


def send_caliper_traffic(server: LiveServer) -> None:
    first = envelope([event(1), event(2), event(3)])
    changed = copy.deepcopy(first["data"][0])
    changed["object"]["extensions"]["bb:group.name"] = "Renamed"
    not_an_event: Any = 42
    no_action = {"type": "GroupEvent", "eventTime": "2026-09-01T10:00:00.000Z"}
    bodies = [
        (first, {"appended": 3}),
        (first, {"duplicates": 3}),
        (envelope([event(4), not_an_event, no_action]), {"appended": 1}),
        (envelope([changed]), {"appended": 1, "conflicts": 1}),
    ]
    for body, expected in bodies:
        answer = httpx.post(f"{server.url}/caliper", json=body, headers=INGEST).json()
        assert {key: answer[key] for key in expected} == expected, answer
    assert httpx.post(f"{server.url}/caliper", json=first).status_code == 401


def send_graphql_traffic(server: LiveServer) -> None:
    requests = [
        *[{"query": OVERVIEW, "variables": {"courseNumber": "BIO-101"}}] * 3,
        *[{"query": "{ __typename }"}] * 2,
        {"query": "query Homemade { __typename }", "operationName": "Homemade"},
        {"query": '{ events(first: 1, after: "not a cursor") { totalCount } }'},
    ]
    for sent in requests:
        assert httpx.post(f"{server.url}/graphql", json=sent, headers=API).status_code == 200


def test_metrics_count_the_traffic_exactly(database_url: str) -> None:
    settings = make_settings(database_url, api_tokens=(API_TOKEN,))
    with LiveServer(settings) as server:
        refused = httpx.get(f"{server.url}/metrics")
        assert refused.status_code == 401
        assert "`Authorization: Bearer <token>`" in refused.json()["detail"]
        assert "COURSEGRAPH_API_TOKENS" in refused.json()["detail"]
        send_caliper_traffic(server)
        send_graphql_traffic(server)
        samples = scrape(server)

    assert value(samples, "coursegraph_events_appended_total") == 5
    assert value(samples, "coursegraph_events_duplicate_total") == 3
    assert value(samples, "coursegraph_events_conflict_total") == 1
    assert value(samples, "coursegraph_events_rejected_total", reason="not_an_object") == 1
    assert value(samples, "coursegraph_events_rejected_total", reason="missing_field") == 1
    assert value(samples, "coursegraph_entity_descriptions_total") == 0

    requests = "coursegraph_http_requests_total"
    assert value(samples, requests, route="/caliper", method="POST", status="200") == 4
    assert value(samples, requests, route="/caliper", method="POST", status="401") == 1
    assert value(samples, requests, route="/graphql", method="POST", status="200") == 7
    assert value(samples, requests, route="/metrics", method="GET", status="401") == 1
    latency = "coursegraph_http_request_duration_seconds_count"
    assert value(samples, latency, route="/caliper") == 5
    assert value(samples, latency, route="/graphql") == 7

    operations = "coursegraph_graphql_operations_total"
    assert value(samples, operations, operation="CourseOverview", transport="http") == 3
    assert value(samples, operations, operation="anonymous", transport="http") == 3
    assert value(samples, operations, operation="other", transport="http") == 1
    assert (
        value(
            samples,
            "coursegraph_graphql_operation_duration_seconds_count",
            operation="CourseOverview",
        )
        == 3
    )
    assert (
        sum(
            count
            for (name, _), count in samples.items()
            if name == "coursegraph_graphql_errors_total"
        )
        == 1
    )

    pools = {
        dict(labels)["pool"]: count
        for (name, labels), count in samples.items()
        if name == "coursegraph_db_pool_checked_out"
    }
    expected_pools = {"shared"} if "postgresql" in database_url else {"reader", "writer"}
    assert set(pools) == expected_pools
    assert all(count == 0 for count in pools.values())  # nothing runs during the scrape


async def _open_subscription(url: str) -> websockets.ClientConnection:
    socket = await websockets.connect(url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    await socket.send(json.dumps({"type": "connection_init", "payload": API}))
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    subscribe = {"query": "subscription Live { eventAppended { position } }"}
    await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
    return socket


async def test_live_subscriptions_are_counted_while_they_run(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, api_tokens=(API_TOKEN,))
    with LiveServer(settings) as server:
        sockets = [
            await _open_subscription(f"ws://127.0.0.1:{server.port}/graphql") for _ in range(3)
        ]
        await asyncio.sleep(0.3)
        while_open = await asyncio.to_thread(scrape, server)
        await sockets[0].close()
        await asyncio.sleep(0.3)
        after_one_closed = await asyncio.to_thread(scrape, server)
        for socket in sockets[1:]:
            await socket.close()
        await asyncio.sleep(0.3)
        after_all_closed = await asyncio.to_thread(scrape, server)

    assert value(while_open, "coursegraph_live_subscriptions") == 3
    assert value(after_one_closed, "coursegraph_live_subscriptions") == 2
    assert value(after_all_closed, "coursegraph_live_subscriptions") == 0
    assert (
        value(
            after_all_closed,
            "coursegraph_http_requests_total",
            route="/graphql",
            method="WEBSOCKET",
            status="101",
        )
        == 3
    )
    assert (
        value(
            after_all_closed,
            "coursegraph_graphql_operations_total",
            operation="other",
            transport="websocket",
        )
        == 3
    )
    # Long-lived connections and subscriptions are counted, not taken as latency samples.
    latency = "coursegraph_http_request_duration_seconds_count"
    assert value(after_all_closed, latency, route="/graphql") == 0
    lifetime = "coursegraph_graphql_operation_duration_seconds_count"
    assert value(after_all_closed, lifetime, operation="other") == 0


def test_delivery_delays_and_operation_names_stay_bounded() -> None:
    metrics = Metrics(frozenset({"CourseOverview"}))
    for delay in (0.003, 0.04, 0.2):
        metrics.delivered(delay)
    for n in range(1000):
        metrics.operation_finished(f"Generated{n}", "http", 0.01, ["MADE_UP_CODE"])

    families = {family.name: family for family in metrics.registry.collect()}
    delay = {
        s.labels.get("le"): s.value
        for s in families["coursegraph_live_delivery_delay_seconds"].samples
        if s.name.endswith("_bucket")
    }
    assert (delay["0.005"], delay["0.05"], delay["0.25"]) == (1, 2, 3)
    operation_labels = {
        s.labels["operation"] for s in families["coursegraph_graphql_operations"].samples
    }
    assert operation_labels == {"other"}
    codes = {s.labels["code"] for s in families["coursegraph_graphql_errors"].samples}
    assert codes == {"other"}


@pytest.mark.parametrize(
    ("reason", "category"),
    [
        ("expected an event object, found number", "not_an_object"),
        ("event has no `action`", "missing_field"),
        ("scoreGiven is out of range", "out_of_range"),
        ("bb:group.users nests deeper than 32 levels", "too_deep"),
        ("eventTime is not an instant", "invalid_value"),
    ],
)
def test_rejection_reasons_fall_into_a_few_categories(reason: str, category: str) -> None:
    assert reason_category(reason) == category
