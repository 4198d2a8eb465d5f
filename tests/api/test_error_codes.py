"""Every GraphQL error carries the contract's code, with its HTTP status and media type;
nothing of a driver, SQL or Python reaches a client; each request's errors are logged
once. Real HTTP through uvicorn, both backends where the store is involved."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from app.api.graphql_http import response_media_type
from tests.api.factories import envelope, grade_event
from tests.conftest import INGEST_TOKEN, LiveServer, _admin_execute, make_settings

GRAPHQL_RESPONSE = "application/graphql-response+json"
LEAKS = (
    "Traceback",
    'File "',
    "sqlite3",
    "SQL ",
    "SELECT ",
    "asyncpg",
    "Python int",
    "INTEGER",
    "OperationalError",
    "InterfaceError",
    "RuntimeError",
)


@pytest.fixture
def server(database_url: str) -> Iterator[LiveServer]:
    with LiveServer(make_settings(database_url)) as live:
        events = [
            grade_event("c1", "CODE-101", "_i1_1", f"_a{i}_1", f"s{i}", 3.0, "2026-04-01T10:00:00Z")
            for i in range(3)
        ]
        answer = httpx.post(
            f"{live.url}/caliper", json=envelope(events), headers={"authorization": INGEST_TOKEN}
        )
        assert answer.json()["appended"] == 3
        yield live


def post(
    server: LiveServer, query: str, accept: str | None = None, **payload: Any
) -> httpx.Response:
    headers = {"accept": accept} if accept else {}
    return httpx.post(
        f"{server.url}/graphql", json={"query": query, **payload}, headers=headers, timeout=30
    )


def assert_no_leak(response: httpx.Response) -> None:
    for word in LEAKS:
        assert word not in response.text, (word, response.text)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"application/json;q=0.9, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0.5, application/json", "application/json"),
        (f"{GRAPHQL_RESPONSE};q=0.5, */*;q=0.4", GRAPHQL_RESPONSE),
        ("text/html", "application/json"),
    ],
)
def test_media_type_follows_accept(accept: str | None, expected: str) -> None:
    assert response_media_type(accept) == expected


REQUEST_ERRORS = [
    ("{ courses { nodes { id } ", None, "GRAPHQL_PARSE_FAILED"),
    ("{ courses { nodes { nope } } }", None, "GRAPHQL_VALIDATION_FAILED"),
    ("query A { __typename }", "B", "GRAPHQL_VALIDATION_FAILED"),
    ("query A { __typename } query B { __typename }", None, "GRAPHQL_VALIDATION_FAILED"),
    ("subscription { eventAppended { position } }", None, "GRAPHQL_VALIDATION_FAILED"),
    ("{ " + "a " * 6000 + "}", None, "QUERY_TOO_COMPLEX"),
    (
        "query($t: DateTime) { events(filter: {since: $t}) { totalCount } }",
        None,
        "BAD_USER_INPUT",
    ),
]


@pytest.mark.parametrize(("query", "operation_name", "code"), REQUEST_ERRORS)
def test_request_errors_are_400_or_200_by_media_type(
    server: LiveServer, query: str, operation_name: str | None, code: str
) -> None:
    payload: dict[str, Any] = {"operationName": operation_name}
    if "$t" in query:
        payload["variables"] = {"t": "yesterday"}
    for accept, status, media in [
        (GRAPHQL_RESPONSE, 400, GRAPHQL_RESPONSE),
        (None, 200, "application/json"),
        ("application/json", 200, "application/json"),
    ]:
        answer = post(server, query, accept, **payload)
        assert answer.status_code == status, (accept, answer.text)
        assert answer.headers["content-type"] == media
        body = answer.json()
        assert "data" not in body
        assert [error["extensions"]["code"] for error in body["errors"]] == [code]
        assert_no_leak(answer)


def test_unknown_operation_name_keeps_the_connection(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url) as http:
        refused = http.post(
            "/graphql", json={"query": "query A { __typename }", "operationName": "Nope"}
        )
        assert refused.status_code == 200
        assert refused.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "Nope" in refused.json()["errors"][0]["message"]
        assert refused.headers.get("connection") != "close"
        again = http.post("/graphql", json={"query": "query A { __typename }"})
        assert again.json() == {"data": {"__typename": "Query"}}


FIELD_ERRORS = [
    ("{ events(first: 5000) { totalCount } }", "between 0 and 1000"),
    ("{ course { id } }", "give `id` or `courseNumber`"),
    ("{ person { id } }", "give `id` or `userId`"),
]


@pytest.mark.parametrize(("query", "message"), FIELD_ERRORS)
def test_bad_user_input_is_a_field_error(server: LiveServer, query: str, message: str) -> None:
    for accept in (GRAPHQL_RESPONSE, None):
        answer = post(server, query, accept)
        assert answer.status_code == 200
        body = answer.json()
        assert "data" in body
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert message in error["message"]


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


FORGED = [
    _cursor(2**64),
    _cursor(2**63),
    _cursor(-1),
    _cursor("1"),
    _cursor([1, "x"]),
    _cursor({"position": 1}),
    _cursor(True),
    _cursor(1.5),
    _cursor(None),
    "not-base64!",
    "x" * 5000,
    base64.urlsafe_b64encode(b"1" * 400).decode(),
]
SORT_KEY_FORGED = [
    _cursor([2**64, "x"]),
    _cursor(["x", "y"]),
    _cursor([1]),
    _cursor([1, "x", 3]),
    _cursor(5),
    _cursor([1, 2]),
    _cursor([None, None]),
]
CONNECTIONS = {
    "events": "query($c: String) { events(after: $c) { nodes { position } } }",
    "rejectedItems": "query($c: String) { rejectedItems(after: $c) { nodes { reason } } }",
    "courses": "query($c: String) { courses(after: $c) { nodes { id } } }",
    "attempts": 'query($c: String) { course(courseNumber: "CODE-101") { attempts(after: $c) { nodes { id } } } }',
    "course events": 'query($c: String) { course(courseNumber: "CODE-101") { events(after: $c) { nodes { position } } } }',
}


def test_forged_cursors_are_bad_user_input(server: LiveServer) -> None:
    for name, query in CONNECTIONS.items():
        by_position = name in ("events", "rejectedItems", "course events")
        forged = FORGED + (
            [_cursor(["x", "y"]), _cursor([1, 2])] if by_position else SORT_KEY_FORGED
        )
        # A well-shaped sort key is a place in the order, not a forgery.
        well_shaped = {"courses": _cursor(["x", "y"]), "attempts": _cursor([1, "x"])}
        forged = [c for c in forged if c != well_shaped.get(name)]
        for cursor in forged:
            answer = post(server, query, GRAPHQL_RESPONSE, variables={"c": cursor})
            assert answer.status_code == 200, (name, cursor, answer.text)
            errors = answer.json()["errors"]
            assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"], (name, errors)
            assert "not a cursor this API gave out" in errors[0]["message"]
            assert len(errors[0]["message"]) < 200
            assert_no_leak(answer)


def test_cursors_given_out_still_work(server: LiveServer) -> None:
    first = post(server, "{ events(first: 1) { pageInfo { endCursor } nodes { position } } }")
    cursor = first.json()["data"]["events"]["pageInfo"]["endCursor"]
    second = post(
        server,
        "query($c: String) { events(first: 5, after: $c) { nodes { position } } }",
        variables={"c": cursor},
    )
    assert [n["position"] for n in second.json()["data"]["events"]["nodes"]] == [2, 3]


def test_unexpected_errors_are_masked_and_logged_once_with_their_traceback(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken_read(*_args: Any) -> Any:
        raise RuntimeError("SELECT secret FROM somewhere -- driver text")

    # Not a fold (a fold failure is contained to its entity): the read beneath the resolver.
    monkeypatch.setattr("store.read.events_of_course_entities", broken_read)
    server.server.config.app.state.state_cache.clear()
    query = '{ course(courseNumber: "CODE-101") { attempts { nodes { id } } } courses { nodes { id } } }'
    with caplog.at_level(logging.INFO, logger="coursegraph"):
        answer = post(server, query, GRAPHQL_RESPONSE)
    assert answer.status_code == 200
    body = answer.json()
    assert body["data"]["course"] is None  # attempts is non-null: the course field fails
    assert body["data"]["courses"]["nodes"][0]["id"].endswith("/courses/c1")
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    request_id = error["extensions"]["requestId"]
    assert request_id in error["message"]
    assert "secret" not in answer.text
    assert_no_leak(answer)
    # Besides the request's own log line (one per request, coursegraph.requests):
    mentions = [r for r in caplog.records if request_id in r.getMessage()]
    assert [r.name for r in mentions].count("coursegraph.requests") == 1
    logged = [r for r in mentions if r.name != "coursegraph.requests"]
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    assert "secret" in str(logged[0].exc_info[1])


def test_one_bad_request_of_a_thousand_aliases_logs_a_bounded_number_of_lines(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(
        database_url, max_query_aliases=5000, max_query_chars=200_000, max_query_tokens=50_000
    )
    bad = _cursor(2**64)
    query = "{ " + " ".join(
        f'a{i}: course(courseNumber: "CODE-101") {{ events(after: "{bad}") {{ totalCount }} }}'
        for i in range(1000)
    )
    query += " }"
    with LiveServer(settings) as live, caplog.at_level(logging.INFO):
        events = [
            grade_event("c1", "CODE-101", "_i1_1", "_a1_1", "s1", 3.0, "2026-04-01T10:00:00Z")
        ]
        httpx.post(
            f"{live.url}/caliper", json=envelope(events), headers={"authorization": INGEST_TOKEN}
        )
        caplog.clear()
        answer = httpx.post(f"{live.url}/graphql", json={"query": query}, timeout=60)
    errors = answer.json()["errors"]
    assert len(errors) == 1000
    assert {e["extensions"]["code"] for e in errors} == {"BAD_USER_INPUT"}
    server_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    # The request's own log line (one per request), and one line for its errors.
    assert [r.name for r in server_side].count("coursegraph.requests") == 1
    server_side = [r for r in server_side if r.name != "coursegraph.requests"]
    assert len(server_side) == 1, [r.getMessage()[:200] for r in server_side]
    (line,) = server_side
    assert line.exc_info is None
    assert "\n" not in line.getMessage() and len(line.getMessage()) < 1_000


def test_dropped_postgres_database_answers_503(tmp_path: Any) -> None:
    from tests.conftest import _create_postgres_database, postgres_base_url

    base = postgres_base_url()
    url = asyncio.run(_create_postgres_database(base))
    name = make_url(url).database
    with LiveServer(make_settings(url)) as live:
        ok = post(live, "{ events { totalCount } }")
        assert ok.json() == {"data": {"events": {"totalCount": 0}}}
        asyncio.run(_admin_execute(base, f'DROP DATABASE "{name}" WITH (FORCE)'))
        for accept in (None, GRAPHQL_RESPONSE):
            answer = post(live, "{ events { totalCount } }", accept)
            assert answer.status_code == 503, answer.text
            assert int(answer.headers["retry-after"]) > 0
            codes = [e["extensions"]["code"] for e in answer.json()["errors"]]
            assert codes == ["SERVICE_UNAVAILABLE"]
            assert name not in answer.text
            assert_no_leak(answer)
        caliper = httpx.post(
            f"{live.url}/caliper",
            json=envelope(
                [grade_event("c", "N", "_i_1", "_a_1", "s", 1.0, "2026-04-01T10:00:00Z")]
            ),
            headers={"authorization": INGEST_TOKEN},
        )
        assert caliper.status_code == 503
        assert caliper.headers["content-type"] == "application/problem+json"
        assert int(caliper.headers["retry-after"]) > 0
        assert_no_leak(caliper)


def test_every_graphql_post_body_is_capped(sqlite_url: str) -> None:
    with LiveServer(make_settings(sqlite_url, max_body_bytes=200)) as live:
        big = json.dumps({"query": "{ __typename }" + " " * 300}).encode()
        for content_type in (
            "application/json",
            "application/json-seq",
            "multipart/form-data; boundary=x",
            "text/plain",
        ):
            answer = httpx.post(
                f"{live.url}/graphql", content=big, headers={"content-type": content_type}
            )
            assert answer.status_code == 413, (content_type, answer.text)
            assert "COURSEGRAPH_MAX_BODY_BYTES" in answer.json()["detail"]

        def chunks() -> Iterator[bytes]:
            for _ in range(100):
                yield b" " * 100

        chunked = httpx.post(
            f"{live.url}/graphql", content=chunks(), headers={"content-type": "application/json"}
        )
        assert chunked.status_code == 413
        small = httpx.post(
            f"{live.url}/graphql",
            content=b'{"query": "{ __typename }"}',
            headers={"content-type": "text/plain"},
        )
        assert small.status_code == 415


def test_a_slow_body_times_out(sqlite_url: str) -> None:
    with LiveServer(make_settings(sqlite_url, body_read_timeout_seconds=0.5)) as live:

        async def slow() -> Any:
            async def trickle() -> Any:
                for _ in range(20):
                    yield b" "
                    await asyncio.sleep(0.2)

            async with httpx.AsyncClient(timeout=10) as http:
                return await http.post(
                    f"{live.url}/graphql",
                    content=trickle(),
                    headers={"content-type": "application/json"},
                )

        answer = asyncio.run(slow())
        assert answer.status_code == 408
        assert "COURSEGRAPH_BODY_READ_TIMEOUT_SECONDS" in answer.json()["detail"]
