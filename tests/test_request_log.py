"""One JSON line per request, connection and WebSocket operation, over real HTTP and
WebSocket: its fields, the X-Request-Id it matches, and what it must never hold."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest
import websockets

from tests.api.factories import envelope, group_event
from tests.conftest import INGEST_TOKEN, LiveServer, free_port, make_settings

API_TOKEN = "api-token-that-must-not-be-logged"
SECRET_NAME = "Group name that must not be logged"
SECRET_VARIABLE = "variable value that must not be logged"


def lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [
        json.loads(record.getMessage())
        for record in caplog.records
        if record.name == "coursegraph.requests"
    ]


def test_each_request_logs_one_line_without_tokens_content_or_variables(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # every logger, as a deployment runs
    event = group_event("c1", "BIO-101", "g1", SECRET_NAME, ["m1"], "2026-09-01T10:00:00.000Z")
    body = envelope([event, 42])
    overview = "query CourseOverview($courseNumber: String!) { course(courseNumber: $courseNumber) { id } }"
    with LiveServer(make_settings(sqlite_url, api_tokens=(API_TOKEN,))) as server:
        caliper = httpx.post(
            f"{server.url}/caliper",
            json=body,
            headers={"authorization": f"Bearer {INGEST_TOKEN}"},
        )
        graphql = httpx.post(
            f"{server.url}/graphql",
            json={"query": overview, "variables": {"courseNumber": SECRET_VARIABLE}},
            headers={"authorization": f"Bearer {API_TOKEN}"},
        )
        refused = httpx.post(f"{server.url}/graphql", json={"query": "{ __typename }"})
        bad = httpx.post(
            f"{server.url}/graphql",
            json={"query": '{ events(first: 1, after: "forged") { totalCount } }'},
            headers={"authorization": f"Bearer {API_TOKEN}"},
        )

    logged = lines(caplog)
    assert len(logged) == 4
    by_id = {line["requestId"]: line for line in logged}
    caliper_line = by_id[caliper.headers["x-request-id"]]
    assert caliper_line["kind"] == "http"
    assert caliper_line["method"] == "POST"
    assert caliper_line["route"] == "/caliper"
    assert caliper_line["status"] == 200
    assert caliper_line["durationMs"] > 0
    assert (caliper_line["appended"], caliper_line["rejected"], caliper_line["duplicates"]) == (
        1,
        1,
        0,
    )
    graphql_line = by_id[graphql.headers["x-request-id"]]
    assert {key: graphql_line[key] for key in ("route", "operation", "status", "errorCodes")} == {
        "route": "/graphql",
        "operation": "CourseOverview",
        "status": 200,
        "errorCodes": [],
    }
    assert by_id[refused.headers["x-request-id"]]["status"] == 401
    bad_line = by_id[bad.headers["x-request-id"]]
    assert bad_line["operation"] is None
    assert len(bad_line["errorCodes"]) == 1

    everything = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    for secret in (API_TOKEN, INGEST_TOKEN, SECRET_NAME, SECRET_VARIABLE):
        assert secret not in everything


async def test_a_websocket_logs_each_operation_and_then_the_connection(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="coursegraph.requests")
    with LiveServer(make_settings(sqlite_url)) as server:
        url = f"ws://127.0.0.1:{server.port}/graphql"
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
            request_id = socket.response.headers["x-request-id"]
            await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
            await socket.recv()
            query = {"query": "query Probe { events(first: 1) { totalCount } }"}
            await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": query}))
            assert json.loads(await socket.recv())["type"] == "next"
            assert json.loads(await socket.recv())["type"] == "complete"

    logged = [line for line in lines(caplog) if line["requestId"] == request_id]
    assert [line["kind"] for line in logged] == ["websocket-operation", "websocket"]
    operation, connection = logged
    assert (operation["operation"], operation["status"], operation["errorCodes"]) == (
        "Probe",
        "ok",
        [],
    )
    assert operation["durationMs"] > 0
    assert (connection["method"], connection["route"], connection["status"]) == (
        "WEBSOCKET",
        "/graphql",
        101,
    )


def test_coursegraph_serve_writes_the_lines_to_standard_error(sqlite_url: str) -> None:
    """Under `coursegraph serve` the lines reach standard error as bare JSON (uvicorn's own
    logging configuration would leave the app's INFO lines unwritten)."""
    port = free_port()
    env = {**os.environ, "COURSEGRAPH_DATABASE_URL": sqlite_url}
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/healthz")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "coursegraph serve did not start"
                time.sleep(0.1)
    finally:
        server.send_signal(signal.SIGINT)
        _, errors = server.communicate(timeout=30)

    logged = [json.loads(line) for line in errors.splitlines() if line.startswith("{")]
    assert [(line["route"], line["status"]) for line in logged] == [
        ("/healthz", answer.status_code)
    ]
    assert logged[0]["requestId"] == answer.headers["x-request-id"]
