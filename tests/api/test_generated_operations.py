"""Schemathesis generates GraphQL operations from the served schema and sends them to
/graphql over real HTTP: no answer may be a server error, and every error must carry a
code."""

from __future__ import annotations

import time

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from tests.api.factories import envelope, grade_event, group_event
from tests.conftest import INGEST_TOKEN, LiveServer, make_settings

OPERATIONS = 2_000


@pytest.mark.slow
def test_generated_operations_get_no_server_error_and_only_coded_errors(sqlite_url: str) -> None:
    # SQLite only: 2,000 operations take about two minutes on a small machine, and the
    # store-facing checks (cursors, unavailable database) run on both backends elsewhere.
    with LiveServer(make_settings(sqlite_url)) as server:
        events = [
            grade_event("g", "GEN-101", "_i1_1", f"_a{i}_1", f"s{i}", i, "2026-04-01T10:00:00Z")
            for i in range(5)
        ]
        events.append(group_event("g", "GEN-101", "_g1_1", "Group", ["s1"], "2026-04-01T09:00:00Z"))
        answer = httpx.post(
            f"{server.url}/caliper", json=envelope(events), headers={"authorization": INGEST_TOKEN}
        )
        assert answer.status_code == 200
        schema = schemathesis.graphql.from_url(f"{server.url}/graphql")
        session = requests.Session()
        sent: list[int] = []
        codes: dict[str, int] = {}

        @settings(
            max_examples=OPERATIONS,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=schema.as_strategy())
        def check(case: schemathesis.Case) -> None:
            response = case.call(session=session, timeout=30)
            sent.append(response.status_code)
            assert response.status_code < 500, (case.body, response.text[:500])
            body = response.json()
            for error in body.get("errors", []):
                code = (error.get("extensions") or {}).get("code")
                assert code, (case.body, error)
                codes[code] = codes.get(code, 0) + 1

        started = time.monotonic()
        check()
        assert len(sent) >= OPERATIONS
        assert time.monotonic() - started < 240
        assert "INTERNAL_SERVER_ERROR" not in codes, codes
