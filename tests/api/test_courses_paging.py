"""`courses` pages in SQL: the order (current courseNumber, then id; no number sorts
as ""), cursors and totalCount are those of the whole sorted list."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.factories import SITE, envelope, view_event
from tests.api.test_graphql_http import gql, post_events

PAGE = """
query ($after: String) {
  courses(first: 4, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    nodes { id courseNumber }
  }
}
"""
# Code-point order differs from a locale's here (case, accents): the cursor must agree.
NUMBERS = ["b-2", "B-1", "É-9", "e-3", "a-1", "a-1", "Z-0", "z-0", "ä", "0-1"]


def unnumbered_view(course: str) -> dict[str, Any]:
    event = view_event(course, "unused", "ann", "page", "2026-09-02T10:00:00.000Z")
    event["group"] = {"id": f"{SITE}/courses/{course}", "type": "CourseOffering"}
    del event["membership"]
    return event


async def test_courses_page_in_number_then_id_order(client: httpx.AsyncClient) -> None:
    events = [
        view_event(f"c{i}", number, "ann", "page", f"2026-09-01T{i:02d}:00:00.000Z")
        for i, number in enumerate(NUMBERS)
    ]
    # A course renumbered later sorts by its current number.
    events.append(view_event("c0", "zz-last", "bob", "page", "2026-09-03T00:00:00.000Z"))
    events.append(unnumbered_view("none"))
    await post_events(client, envelope(events))
    current = {f"{SITE}/courses/c{i}": n for i, n in enumerate(NUMBERS)}
    current[f"{SITE}/courses/c0"] = "zz-last"
    expected = sorted([(n, c) for c, n in current.items()] + [("", f"{SITE}/courses/none")])

    seen: list[tuple[str, str]] = []
    after = None
    pages = 0
    while True:
        found = (await gql(client, PAGE, after=after))["courses"]
        assert found["totalCount"] == len(expected)
        assert found["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [(node["courseNumber"] or "", node["id"]) for node in found["nodes"]]
        pages += 1
        if not found["pageInfo"]["hasNextPage"]:
            break
        after = found["pageInfo"]["endCursor"]
    assert seen == expected
    assert pages == 3
