"""Automatic persisted queries and the allow-list: Apollo Client's persisted-query link
under node against the real server, and the protocol's edges over HTTP and WebSocket."""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from app.main import create_app
from app.settings import REPO_ROOT
from tests.api.factories import envelope, group_event
from tests.conftest import INGEST_TOKEN, LiveServer, make_settings

CLIENT_SCRIPT = REPO_ROOT / "tests" / "apollo_persisted_client.mjs"
OPERATIONS = REPO_ROOT / "graphql" / "operations"
COURSE_OVERVIEW = OPERATIONS / "CourseOverview.graphql"
FOREIGN = "query Foreign { courses(first: 5) { nodes { id courseNumber } } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(text: str | None = None, *, digest: str | None = None) -> dict[str, Any]:
    hashed = digest or sha256(text or "")
    return {"persistedQuery": {"version": 1, "sha256Hash": hashed}}


def _node_client_ready() -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: Apollo Client's link runs under node")
    if not (REPO_ROOT / "node_modules" / "@apollo" / "client").is_dir():
        pytest.skip("@apollo/client is not in node_modules/: run `make assets` (npm ci)")


def run_apollo(server: LiveServer, document: Path, **options: Any) -> dict[str, Any]:
    _node_client_ready()
    arguments = {"url": f"{server.url}/graphql", "document": str(document), **options}
    done = subprocess.run(
        ["node", str(CLIENT_SCRIPT), json.dumps(arguments)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def seed_course(server: LiveServer) -> None:
    body = envelope(
        [group_event("c1", "BIO-101", "g1", "Lab A", ["m1"], "2026-09-01T10:00:00.000Z")]
    )
    response = httpx.post(
        f"{server.url}/caliper",
        json=body,
        headers={"authorization": f"Bearer {INGEST_TOKEN}"},
    )
    assert response.status_code == 200, response.text


def codes(answer: Any) -> list[str]:
    return [error["extensions"]["code"] for error in answer.get("errors", [])]


@contextlib.asynccontextmanager
async def serving(database_url: str, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(database_url, **settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http


# --- Apollo Client's persisted-query link ----------------------------------------------


@pytest.mark.parametrize("use_get", [False, True], ids=["POST", "GET"])
def test_apollo_client_registers_the_text_once_then_sends_only_the_hash(
    sqlite_url: str, use_get: bool
) -> None:
    with LiveServer(make_settings(sqlite_url)) as server:
        seed_course(server)
        got = run_apollo(
            server, COURSE_OVERVIEW, variables={"courseNumber": "BIO-101"}, useGET=use_get
        )

    first, retried, second = got["requests"]
    hashed = first["sent"]["extensions"]["persistedQuery"]["sha256Hash"]
    assert first["method"] == ("GET" if use_get else "POST")
    assert "query" not in first["sent"]
    assert first["status"] == 200
    assert first["answer"] == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
    }
    # The retry carries the text (always by POST) and the same hash, which is its sha256.
    assert retried["method"] == "POST"
    assert retried["sent"]["extensions"]["persistedQuery"]["sha256Hash"] == hashed
    assert sha256(retried["sent"]["query"]) == hashed
    assert retried["answer"]["data"]["course"]["courseNumber"] == "BIO-101"
    assert second["method"] == first["method"]
    assert "query" not in second["sent"]
    assert second["sent"]["extensions"]["persistedQuery"]["sha256Hash"] == hashed
    assert second["answer"] == retried["answer"]
    for run in got["runs"]:
        assert run["error"] is None
        assert run["data"]["course"]["groups"]["nodes"][0]["name"] == "Lab A"


def test_apollo_client_in_allowlist_mode_runs_an_allowed_operation_and_not_a_foreign_one(
    sqlite_url: str, tmp_path: Path
) -> None:
    foreign = tmp_path / "Foreign.graphql"
    foreign.write_text(FOREIGN)
    with LiveServer(make_settings(sqlite_url, persisted_queries="allowlist")) as server:
        seed_course(server)
        allowed = run_apollo(server, COURSE_OVERVIEW, variables={"courseNumber": "BIO-101"})
        refused = run_apollo(server, foreign)

    assert [run["error"] for run in allowed["runs"]] == [None, None]
    assert allowed["runs"][1]["data"]["course"]["courseNumber"] == "BIO-101"
    # Apollo prints the document its own way (and adds __typename): the server learns that
    # form's hash once from the text, which it finds on the allow-list.
    assert [codes(request["answer"]) for request in allowed["requests"]] == [
        ["PERSISTED_QUERY_NOT_FOUND"],
        [],
        [],
    ]
    assert all(run["data"] is None for run in refused["runs"])
    assert all("allow-list" in run["error"] for run in refused["runs"])
    for request in refused["requests"]:
        assert "data" not in request["answer"]
    answers = [codes(request["answer"]) for request in refused["requests"]]
    assert answers == [["PERSISTED_QUERY_NOT_FOUND"], ["QUERY_NOT_IN_SAFELIST"]] * 2
    assert refused["requests"][1]["status"] == 400  # Apollo asks for graphql-response+json


# --- the protocol over HTTP ------------------------------------------------------------


async def test_a_hash_that_does_not_match_the_text_is_a_request_error(sqlite_url: str) -> None:
    async with serving(sqlite_url) as http:
        sent = {"query": "{ __typename }", "extensions": persisted(digest="0" * 64)}
        as_json = await http.post("/graphql", json=sent)
        as_graphql = await http.post("/graphql", json=sent, headers={"accept": GRAPHQL_RESPONSE})
        then = await http.post("/graphql", json={"extensions": persisted(digest="0" * 64)})

    assert as_json.status_code == 200
    assert as_json.json() == {
        "errors": [
            {
                "message": "provided sha does not match query",
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ]
    }
    assert as_graphql.status_code == 400
    assert as_graphql.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert codes(then.json()) == ["PERSISTED_QUERY_NOT_FOUND"]  # nothing was stored


@pytest.mark.parametrize(
    ("extension", "message"),
    [
        ({"version": 2, "sha256Hash": "a" * 64}, "Unsupported persisted query version"),
        ("v1", "Unsupported persisted query version"),
        ({"version": 1, "sha256Hash": "xyz"}, "64 hexadecimal digits"),
        ({"version": 1}, "64 hexadecimal digits"),
    ],
)
async def test_a_malformed_persisted_query_extension_is_bad_user_input(
    sqlite_url: str, extension: Any, message: str
) -> None:
    async with serving(sqlite_url) as http:
        response = await http.post("/graphql", json={"extensions": {"persistedQuery": extension}})

    assert codes(response.json()) == ["BAD_USER_INPUT"]
    assert message in response.json()["errors"][0]["message"]


async def test_a_registered_text_runs_by_hash_over_post_and_get(sqlite_url: str) -> None:
    text = "query Probe { events(first: 1) { totalCount } }"
    async with serving(sqlite_url) as http:
        registered = await http.post(
            "/graphql", json={"query": text, "extensions": persisted(text)}
        )
        by_post = await http.post(
            "/graphql", json={"extensions": persisted(text), "operationName": "Probe"}
        )
        by_get = await http.get(
            "/graphql",
            params={"extensions": json.dumps(persisted(text)), "operationName": "Probe"},
            headers={"accept": "application/json"},
        )

    expected = {"data": {"events": {"totalCount": 0}}}
    assert registered.json() == by_post.json() == by_get.json() == expected
    assert by_get.status_code == 200


async def test_the_store_is_bounded_by_bytes_least_recently_used_first_out(sqlite_url: str) -> None:
    texts = [f"query Q{n} {{ events(first: {n + 1}) {{ totalCount }} }}" for n in range(5)]
    async with serving(sqlite_url, persisted_queries_max_bytes=800) as http:
        for text in texts:
            await http.post("/graphql", json={"query": text, "extensions": persisted(text)})
        kept = http.app.state.persisted_queries  # type: ignore[attr-defined]
        answers = [
            (await http.post("/graphql", json={"extensions": persisted(text)})).json()
            for text in texts
        ]

    assert kept.kept_bytes <= 800
    assert [codes(answer) for answer in answers[:2]] == [["PERSISTED_QUERY_NOT_FOUND"]] * 2
    assert [answer["data"]["events"]["totalCount"] for answer in answers[2:]] == [0, 0, 0]


async def test_with_persisted_queries_off_a_hash_is_not_supported(sqlite_url: str) -> None:
    async with serving(sqlite_url, persisted_queries="off") as http:
        response = await http.post("/graphql", json={"extensions": persisted("{ __typename }")})
        plain = await http.post("/graphql", json={"query": "{ __typename }"})

    assert response.status_code == 200
    assert response.json()["errors"][0]["message"] == "PersistedQueryNotSupported"
    assert codes(response.json()) == ["PERSISTED_QUERY_NOT_SUPPORTED"]
    assert plain.json() == {"data": {"__typename": "Query"}}


# --- the allow-list --------------------------------------------------------------------


async def test_the_allowlist_runs_the_operation_files_by_text_or_hash_and_nothing_else(
    sqlite_url: str, tmp_path: Path
) -> None:
    extra = tmp_path / "operations"
    extra.mkdir()
    (extra / "Probe.graphql").write_text("query Probe { events(first: 1) { totalCount } }\n")
    file_text = COURSE_OVERVIEW.read_text()
    variables = {"courseNumber": "none"}
    async with serving(
        sqlite_url, persisted_queries="allowlist", persisted_queries_dir=extra
    ) as http:
        by_text = await http.post("/graphql", json={"query": file_text, "variables": variables})
        by_hash = await http.post(
            "/graphql", json={"extensions": persisted(file_text), "variables": variables}
        )
        from_folder = await http.post(
            "/graphql", json={"query": "query Probe { events(first: 1) { totalCount } }"}
        )
        foreign = await http.post("/graphql", json={"query": FOREIGN})
        foreign_get = await http.get(
            "/graphql", params={"query": FOREIGN}, headers={"accept": "application/json"}
        )
        registered = await http.post(
            "/graphql", json={"query": FOREIGN, "extensions": persisted(FOREIGN)}
        )
        batch = await http.post("/graphql", json=[{"query": file_text}, {"query": FOREIGN}])
        # Another JSON-ish media type: refused before anything runs.
        odd_type = await http.post(
            "/graphql",
            content=json.dumps({"query": FOREIGN}),
            headers={"content-type": "application/json-seq"},
        )

    assert by_text.json() == by_hash.json() == {"data": {"course": None}}
    assert from_folder.json() == {"data": {"events": {"totalCount": 0}}}
    assert odd_type.status_code == 415, odd_type.text
    for refused in (foreign, foreign_get, registered, batch):
        assert codes(refused.json()) == ["QUERY_NOT_IN_SAFELIST"], refused.text
        error = refused.json()["errors"][0]
        assert "COURSEGRAPH_PERSISTED_QUERIES=allowlist" in error["message"]
        assert error["extensions"]["setting"] == "COURSEGRAPH_PERSISTED_QUERIES"


async def test_the_allowlist_accepts_another_printing_of_an_allowed_document(
    sqlite_url: str, tmp_path: Path
) -> None:
    (tmp_path / "Probe.graphql").write_text(
        "# the newest events\nquery Probe {\n  events(first: 1) { totalCount }\n}\n"
    )
    reprinted = "query Probe{events(first:1){totalCount __typename}}"
    changed = "query Probe{events(first:2){totalCount __typename}}"
    async with serving(
        sqlite_url, persisted_queries="allowlist", persisted_queries_dir=tmp_path
    ) as http:
        allowed = await http.post("/graphql", json={"query": reprinted})
        by_its_hash = await http.post("/graphql", json={"extensions": persisted(reprinted)})
        refused = await http.post("/graphql", json={"query": changed})

    expected = {"data": {"events": {"totalCount": 0, "__typename": "EventConnection"}}}
    assert allowed.json() == by_its_hash.json() == expected
    assert codes(refused.json()) == ["QUERY_NOT_IN_SAFELIST"]


def test_a_missing_allowlist_folder_stops_the_app_with_the_setting_named(
    sqlite_url: str, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="COURSEGRAPH_PERSISTED_QUERIES_DIR"):
        create_app(make_settings(sqlite_url, persisted_queries_dir=tmp_path / "absent"))


def test_an_unreadable_operation_file_stops_the_app_naming_the_file(
    sqlite_url: str, tmp_path: Path
) -> None:
    (tmp_path / "Broken.graphql").write_text("query Broken { courses { ")
    with pytest.raises(ValueError, match=r"Broken\.graphql is not a GraphQL document"):
        create_app(make_settings(sqlite_url, persisted_queries_dir=tmp_path))


# --- over the WebSocket ----------------------------------------------------------------


async def _subscribe(server: LiveServer, payload: dict[str, Any]) -> dict[str, Any]:
    url = f"ws://127.0.0.1:{server.port}/graphql"
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        return json.loads(await socket.recv())


async def test_the_allowlist_and_persisted_hashes_apply_over_the_websocket(
    sqlite_url: str,
) -> None:
    subscription = "subscription Live { eventAppended { position } }"
    query = "query Probe { events(first: 1) { totalCount } }"
    with LiveServer(make_settings(sqlite_url, persisted_queries="allowlist")) as server:
        refused = await _subscribe(server, {"query": subscription})
    with LiveServer(make_settings(sqlite_url)) as server:
        unknown = await _subscribe(server, {"extensions": persisted(query)})
        httpx.post(
            f"{server.url}/graphql", json={"query": query, "extensions": persisted(query)}
        ).raise_for_status()
        known = await _subscribe(server, {"extensions": persisted(query)})

    assert refused["type"] == "error"
    assert codes({"errors": refused["payload"]}) == ["QUERY_NOT_IN_SAFELIST"]
    assert unknown["type"] == "error"
    assert codes({"errors": unknown["payload"]}) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert known == {"id": "1", "type": "next", "payload": {"data": {"events": {"totalCount": 0}}}}
