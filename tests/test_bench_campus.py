"""The campus stream that bench/campus.py measures (issue #10) is what it claims to be:
its Caliper 1.0-style events read as their 1.1 originals, and through POST /caliper into
a real store each distinct event is stored once and every replay counts as a duplicate."""

from __future__ import annotations

import sys
from collections import Counter

import httpx
import orjson

from app.caliper.reader import read_body
from app.settings import REPO_ROOT
from tests.conftest import INGEST_TOKEN

sys.path.insert(0, str(REPO_ROOT / "bench"))
from coursegen import STYLE_10_TYPES, as_caliper_10, campus

AUTH = {"authorization": f"Bearer {INGEST_TOKEN}"}
ENVELOPE_EVENTS = 50


def short_type(event: dict) -> str:
    return str(event.get("type") or event["@type"]).rsplit("/", 1)[-1]


def small_campus() -> list[dict]:
    return list(campus(3_000, 6, special_courses=False).events())


def test_a_caliper_1_0_style_event_reads_as_its_1_1_original() -> None:
    originals = [e for e in campus(3_000, 6, False)._events() if e["type"] in STYLE_10_TYPES]
    assert {e["type"] for e in originals} == set(STYLE_10_TYPES)
    for original in originals[:300]:
        new = read_body([original]).events[0]
        old = read_body([as_caliper_10(original)]).events[0]
        assert old.style != new.style
        assert "id" not in old.raw and old.raw["@type"].startswith("http://purl.imsglobal.org/")
        assert (old.type, old.action, old.event_time_ms) == (
            new.type,
            new.action,
            new.event_time_ms,
        )
        assert (old.actor_id, old.object_id, old.course_id) == (
            new.actor_id,
            new.object_id,
            new.course_id,
        )
        assert sorted((e.kind, e.key) for e in old.entities) == sorted(
            (e.kind, e.key) for e in new.entities
        )


def test_the_stream_mixes_styles_and_replays_as_the_bench_says() -> None:
    lines = small_campus()
    distinct = {orjson.dumps(event) for event in lines}
    replays = len(lines) - len(distinct)
    assert 0.02 * len(lines) <= replays <= 0.09 * len(lines)
    styles = Counter("@type" in event for event in lines)
    assert styles[True] > 0 and styles[False] > 0
    kinds = Counter(short_type(event) for event in lines)
    busy = kinds["SessionEvent"] + kinds["ViewEvent"] + kinds["NavigationEvent"]
    assert kinds["GradeEvent"] and kinds["CalculatedGradeSnapshotEvent"] and busy


async def test_posted_campus_stream_stores_each_event_once(client: httpx.AsyncClient) -> None:
    lines = small_campus()
    distinct = {orjson.dumps(event): event for event in lines}
    totals: Counter[str] = Counter()
    for start in range(0, len(lines), ENVELOPE_EVENTS):
        body = {"sensor": "bench", "data": lines[start : start + ENVELOPE_EVENTS]}
        response = await client.post("/caliper", json=body, headers=AUTH)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["rejected"] == [] and answer["conflicts"] == 0
        totals.update(appended=answer["appended"], duplicates=answer["duplicates"])
    assert totals["appended"] == len(distinct)
    assert totals["duplicates"] == len(lines) - len(distinct)

    navigation = sum(short_type(e) == "NavigationEvent" for e in distinct.values())
    query = '{ events(filter: {type: "NavigationEvent"}, first: 1) { totalCount } }'
    response = await client.post("/graphql", json={"query": query})
    assert response.json() == {"data": {"events": {"totalCount": navigation}}}
    assert navigation > 0
