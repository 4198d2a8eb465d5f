"""The dashboard in a real headless Chromium with no internet, on the demo semester: the
picker lists the courses, a course's charts draw (canvas pixels, not an empty box), the
table marks inactive people, a POSTed event arrives through the subscription and the
page's numbers include it; with API tokens the page asks for one. Plus the routes'
rules over in-process HTTP. Screenshots land in test-artifacts/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from app.api.dashboard import CHART_JS
from seed.loader import demo_truth
from seed.truth import participants_of
from tests.api.factories import envelope
from tests.browser import DevTools, seed_demo
from tests.conftest import INGEST_TOKEN, LiveServer, make_settings

API_TOKEN = "dashboard-api-token"

# Non-blank pixels of a canvas: something was drawn on it.
DRAWN = """((selector) => {
  const canvases = [...document.querySelectorAll(selector)];
  return canvases.length > 0 && canvases.every((canvas) => {
    const { width, height } = canvas;
    if (!width || !height) return false;
    const pixels = canvas.getContext('2d').getImageData(0, 0, width, height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
    return painted > 200;
  });
})"""


def _drawn(devtools: DevTools, selector: str) -> bool:
    return bool(devtools.evaluate(f"{DRAWN}({json.dumps(selector)})"))


def _state(devtools: DevTools) -> dict[str, Any]:
    return dict(devtools.evaluate("JSON.parse(JSON.stringify(window.dashboard))"))


def _assert_offline(devtools: DevTools, server: LiveServer) -> None:
    elsewhere = [
        url
        for url in devtools.requested_urls()
        if not url.startswith((server.url, "data:", "about:", "blob:", "ws://127.0.0.1"))
    ]
    assert not elsewhere, f"the dashboard asked for something beyond the server: {elsewhere}"


# --- without a browser -------------------------------------------------------------------


async def test_routes(client: httpx.AsyncClient) -> None:
    page = await client.get("/dashboard")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    config = page.text.split('type="application/json">', 1)[1].split("</script>", 1)[0]
    operations = json.loads(config)["operations"]
    assert set(operations) == {"CourseActivity", "AtRiskStudents", "ItemStatistics"}
    assert "query AtRiskStudents" in operations["AtRiskStudents"]
    script = await client.get("/dashboard/dashboard.js")
    assert script.status_code == 200 and "graphql-transport-ws" in script.text
    assert (await client.get("/dashboard/dashboard.html")).status_code == 404
    assert (await client.get("/dashboard/assets/chart.js/package.json")).status_code == 404
    chart = await client.get(f"/dashboard/assets/{CHART_JS}")
    if chart.status_code == 200:  # installed by `make assets`
        assert chart.headers["content-type"].startswith("text/javascript")
    else:
        assert "make assets" in chart.text


# --- headless Chromium --------------------------------------------------------------------


@pytest.mark.browser
def test_dashboard_draws_the_semester_and_follows_new_events(
    browser: DevTools, installed_assets: Path, sqlite_url: str
) -> None:
    browser.failure_screenshot = "dashboard-failure.png"
    seed_demo(sqlite_url)
    truth = demo_truth()
    course = truth.course_by_number("BIO-101-F26")
    settings = make_settings(sqlite_url, graphiql_assets_dir=installed_assets)
    with LiveServer(settings) as server:
        browser.navigate(f"{server.url}/dashboard")
        browser.wait_for("window.dashboard && window.dashboard.ready", "the course picker")
        cards = browser.evaluate(
            "[...document.querySelectorAll('.course-card')].map(a => a.getAttribute('href'))"
        )
        assert len(cards) == len(truth.courses)
        assert f"/dashboard?course={quote(course.iri, safe='')}" in cards
        browser.screenshot("dashboard-picker.png")

        browser.navigate(f"{server.url}/dashboard?course={quote(course.iri, safe='')}")
        browser.wait_for(
            "window.dashboard && window.dashboard.ready && window.dashboard.live", "the course page"
        )
        assert _drawn(browser, "#activity-chart"), "the activity chart stayed blank"
        assert _drawn(browser, "#views-chart"), "the least-viewed chart stayed blank"
        histograms = browser.evaluate("document.querySelectorAll('.histogram canvas').length")
        assert histograms == len(
            [g for g in truth.gradable_items.values() if g.course_iri == course.iri]
        )
        assert _drawn(browser, ".histogram canvas"), "a score histogram stayed blank"
        rows = browser.evaluate("document.querySelectorAll('#participants tbody tr').length")
        assert rows == len(participants_of(truth, course.iri))
        assert browser.evaluate("document.querySelectorAll('#participants tr.inactive').length") > 0
        browser.screenshot("dashboard-course.png")
        before = _state(browser)
        events_before = sum(p["events"] for p in before["data"]["course"]["activity"])

        # Sort by events, most first: the table follows the header.
        browser.click('#participants th[data-key="eventCount"]')
        counts = browser.evaluate(
            "[...document.querySelectorAll('#participants tbody tr td:nth-child(4)')]"
            ".map(td => Number(td.textContent.replace(/\\D/g, '')))"
        )
        assert counts == sorted(counts, reverse=True)

        # A new event of the course arrives through the subscription: the page refreshes
        # and its figures include it.
        newcomer = {
            "id": f"{truth.site_iri}/users/dashboard-newcomer",
            "type": "Person",
            "extensions": {"bb:user.id": "_99999_1", "bb:user.externalId": "newcomer"},
        }
        event = {
            "@context": "http://purl.imsglobal.org/ctx/caliper/v1p1",
            "id": "urn:uuid:0d6f7c1e-5a52-4a4b-9c3e-d45b2b7f0a11",
            "type": "ViewEvent",
            "actor": newcomer,
            "action": "Viewed",
            "object": {"id": f"{truth.site_iri}/content/dashboard-test", "type": "Document"},
            "eventTime": "2026-12-20T12:00:00.000Z",
            "group": {"id": course.iri, "type": "CourseOffering"},
            "membership": {
                "id": f"{course.iri}/members/newcomer",
                "type": "Membership",
                "member": newcomer,
                "organization": {"id": course.iri, "type": "CourseOffering"},
                "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
            },
        }
        posted = httpx.post(
            f"{server.url}/caliper",
            json=envelope([event]),
            headers={"authorization": f"Bearer {INGEST_TOKEN}"},
            timeout=30,
        )
        assert posted.status_code == 200 and posted.json()["appended"] == 1, posted.text
        browser.wait_for(
            f"window.dashboard.refreshes > {before['refreshes']}", "a refresh after the event"
        )
        after = _state(browser)
        assert after["eventsSeen"] >= 1
        assert sum(p["events"] for p in after["data"]["course"]["activity"]) == events_before + 1
        ids = [p["person"]["id"] for p in after["data"]["participants"]]
        assert newcomer["id"] in ids and len(ids) == rows + 1
        browser.wait_for(
            "[...document.querySelectorAll('#participants td')].some(td => "
            "td.textContent.includes('newcomer'))",
            "the newcomer in the table",
        )
        browser.screenshot("dashboard-after-event.png")
        assert not browser.page_errors()
        _assert_offline(browser, server)


@pytest.mark.browser
def test_with_api_tokens_the_dashboard_asks_for_one(
    browser: DevTools, installed_assets: Path, sqlite_url: str
) -> None:
    browser.failure_screenshot = "dashboard-token-failure.png"
    seed_demo(sqlite_url)
    settings = make_settings(
        sqlite_url, graphiql_assets_dir=installed_assets, api_tokens=(API_TOKEN,)
    )
    with LiveServer(settings) as server:
        browser.navigate(f"{server.url}/dashboard")
        browser.wait_for("!document.getElementById('token-form').hidden", "the token form")
        browser.evaluate(f"document.getElementById('token-input').value = {json.dumps(API_TOKEN)}")
        browser.click("#token-form button")
        browser.wait_for("window.dashboard && window.dashboard.ready", "the picker with a token")
        assert browser.evaluate("sessionStorage.getItem('coursegraph.apiToken')") == API_TOKEN
        assert browser.evaluate("document.querySelectorAll('.course-card').length") > 0
        browser.screenshot("dashboard-with-token.png")
