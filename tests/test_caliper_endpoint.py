"""POST/GET /caliper as the contract words it (issue #2): the order of the checks
(401, 413, 415, 400, 422), the 200 body, replays and conflicts, bad items kept aside,
entity descriptions, and concurrent senders over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.main import create_app
from app.settings import Settings
from store.db import Store, create_store
from store.tables import EntityDescriptionRow, EventRow, RejectedItemRow
from tests.conftest import INGEST_TOKEN, LiveServer, make_settings
from tests.store.rows import readable_rows

AUTH = {"authorization": f"Bearer {INGEST_TOKEN}"}
SITE = "https://learn.example.edu/v1/sites/s1"
V1P1 = "http://purl.imsglobal.org/ctx/caliper/v1p1"
SUPPORTED = [
    "http://purl.imsglobal.org/ctx/caliper/v1/Context",
    "http://purl.imsglobal.org/ctx/caliper/v1p1",
    "http://purl.imsglobal.org/ctx/caliper/v1p2",
]
EVENTS = EventRow.__table__
REJECTED = RejectedItemRow.__table__
DESCRIPTIONS = EntityDescriptionRow.__table__


def event(name: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "@context": V1P1,
        "id": f"urn:uuid:{name}",
        "type": "GradeEvent",
        "actor": {"id": f"{SITE}/applications/learn", "type": "SoftwareApplication"},
        "action": "Graded",
        "object": {
            "id": f"{SITE}/gradableItems/_1_1/attempts/{name}",
            "type": "Attempt",
            "assignable": {"id": f"{SITE}/gradableItems/_1_1", "type": "AssignableDigitalResource"},
        },
        "generated": {"type": "Score", "scoreGiven": 20.0, "maxScore": 0},
        "eventTime": "2021-01-04T12:59:47.248Z",
        "group": {"id": f"{SITE}/courses/c1", "type": "CourseOffering", "courseNumber": "BIO-101"},
    }
    base.update(fields)
    return base


def envelope(*data: Any, **fields: Any) -> dict[str, Any]:
    return {
        "sensor": "urn:sensor:learn",
        "sendTime": "2021-01-04T13:00:00.000Z",
        "dataVersion": V1P1,
        "data": list(data),
        **fields,
    }


def answer(
    appended: int = 0,
    duplicates: int = 0,
    conflicts: int = 0,
    rejected: list[dict[str, str]] | None = None,
    entities: int = 0,
) -> dict[str, Any]:
    return {
        "appended": appended,
        "duplicates": duplicates,
        "conflicts": conflicts,
        "rejected": rejected or [],
        "entities": entities,
    }


def store_of(client: httpx.AsyncClient) -> Store:
    return client.app.state.store  # type: ignore[attr-defined]


async def rows(store: Store, table: Any) -> list[dict[str, Any]]:
    async with store.reader.connect() as connection:
        return await readable_rows(connection, table)


async def count(store: Store, table: Any = EVENTS) -> int:
    async with store.reader.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar())


async def stored_ids(client: httpx.AsyncClient) -> list[str | None]:
    return [row["event_id"] for row in await rows(store_of(client), EVENTS)]


@contextlib.asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.fixture
async def http(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app on SQLite: the checks before anything is stored do not depend on the
    backend (the storing tests below use `client`, on both)."""
    async with app_client(make_settings(sqlite_url)) as client:
        yield client


# --- 401 ----------------------------------------------------------------------------------


async def test_401_without_a_token(http: httpx.AsyncClient) -> None:
    response = await http.post("/caliper", json=envelope(event("a")))
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"
    assert await count(store_of(http)) == 0


@pytest.mark.parametrize(
    "header",
    [
        "Bearer wrong-token",
        "wrong-token",
        f"Bearer {INGEST_TOKEN}x",
        f"Basic {INGEST_TOKEN}",
        "Bearer ",
        f"{INGEST_TOKEN[:-1]}",
    ],
)
async def test_401_with_a_wrong_token(http: httpx.AsyncClient, header: str) -> None:
    response = await http.post(
        "/caliper", json=envelope(event("a")), headers={"authorization": header}
    )
    assert_problem(response, 401)
    assert await count(store_of(http)) == 0


async def test_401_for_every_request_when_no_token_is_configured(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COURSEGRAPH_INGEST_TOKENS", raising=False)
    settings = Settings(_env_file=None, database_url=sqlite_url)  # type: ignore[call-arg]
    assert settings.ingest_tokens == ()
    async with app_client(settings) as http:
        for headers in ({}, AUTH, {"authorization": INGEST_TOKEN}, {"authorization": "Bearer "}):
            response = await http.post("/caliper", json=envelope(event("a")), headers=headers)
            body = assert_problem(response, 401)
            assert "COURSEGRAPH_INGEST_TOKENS" in body["detail"]
        body = assert_problem(await http.get("/caliper", headers=AUTH), 401)
        assert "COURSEGRAPH_INGEST_TOKENS" in body["detail"]
        assert await count(store_of(http)) == 0


@pytest.mark.parametrize(
    "header",
    [f"Bearer {INGEST_TOKEN}", INGEST_TOKEN, f"bearer {INGEST_TOKEN}", f" {INGEST_TOKEN} "],
)
async def test_bearer_and_bare_tokens_are_accepted(http: httpx.AsyncClient, header: str) -> None:
    response = await http.post(
        "/caliper", json=envelope(event("a")), headers={"authorization": header}
    )
    assert response.status_code == 200, response.text
    assert response.json() == answer(appended=1)


async def test_the_tokens_variable_is_comma_separated(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COURSEGRAPH_INGEST_TOKENS", "first-token, second-token")
    settings = Settings(_env_file=None, database_url=sqlite_url)  # type: ignore[call-arg]
    async with app_client(settings) as http:
        for token, name in (("first-token", "a"), ("second-token", "b")):
            response = await http.post(
                "/caliper", json=envelope(event(name)), headers={"authorization": token}
            )
            assert response.json() == answer(appended=1)
        wrong = await http.post(
            "/caliper",
            json=envelope(event("c")),
            headers={"authorization": "first-token, second-token"},
        )
        assert_problem(wrong, 401)
        assert await stored_ids(http) == ["urn:uuid:a", "urn:uuid:b"]


# --- 413 ----------------------------------------------------------------------------------

LIMIT = 2000


@pytest.fixture
async def small_http(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(make_settings(sqlite_url, max_body_bytes=LIMIT)) as client:
        yield client


def body_of_size(size: int) -> bytes:
    """A valid envelope of exactly `size` bytes."""
    base = json.dumps(envelope(event("big", extensions={"pad": ""})), separators=(",", ":"))
    padded = base.replace('"pad":""', '"pad":"' + "x" * (size - len(base)) + '"')
    assert len(padded) == size
    return padded.encode()


async def test_413_over_the_body_limit(small_http: httpx.AsyncClient) -> None:
    response = await small_http.post(
        "/caliper",
        content=body_of_size(LIMIT + 1),
        headers={**AUTH, "content-type": "application/json"},
    )
    body = assert_problem(response, 413)
    assert "COURSEGRAPH_MAX_BODY_BYTES" in body["detail"]
    assert await count(store_of(small_http)) == 0


async def test_a_body_at_the_limit_is_read(small_http: httpx.AsyncClient) -> None:
    response = await small_http.post(
        "/caliper",
        content=body_of_size(LIMIT),
        headers={**AUTH, "content-type": "application/json"},
    )
    assert response.json() == answer(appended=1)


async def test_413_without_a_content_length(small_http: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        data = body_of_size(LIMIT + 500)
        for start in range(0, len(data), 300):
            yield data[start : start + 300]

    response = await small_http.post(
        "/caliper", content=chunks(), headers={**AUTH, "content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413)
    assert await count(store_of(small_http)) == 0


@pytest.mark.parametrize("content_type", ["text/plain", None, "application/xml"])
async def test_413_comes_before_415(
    small_http: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = dict(AUTH)
    if content_type:
        headers["content-type"] = content_type
    response = await small_http.post("/caliper", content=b"x" * (LIMIT + 1), headers=headers)
    assert_problem(response, 413)


async def test_401_comes_before_413(small_http: httpx.AsyncClient) -> None:
    response = await small_http.post(
        "/caliper",
        content=body_of_size(LIMIT + 1),
        headers={"authorization": "Bearer wrong", "content-type": "text/plain"},
    )
    assert_problem(response, 401)


# --- 415 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_415_for_a_content_type_other_than_json(
    http: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = dict(AUTH)
    if content_type:
        headers["content-type"] = content_type
    data = json.dumps(envelope(event("a"))).encode()
    response = await http.post("/caliper", content=data, headers=headers)
    assert_problem(response, 415)
    assert await count(store_of(http)) == 0


async def test_415_comes_before_400(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/caliper", content=b"not json", headers={**AUTH, "content-type": "text/plain"}
    )
    assert_problem(response, 415)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/ld+json",
    ],
)
async def test_json_content_types_are_accepted(http: httpx.AsyncClient, content_type: str) -> None:
    data = json.dumps(envelope(event("a"))).encode()
    response = await http.post(
        "/caliper", content=data, headers={**AUTH, "content-type": content_type}
    )
    assert response.json() == answer(appended=1)


# --- 400 ----------------------------------------------------------------------------------


async def post_raw(http: httpx.AsyncClient, data: bytes) -> httpx.Response:
    return await http.post(
        "/caliper", content=data, headers={**AUTH, "content-type": "application/json"}
    )


@pytest.mark.parametrize(
    ("body", "path", "found"),
    [
        (envelope(data={"not": "an array"}), "$.data", "`data` must be an array, found an object"),
        (envelope(data="text"), "$.data", "`data` must be an array, found a string"),
        ([envelope(event("a")), envelope(event("b")), 3], "$[2]", "found a number"),
        ([event("a"), event("b"), None], "$[2]", "found null"),
        ({"sensor": "s", "sendTime": "2021-01-04T13:00:00.000Z"}, "$", "no `data` array"),
        ("an envelope", "$", "found a string"),
        (17, "$", "found a number"),
    ],
)
async def test_400_names_the_json_path(
    http: httpx.AsyncClient, body: Any, path: str, found: str
) -> None:
    response = await post_raw(http, json.dumps(body).encode())
    problem = assert_problem(response, 400)
    assert problem["path"] == path
    assert found in problem["reason"]
    assert problem["detail"].startswith(f"{path}: ")
    assert await count(store_of(http)) == 0
    assert await count(store_of(http), REJECTED) == 0


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"this is not json", "not valid JSON: Expecting value at line 1 column 1"),
        (b'{"data": [}', "not valid JSON: Expecting value at line 1 column 11"),
        (b'{\n  "data": [],\n  "sensor": "s",\n}', "not valid JSON: Expecting property name"),
        (b"", "not valid JSON: Expecting value at line 1 column 1"),
        (b'{"data": [], "x": NaN}', "not valid JSON: NaN is not a JSON value"),
        (b'{"data": [], "x": "\xff"}', "not valid JSON: not UTF-8 text at line 1 column 20"),
        (b'{"data": [' + b"[" * 990 + b"]" * 990 + b"]}", "not valid JSON: nested more than"),
    ],
)
async def test_400_for_a_body_that_is_not_json(
    http: httpx.AsyncClient, data: bytes, reason: str
) -> None:
    problem = assert_problem(await post_raw(http, data), 400)
    assert problem["path"] == "$"
    assert problem["reason"].startswith(reason)
    assert await count(store_of(http)) == 0


async def test_400_comes_before_422(http: httpx.AsyncClient) -> None:
    body = envelope(data={"x": 1}, dataVersion="http://example.edu/caliper/v9")
    problem = assert_problem(await post_raw(http, json.dumps(body).encode()), 400)
    assert problem["path"] == "$.data"


async def test_nothing_of_a_400_body_is_stored(http: httpx.AsyncClient) -> None:
    body = [envelope(event("a"), {"id": "p", "type": "Person"}, event("b", action=None)), 7]
    assert_problem(await post_raw(http, json.dumps(body).encode()), 400)
    store = store_of(http)
    assert [await count(store, table) for table in (EVENTS, REJECTED, DESCRIPTIONS)] == [0, 0, 0]


# --- 422 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (
            envelope(event("a"), dataVersion="http://purl.imsglobal.org/ctx/caliper/v2"),
            "$.dataVersion",
        ),
        ([envelope(event("a")), envelope(event("b"), dataVersion="1.1")], "$[1].dataVersion"),
        (envelope(event("a"), dataVersion=1.1), "$.dataVersion"),
    ],
)
async def test_422_for_an_unknown_data_version(
    http: httpx.AsyncClient, body: Any, path: str
) -> None:
    problem = assert_problem(await post_raw(http, json.dumps(body).encode()), 422)
    assert problem["path"] == path
    assert problem["supported"] == SUPPORTED
    assert await count(store_of(http)) == 0


@pytest.mark.parametrize("version", [None, *SUPPORTED])
async def test_supported_data_versions_are_stored(
    http: httpx.AsyncClient, version: str | None
) -> None:
    body = envelope(event("a"))
    if version is None:
        del body["dataVersion"]
    else:
        body["dataVersion"] = version
    response = await http.post("/caliper", json=body, headers=AUTH)
    assert response.json() == answer(appended=1)


# --- 200 ----------------------------------------------------------------------------------


async def test_200_answers_exactly_the_counts(client: httpx.AsyncClient) -> None:
    response = await client.post("/caliper", json=envelope(event("a"), event("b")), headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "appended": 2,
        "duplicates": 0,
        "conflicts": 0,
        "rejected": [],
        "entities": 0,
    }


async def test_the_three_shapes_are_stored(client: httpx.AsyncClient) -> None:
    shapes = [
        (envelope(event("e1"), event("e2")), 2),
        ([envelope(event("a1")), envelope(event("a2"), event("a3"))], 3),
        ([event("v1"), event("v2")], 2),
        (event("bare"), 1),
    ]
    for body, appended in shapes:
        response = await client.post("/caliper", json=body, headers=AUTH)
        assert response.json() == answer(appended=appended)
    assert await stored_ids(client) == [
        f"urn:uuid:{name}" for name in ("e1", "e2", "a1", "a2", "a3", "v1", "v2", "bare")
    ]


async def test_the_event_is_stored_exactly_as_sent(client: httpx.AsyncClient) -> None:
    data = (
        b'{"sensor":"s","data":[{"type":"GradeEvent","id":"urn:uuid:x","action":"Graded",'
        b'"eventTime":"2021-01-04T12:59:47.248Z","actor":"urn:actor","object":"urn:object",'
        b'"generated":{"scoreGiven":20.0,"maxScore":0,"big":123456789012345678901234567890,'
        b'"text":"caf\\u00e9 \\ud83d\\ude00","none":null}}]}'
    )
    assert (await post_raw(client, data)).json() == answer(appended=1)
    (row,) = await rows(store_of(client), EVENTS)
    sent = json.loads(data)["data"][0]
    stored = json.loads(row["raw"])
    assert stored == sent
    assert list(stored) == list(sent)
    assert list(stored["generated"]) == list(sent["generated"])
    assert isinstance(stored["generated"]["scoreGiven"], float)
    assert isinstance(stored["generated"]["maxScore"], int)
    assert stored["generated"]["big"] == 123456789012345678901234567890
    assert (row["type"], row["action"], row["event_id"]) == ("GradeEvent", "Graded", "urn:uuid:x")
    assert (row["actor_id"], row["object_id"]) == ("urn:actor", "urn:object")


async def test_each_event_keeps_its_envelopes_sensor(client: httpx.AsyncClient) -> None:
    body = [
        envelope(event("a"), sensor="urn:sensor:one"),
        envelope(event("b"), sensor="urn:sensor:two"),
    ]
    assert (await client.post("/caliper", json=body, headers=AUTH)).json() == answer(appended=2)
    assert (await client.post("/caliper", json=event("c"), headers=AUTH)).json() == answer(
        appended=1
    )
    stored = await rows(store_of(client), EVENTS)
    assert [(row["event_id"], row["sensor"]) for row in stored] == [
        ("urn:uuid:a", "urn:sensor:one"),
        ("urn:uuid:b", "urn:sensor:two"),
        ("urn:uuid:c", None),
    ]


async def test_a_replayed_envelope_appends_nothing(client: httpx.AsyncClient) -> None:
    body = envelope(event("a"), event("b"), event("c"))
    first = await client.post("/caliper", json=body, headers=AUTH)
    assert first.json() == answer(appended=3)
    again = await client.post("/caliper", json=body, headers=AUTH)
    assert again.json() == answer(duplicates=3)
    # Key order and whitespace do not make another event; nor does 20 for 20.0.
    reordered = json.dumps(
        {key: value for key, value in reversed(list(envelope(event("a")).items()))}, indent=4
    ).replace("20.0", "20")
    third = await post_raw(client, reordered.encode())
    assert third.json() == answer(duplicates=1)
    assert await stored_ids(client) == ["urn:uuid:a", "urn:uuid:b", "urn:uuid:c"]


async def test_the_same_id_with_other_content_is_stored_as_a_conflict(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.post("/caliper", json=envelope(event("a")), headers=AUTH)).json() == (
        answer(appended=1)
    )
    changed = event("a", eventTime="2021-01-05T00:00:00.000Z")
    response = await client.post("/caliper", json=envelope(changed, event("b")), headers=AUTH)
    assert response.json() == answer(appended=2, conflicts=1)
    stored = await rows(store_of(client), EVENTS)
    assert [row["event_id"] for row in stored] == ["urn:uuid:a", "urn:uuid:a", "urn:uuid:b"]
    assert json.loads(stored[1]["raw"]) == changed
    # Within one request too: the second of two events sharing an id is the conflict.
    twins = envelope(event("t"), event("t", action="Modified"))
    assert (await client.post("/caliper", json=twins, headers=AUTH)).json() == answer(
        appended=2, conflicts=1
    )


async def test_one_bad_item_never_fails_its_envelope(client: httpx.AsyncClient) -> None:
    body = envelope(
        event("good-0"),
        event("no-action", action=None),
        event("good-1"),
        event("bad-time", eventTime="2021-13-45T99:00:00Z"),
        42,
        event("good-2"),
    )
    response = await client.post("/caliper", json=body, headers=AUTH)
    assert response.status_code == 200
    assert response.json() == answer(
        appended=3,
        rejected=[
            {"path": "$.data[1]", "reason": "event has no `action`"},
            {
                "path": "$.data[3]",
                "reason": "`eventTime` '2021-13-45T99:00:00Z' is not an ISO-8601 time",
            },
            {"path": "$.data[4]", "reason": "expected an event object, found a number"},
        ],
    )
    assert await stored_ids(client) == ["urn:uuid:good-0", "urn:uuid:good-1", "urn:uuid:good-2"]
    kept = await rows(store_of(client), REJECTED)
    assert [(row["path"], row["reason"]) for row in kept] == [
        ("$.data[1]", "event has no `action`"),
        ("$.data[3]", "`eventTime` '2021-13-45T99:00:00Z' is not an ISO-8601 time"),
        ("$.data[4]", "expected an event object, found a number"),
    ]
    assert [json.loads(row["raw"]) for row in kept] == [body["data"][1], body["data"][3], 42]


async def test_rejected_items_in_an_array_of_envelopes_name_the_envelope(
    client: httpx.AsyncClient,
) -> None:
    body = [envelope(event("a")), envelope(event("b", actor=None))]
    response = await client.post("/caliper", json=body, headers=AUTH)
    assert response.json() == answer(
        appended=1, rejected=[{"path": "$[1].data[0]", "reason": "event has no `actor`"}]
    )


async def test_entity_descriptions_are_counted_and_kept(client: httpx.AsyncClient) -> None:
    person = {"id": f"{SITE}/users/u1", "type": "Person", "name": "Jo"}
    membership = {
        "@id": f"{SITE}/courses/c1/members/u1",
        "@type": "http://purl.imsglobal.org/caliper/v1/lis/Membership",
    }
    body = envelope(person, event("a"), membership)
    response = await client.post("/caliper", json=body, headers=AUTH)
    assert response.json() == answer(appended=1, entities=2)
    kept = await rows(store_of(client), DESCRIPTIONS)
    assert [(row["entity_id"], row["entity_type"]) for row in kept] == [
        (f"{SITE}/users/u1", "Person"),
        (f"{SITE}/courses/c1/members/u1", "Membership"),
    ]
    assert json.loads(kept[0]["raw"]) == person
    again = await client.post("/caliper", json=body, headers=AUTH)
    assert again.json() == answer(duplicates=1, entities=2)
    assert await count(store_of(client), DESCRIPTIONS) == 2


async def test_a_failed_append_stores_nothing_and_answers_5xx(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the disk is gone")

    # The events are inserted by then; the transaction must take them back.
    monkeypatch.setattr("store.append._append_side_items", fail)
    body = envelope(event("a"), event("b", action=None))
    response = await client.post("/caliper", json=body, headers=AUTH)
    assert_problem(response, 503)
    assert await count(store_of(client)) == 0
    monkeypatch.undo()
    assert (await client.post("/caliper", json=body, headers=AUTH)).json()["appended"] == 1


# --- GET ----------------------------------------------------------------------------------


async def test_get_describes_the_endpoint(http: httpx.AsyncClient) -> None:
    response = await http.get("/caliper", headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {
        "caliper_supported_versions": SUPPORTED,
        "caliper_maximum_payload_size": 10240,
    }
    assert_problem(await http.get("/caliper"), 401)
    assert_problem(await http.get("/caliper", headers={"authorization": "Bearer x"}), 401)


async def test_get_reports_the_configured_limit(small_http: httpx.AsyncClient) -> None:
    response = await small_http.get("/caliper", headers={"authorization": INGEST_TOKEN})
    assert response.json()["caliper_maximum_payload_size"] == LIMIT // 1024


# --- concurrent senders over real HTTP ----------------------------------------------------------


async def test_concurrent_posts_lose_and_duplicate_nothing(
    live_server: LiveServer, database_url: str
) -> None:
    senders = 24
    per_request = 5
    bodies = [
        envelope(*(event(f"s{sender}-{i}") for i in range(per_request)), sensor=f"sensor-{sender}")
        for sender in range(senders)
    ]
    replayed = bodies[:6]  # sent twice, at the same time as everything else
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as http:
        responses = await asyncio.gather(
            *(http.post("/caliper", json=body, headers=AUTH) for body in bodies + replayed)
        )
        assert [response.status_code for response in responses] == [200] * (senders + 6)
        answers = [response.json() for response in responses]
        assert sum(a["appended"] for a in answers) == senders * per_request
        assert sum(a["duplicates"] for a in answers) == 6 * per_request
        assert all(a["conflicts"] == 0 and a["rejected"] == [] for a in answers)
        # Each envelope was appended whole by one request: 5 or 0, never a split.
        assert sorted(a["appended"] for a in answers) == [0] * 6 + [per_request] * senders

    store = create_store(database_url)
    try:
        stored = await rows(store, EVENTS)
    finally:
        await store.close()
    ids = [row["event_id"] for row in stored]
    assert sorted(ids) == sorted(
        f"urn:uuid:s{sender}-{i}" for sender in range(senders) for i in range(per_request)
    )
    assert [row["position"] for row in stored] == list(range(1, senders * per_request + 1))
    # One request's events are stored together, in their order.
    for sender in range(senders):
        positions = [
            row["position"] for row in stored if row["event_id"].startswith(f"urn:uuid:s{sender}-")
        ]
        assert positions == list(range(positions[0], positions[0] + per_request))
        in_order = [row["event_id"] for row in stored if row["position"] in positions]
        assert in_order == [f"urn:uuid:s{sender}-{i}" for i in range(per_request)]
