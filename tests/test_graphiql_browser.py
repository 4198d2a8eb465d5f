"""GraphiQL in a real headless Chromium with no internet, plus the page's and the asset
route's rules checked over in-process HTTP.

Chromium is driven through the DevTools protocol over a websocket (the `websockets`
package the test extras install), so nothing else needs downloading. Every host but
127.0.0.1 resolves to nothing in the browser, which is what proves GraphiQL needs no CDN.
Screenshots land in test-artifacts/ (git-ignored) for CI to keep.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.api import graphiql
from app.api.graphiql import (
    ASSETS,
    CDN_BASE,
    GRAPHIQL_VERSION,
    REACT_VERSION,
    assets_installed,
    operation_tabs,
)
from app.main import create_app
from app.settings import REPO_ROOT
from tests.browser import NODE_MODULES, DevTools, seed_demo
from tests.conftest import LiveServer, make_settings

API_TOKEN = "test-api-token"

# An example operation for the tabs: a named query with a required variable.
EXAMPLE_OPERATION = """\
query CourseByNumber($courseNumber: String!, $asOf: DateTime!, $first: Int! = 10, $after: String) {
  course(courseNumber: $courseNumber, asOf: $asOf) {
    courseNumber
    contentItems(first: $first, after: $after) { totalCount }
  }
}
"""


# --- the page and the asset route, without a browser -------------------------------------


def _fake_assets(folder: Path) -> Path:
    for asset in ASSETS:
        (folder / asset.path).parent.mkdir(parents=True, exist_ok=True)
        (folder / asset.path).write_text(f"/* {asset.path} */")
    (folder / "graphiql" / "package.json").write_text("{}")
    (folder / "secret.txt").write_text("not for browsers")
    return folder


@pytest.fixture
async def page_client(
    sqlite_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[httpx.AsyncClient]:
    overrides: dict[str, Any] = dict(getattr(request, "param", {}))
    assets = overrides.pop("assets", True)
    assets_dir = tmp_path / "node_modules"
    assets_dir.mkdir()
    if assets:
        _fake_assets(assets_dir)
    app = create_app(make_settings(sqlite_url, graphiql_assets_dir=assets_dir, **overrides))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def _page(http: httpx.AsyncClient) -> str:
    response = await http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response.text


async def test_the_page_uses_the_installed_assets(page_client: httpx.AsyncClient) -> None:
    page = await _page(page_client)

    for asset in ASSETS:
        assert f"/graphiql/assets/{asset.path}?v={asset.version}" in page
    assert CDN_BASE not in page
    assert "graphiql-assets-notice" not in page
    assert "query Courses" in page


@pytest.mark.parametrize("page_client", [{"assets": False}], indirect=True)
async def test_without_assets_the_page_uses_the_cdn_and_says_how_to_install_them(
    page_client: httpx.AsyncClient,
) -> None:
    page = await _page(page_client)

    for asset in ASSETS:
        assert f'{CDN_BASE}/{asset.package}@{asset.version}/{asset.file}"' in page
        assert f'integrity="{asset.integrity}"' in page
    assert "graphiql-assets-notice" in page
    assert "<code>make assets</code>" in page
    assert "/graphiql/assets/" not in page


async def test_the_asset_route_serves_only_the_bundles(page_client: httpx.AsyncClient) -> None:
    served = await page_client.get("/graphiql/assets/graphiql/graphiql.min.js")
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("text/javascript")
    assert served.text == "/* graphiql/graphiql.min.js */"
    assert (
        (await page_client.get("/graphiql/assets/graphiql/graphiql.min.css"))
        .headers["content-type"]
        .startswith("text/css")
    )

    for path in ("graphiql/package.json", "secret.txt", "../secret.txt", "%2e%2e/secret.txt"):
        refused = await page_client.get(f"/graphiql/assets/{path}")
        assert refused.status_code == 404, path


@pytest.mark.parametrize("page_client", [{"assets": False}], indirect=True)
async def test_a_missing_bundle_is_a_404_that_says_make_assets(
    page_client: httpx.AsyncClient,
) -> None:
    missing = await page_client.get("/graphiql/assets/react/umd/react.production.min.js")

    assert missing.status_code == 404
    assert "make assets" in missing.text


@pytest.mark.parametrize("page_client", [{"api_tokens": (API_TOKEN,)}], indirect=True)
async def test_with_api_tokens_the_page_opens_and_offers_the_header(
    page_client: httpx.AsyncClient,
) -> None:
    page = await _page(page_client)  # no token needed for the page itself

    assert "Bearer <one of COURSEGRAPH_API_TOKENS>" in page.replace("\\u003c", "<").replace(
        "\\u003e", ">"
    )
    refused = await page_client.post("/graphql", json={"query": "{ courses { totalCount } }"})
    assert refused.status_code == 401


@pytest.mark.parametrize("page_client", [{"graphiql": False}], indirect=True)
async def test_graphiql_off_serves_no_assets(page_client: httpx.AsyncClient) -> None:
    response = await page_client.get("/graphiql/assets/graphiql/graphiql.min.js")

    assert response.status_code == 404


def test_example_operations_become_tabs(tmp_path: Path) -> None:
    (tmp_path / "B.graphql").write_text(EXAMPLE_OPERATION)
    (tmp_path / "A.graphql").write_text("{ courses { totalCount } }")
    (tmp_path / "broken.graphql").write_text("query Broken($x: { }")
    (tmp_path / "notes.md").write_text("not an operation")
    operation_tabs.cache_clear()

    tabs = operation_tabs(tmp_path)

    assert [tab["query"] for tab in tabs] == [
        "{ courses { totalCount } }",
        EXAMPLE_OPERATION,
        "query Broken($x: { }",
    ]
    assert "variables" not in tabs[0]
    # Only what the operation cannot run without: $first has a default, $after may be null.
    variables = json.loads(tabs[1]["variables"])
    assert set(variables) == {"courseNumber", "asOf"}
    assert variables["courseNumber"] == ""
    assert datetime.fromisoformat(variables["asOf"]).tzinfo is not None
    assert "variables" not in tabs[2]  # GraphiQL shows the syntax error itself
    assert operation_tabs(tmp_path / "missing") == ()


def test_the_page_json_cannot_close_its_script(monkeypatch: pytest.MonkeyPatch) -> None:
    tricky = "</script><script>alert(1)</script>"
    monkeypatch.setattr(graphiql, "DEFAULT_QUERY", f"# {tricky}\n{{ courses {{ totalCount }} }}")

    page = graphiql.render_page(make_settings("sqlite+aiosqlite:///unused.db"))

    assert tricky not in page


def test_pins_match_package_json() -> None:
    pins = json.loads((REPO_ROOT / "package.json").read_text())["dependencies"]

    assert pins["graphiql"] == GRAPHIQL_VERSION
    assert pins["react"] == pins["react-dom"] == REACT_VERSION


def test_cdn_integrity_matches_the_installed_files() -> None:
    """The CDN serves the npm tarballs' files byte for byte: what npm installed must hash to
    the integrity the page demands, or the CDN fallback would refuse to run."""
    if not assets_installed(NODE_MODULES):
        pytest.skip("GraphiQL's assets are not in node_modules/: run `make assets`")
    for asset in ASSETS:
        digest = hashlib.sha384((NODE_MODULES / asset.path).read_bytes()).digest()
        assert asset.integrity == "sha384-" + base64.b64encode(digest).decode(), asset.path
        installed = json.loads((NODE_MODULES / asset.package / "package.json").read_text())
        assert installed["version"] == asset.version, asset.package


# --- headless Chromium -------------------------------------------------------------------


@pytest.fixture
def operations_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An example operation in place of graphql/operations/ (read when the app is built)."""
    folder = tmp_path / "operations"
    folder.mkdir()
    (folder / "CourseByNumber.graphql").write_text(EXAMPLE_OPERATION)
    monkeypatch.setattr(graphiql, "OPERATIONS_DIR", folder)
    return folder


def _result(devtools: DevTools) -> dict[str, Any]:
    """The result pane's JSON once GraphiQL has put one there."""
    text = devtools.wait_for(
        """(() => {
            const editor = document.querySelector('.result-window .CodeMirror');
            const text = editor && editor.CodeMirror.getValue();
            return text && text.trim().startsWith('{') ? text : null;
        })()""",
        "a result in the result pane",
    )
    return dict(json.loads(text))


def _assert_offline(devtools: DevTools, server: LiveServer) -> None:
    elsewhere = [
        url
        for url in devtools.requested_urls()
        if not url.startswith((server.url, "data:", "about:", "blob:", "ws://127.0.0.1"))
    ]
    assert not elsewhere, f"GraphiQL asked for something beyond the server: {elsewhere}"


@pytest.mark.browser
def test_graphiql_runs_the_default_query_offline(
    browser: DevTools, installed_assets: Path, sqlite_url: str, operations_dir: Path
) -> None:
    seed_demo(sqlite_url)
    settings = make_settings(sqlite_url, graphiql_assets_dir=installed_assets)
    with LiveServer(settings) as server:
        browser.navigate(f"{server.url}/graphql")

        query = browser.wait_for(
            """(() => {
                const editor = document.querySelector('.graphiql-query-editor .CodeMirror');
                return editor && editor.CodeMirror.getValue();
            })()""",
            "GraphiQL's query editor",
        )
        assert "courses(first: 5)" in query
        browser.click(".graphiql-execute-button")
        result = _result(browser)
        browser.screenshot("graphiql.png")

        assert "errors" not in result, result
        courses = result["data"]["courses"]["nodes"]
        assert courses, result
        assert any(course["courseNumber"] for course in courses), courses
        assert {"groups", "contentItems"} <= set(courses[0])
        assert browser.evaluate("!document.getElementById('graphiql-assets-notice')")

        # The example operation is a second tab, named after its operation.
        titles = browser.wait_for(
            "Array.from(document.querySelectorAll('.graphiql-tab-button')).map(t => t.textContent)",
            "the tabs",
        )
        assert [title.strip() for title in titles] == ["Courses", "CourseByNumber"]

        # The header editor is there for `Authorization: Bearer …`.
        assert browser.evaluate(
            "Array.from(document.querySelectorAll('.graphiql-editor-tools button'))"
            ".some(b => b.textContent.trim() === 'Headers')"
        )

        # The schema's docs open from the sidebar, read by introspection.
        browser.click('.graphiql-sidebar button[aria-label="Show Documentation Explorer"]')
        browser.wait_for(
            "document.querySelector('.graphiql-doc-explorer')?.textContent.includes('Query')",
            "the documentation explorer",
        )
        browser.click(".graphiql-doc-explorer a.graphiql-doc-explorer-type-name")
        browser.wait_for(
            "document.querySelector('.graphiql-doc-explorer')?.textContent.includes('courses')",
            "the Query type's fields in the docs",
        )
        browser.screenshot("graphiql-docs.png")

        _assert_offline(browser, server)
        assert not browser.page_errors()
        assert browser.evaluate("window.cspViolations") == []

        # The policy is in force: an inline script without the page's nonce does not run.
        ran = browser.evaluate(
            """(() => {
                const script = document.createElement('script');
                script.textContent = 'window.injected = true';
                document.body.appendChild(script);
                return window.injected === true;
            })()"""
        )
        assert ran is False
        assert browser.wait_for("window.cspViolations.length", "the violation report") == 1


@pytest.mark.browser
def test_graphiql_sends_the_header_editor_token(
    browser: DevTools, installed_assets: Path, sqlite_url: str
) -> None:
    seed_demo(sqlite_url)
    settings = make_settings(
        sqlite_url, graphiql_assets_dir=installed_assets, api_tokens=(API_TOKEN,)
    )
    with LiveServer(settings) as server:
        browser.navigate(f"{server.url}/graphql")
        # With tokens the header editor opens (the visible one of the two editor tools),
        # holding the header to complete.
        header_editor = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
        headers = browser.wait_for(
            f"document.querySelector({header_editor!r})?.CodeMirror.getValue()",
            "the header editor",
        )
        assert "Bearer <one of COURSEGRAPH_API_TOKENS>" in headers
        # This server reads the real graphql/operations/: one tab per file after Courses.
        tabs = browser.evaluate("document.querySelectorAll('.graphiql-tab-button').length")
        assert tabs == 1 + len(operation_tabs(graphiql.OPERATIONS_DIR))
        assert (
            browser.evaluate(
                "document.querySelector('.graphiql-editor-tools button.active')?.textContent"
            )
            == "Headers"
        )
        token = json.dumps({"Authorization": f"Bearer {API_TOKEN}"})
        browser.evaluate(
            f"document.querySelector({header_editor!r}).CodeMirror.setValue({json.dumps(token)})"
        )
        browser.click(".graphiql-execute-button")
        result = _result(browser)
        browser.screenshot("graphiql-token.png")

        assert "errors" not in result, result
        assert result["data"]["courses"]["nodes"], result
        _assert_offline(browser, server)
        assert browser.evaluate("window.cspViolations") == []


@pytest.mark.browser
def test_without_assets_offline_the_page_says_how_to_install_them(
    browser: DevTools, sqlite_url: str, tmp_path: Path
) -> None:
    empty = tmp_path / "no-node-modules"
    empty.mkdir()
    with LiveServer(make_settings(sqlite_url, graphiql_assets_dir=empty)) as server:
        browser.navigate(f"{server.url}/graphql")

        failure = browser.wait_for(
            "document.querySelector('#graphiql .failure h2')?.textContent",
            "the explanation instead of GraphiQL",
        )
        browser.screenshot("graphiql-no-assets.png")

        assert failure == "GraphiQL could not load"
        text = browser.evaluate("document.body.innerText")
        assert "make assets" in text
        assert f"{CDN_BASE}/react@{REACT_VERSION}/" in text  # the file it could not fetch
        assert browser.evaluate(
            "document.getElementById('graphiql-assets-notice').offsetHeight > 0"
        )
